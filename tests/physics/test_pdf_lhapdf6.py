"""The LHAPDF6 reader, log-bicubic interpolation and extrapolation rules, on the analytic toy
set in tests/data/pdf/HepflowToy (written by make_toy_set.py; exact values known everywhere)."""

from __future__ import annotations

import importlib.util
import math
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from hepflow.physics.pdf import (
    ALL_PIDS,
    PDFError,
    PDFFormatError,
    PDFNotFoundError,
    PDFRangeError,
    load_pdf,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "pdf"
sys.path.insert(0, str(DATA))
import make_toy_set as toy  # noqa: E402

F64 = torch.float64


def t64(v) -> torch.Tensor:
    return torch.as_tensor(np.asarray(v, dtype=np.float64))


def rel_err(got: torch.Tensor, want: np.ndarray) -> float:
    want = np.asarray(want)
    return float(np.max(np.abs(got.numpy() - want) / np.abs(want)))


@pytest.fixture(scope="module")
def pdf():
    return load_pdf("HepflowToy", path=DATA)


def _random_points(n: int, x_lo: float, x_hi: float, q2_lo: float, q2_hi: float, seed: int):
    g = torch.Generator().manual_seed(seed)
    lx = torch.rand(n, generator=g, dtype=F64) * math.log(x_hi / x_lo) + math.log(x_lo)
    lq = torch.rand(n, generator=g, dtype=F64) * math.log(q2_hi / q2_lo) + math.log(q2_lo)
    return lx.exp(), lq.exp()


def test_reads_metadata(pdf):
    assert pdf.name == "HepflowToy" and pdf.lhapdf_id == 999990 and pdf.order_qcd == 0
    assert pdf.flavors == (-3, -2, -1, 1, 2, 3, 21)
    assert (pdf.x_min, pdf.x_max, pdf.q_min, pdf.q_max) == pytest.approx(
        (1e-6, 1.0, 1.0, 1e4), rel=1e-14
    )


def test_values_at_every_node_are_the_tabulated_ones(pdf):
    xs, qsubs = toy.knots()
    for qs in qsubs:
        X, Q = np.meshgrid(xs, qs, indexing="ij")
        x, q2 = t64(X.ravel()), t64((Q * Q).ravel())
        allf = pdf.xfxQ2_all(x, q2)
        for pid in toy.PIDS:
            want = toy.toy_xf(pid, X.ravel(), (Q * Q).ravel())
            got = allf[:, ALL_PIDS.index(0 if pid == 21 else pid)].numpy()
            # the file holds 11 significant digits
            assert np.all(np.abs(got - want) <= 6e-11 * np.abs(want) + 1e-300), pid


def test_missing_flavours_are_zero_and_gluon_has_two_names(pdf):
    x, q2 = _random_points(100, 1e-5, 0.9, 2.0, 1e6, seed=1)
    for pid in (-6, -5, -4, 4, 5, 6, 22):
        assert torch.equal(pdf.xfxQ2(pid, x, q2), torch.zeros_like(x))
    assert torch.equal(pdf.xfxQ2(0, x, q2), pdf.xfxQ2(21, x, q2))
    pids = torch.tensor([(-6, 21, 0, 2, 5, -3)[i % 6] for i in range(100)])
    allf = pdf.xfxQ2_all(x, q2)
    col = torch.where(pids == 21, 0, pids) + 6
    assert torch.equal(pdf.xfxQ2(pids, x, q2), allf.gather(1, col.unsqueeze(-1)).squeeze(-1))


def test_linear_in_logx_and_logq2_is_reproduced_exactly(pdf):
    """Hermite with LHAPDF's finite-difference slopes is exact for a function linear in ln x and
    ln Q^2 (toy s quark), in every cell including the grid edges and both subgrids."""
    x, q2 = _random_points(5000, 1e-6, 1.0, 1.0, 1e8, seed=2)
    assert rel_err(pdf.xfxQ2(3, x, q2), toy.toy_xf(3, x.numpy(), q2.numpy())) < 1e-10


def test_smooth_function_converges_at_the_bicubic_rate(tmp_path):
    """Max error for x·f = N x^a (1-x)^b (1 + c L) on x in [x_2, 0.1]: halving the log-x spacing
    divides it by ~8 (third order: cubic Hermite with second-order finite-difference slopes)
    away from the first x cell, and by ~4 in the first cell (one-sided slope, second order).
    Measured (nx=25 -> 49): interior ratios 7.6-9.3, first-cell ratios ~3.9-4.0."""
    x_int, q2 = _random_points(4000, 10**-5.5, 0.1, 1.0, 1e8, seed=3)
    errs = {}
    for nx, nl, nh in [(25, 5, 9), (49, 9, 17)]:
        p = load_pdf("HepflowToy", path=toy.write_set(tmp_path / str(nx), nx, nl, nh).parent)
        xs = toy.knots(nx)[0]
        x_edge = xs[0] * (xs[1] / xs[0]) ** torch.rand(
            4000, generator=torch.Generator().manual_seed(4), dtype=F64
        )
        errs[nx] = [
            (
                rel_err(p.xfxQ2(pid, x_int, q2), toy.toy_xf(pid, x_int.numpy(), q2.numpy())),
                rel_err(p.xfxQ2(pid, x_edge, q2), toy.toy_xf(pid, x_edge.numpy(), q2.numpy())),
            )
            for pid in (-2, -1, 1, 2, 21)
        ]
    for (coarse_int, coarse_edge), (fine_int, fine_edge) in zip(errs[25], errs[49], strict=True):
        assert coarse_int < 1e-2 and coarse_int / fine_int > 6.5
        assert coarse_edge / fine_edge > 3.5


def test_subgrid_boundary_is_continuous(pdf):
    """At Q = 4.5 GeV (shared knot of the two subgrids) both sides meet the tabulated value."""
    x, _ = _random_points(200, 1e-6, 0.8, 1.0, 2.0, seed=5)
    q2b = 4.5**2
    eps = 1e-9
    below = pdf.xfxQ2_all(x, torch.full_like(x, q2b * (1 - eps)))
    at = pdf.xfxQ2_all(x, torch.full_like(x, q2b))
    above = pdf.xfxQ2_all(x, torch.full_like(x, q2b * (1 + eps)))
    scale = at.abs().clamp_min(1e-12)
    assert ((below - at).abs() / scale).max() < 1e-7 and ((above - at).abs() / scale).max() < 1e-7
    # and x·f is smooth in ln Q^2 there: the one-sided slopes agree to the interpolation error
    h = 1e-3
    lo = pdf.xfxQ2(21, x, torch.full_like(x, q2b * math.exp(-h)))
    hi = pdf.xfxQ2(21, x, torch.full_like(x, q2b * math.exp(h)))
    mid = pdf.xfxQ2(21, x, torch.full_like(x, q2b))
    want_slope = toy.PARAMS[21][3] / (1 + toy.PARAMS[21][3] * math.log(q2b))
    assert ((mid - lo) / h / mid - want_slope).abs().max() < 1e-6
    assert ((hi - mid) / h / mid - want_slope).abs().max() < 1e-6


def _lin(x, xl, xh, yl, yh):
    """LHAPDF's _extrapolateLinear, written out: log-log when both values exceed 1e-3."""
    w = (math.log(x) - math.log(xl)) / (math.log(xh) - math.log(xl))
    if yl > 1e-3 and yh > 1e-3:
        return math.exp(math.log(yl) + w * (math.log(yh) - math.log(yl)))
    return yl + w * (yh - yl)


def test_continuation_extrapolation(pdf):
    """Points outside the grid follow LHAPDF's continuation rules; the anchor values are node
    values or linear-in-ln Q^2 values, so the toy's formula gives them exactly."""
    xs, qsubs = toy.knots()
    x0, x1 = xs[0], xs[1]
    q2min, q2max, q2max1 = 1.0, 1e8, qsubs[1][-2] ** 2
    f = toy.toy_xf
    for pid in (2, -1, 21, 3):
        # small x, Q^2 inside
        x, q2 = 1e-8, 50.0
        want = _lin(x, x0, x1, f(pid, x0, q2), f(pid, x1, q2))
        assert math.isclose(float(pdf.xfxQ2(pid, [x], [q2])), want, rel_tol=1e-9)
        # large Q^2, x at a knot
        x, q2 = xs[10], 1e10
        want = _lin(q2, q2max, q2max1, f(pid, x, q2max), f(pid, x, q2max1))
        assert math.isclose(float(pdf.xfxQ2(pid, [x], [q2])), want, rel_tol=1e-9)
        # both: Q^2 first at x0 and x1, then x
        x, q2 = 1e-7, 1e9
        a = _lin(q2, q2max, q2max1, f(pid, x0, q2max), f(pid, x0, q2max1))
        b = _lin(q2, q2max, q2max1, f(pid, x1, q2max), f(pid, x1, q2max1))
        assert math.isclose(float(pdf.xfxQ2(pid, [x], [q2])), _lin(x, x0, x1, a, b), rel_tol=1e-9)
        # small Q^2: anomalous dimension from f(q2min) and f(1.01 q2min)
        for x in (xs[7], 3e-7):
            q2 = 0.3
            if x < x0:
                fm = _lin(x, x0, x1, f(pid, x0, q2min), f(pid, x1, q2min))
                fm1 = _lin(x, x0, x1, f(pid, x0, 1.01 * q2min), f(pid, x1, 1.01 * q2min))
            else:
                fm, fm1 = f(pid, x, q2min), f(pid, x, 1.01 * q2min)
            anom = max(-2.5, (fm1 - fm) / fm / 0.01) if abs(fm) >= 1e-5 else 1.0
            r = q2 / q2min
            want = fm * r ** (anom * r + 1 - r)
            assert math.isclose(float(pdf.xfxQ2(pid, [x], [q2])), float(want), rel_tol=1e-9)


def test_continuation_below_1e3_is_linear_not_logarithmic(pdf):
    """Where an anchor value is below 1e-3 LHAPDF extrapolates x·f itself, not its log: ubar
    at the second-to-last x knot is 6.5e-4, extrapolated to large Q^2."""
    xs, qsubs = toy.knots()
    x, q2, q2max, q2max1 = xs[-2], 1e12, 1e8, qsubs[1][-2] ** 2
    yl, yh = float(toy.toy_xf(-2, x, q2max)), float(toy.toy_xf(-2, x, q2max1))
    assert yl < 1e-3 and yh < 1e-3
    want = _lin(q2, q2max, q2max1, yl, yh)
    log_branch = math.exp(
        math.log(yl) + (math.log(q2 / q2max) / math.log(q2max1 / q2max)) * math.log(yh / yl)
    )
    assert abs(want / log_branch - 1) > 1e-4  # the two rules differ here, so this tells them apart
    assert math.isclose(float(pdf.xfxQ2(-2, [x], [q2])), want, rel_tol=1e-9)


@pytest.mark.parametrize("rule", ["nearest", "error"])
def test_other_extrapolators(tmp_path, rule):
    p = load_pdf("HepflowToy", path=toy.write_set(tmp_path, extrapolator=rule).parent)
    x = t64([1e-9, 0.3, 0.3])
    q2 = t64([50.0, 0.2, 1e12])
    if rule == "nearest":
        got = p.xfxQ2(21, x, q2)
        want = p.xfxQ2(21, t64([1e-6, 0.3, 0.3]), t64([50.0, 1.0, 1e8]))
        assert torch.equal(got, want)
    else:
        with pytest.raises(PDFRangeError, match="outside the grid"):
            p.xfxQ2(21, x, q2)
        assert p.xfxQ2(21, [0.3], [50.0]).shape == (1,)


def test_bad_points_are_refused(pdf):
    for x, q2 in [
        ([math.nan], [10.0]),
        ([0.1], [math.nan]),
        ([1.2], [10.0]),
        ([-0.1], [10.0]),
        ([0.1], [0.0]),
    ]:
        with pytest.raises(PDFRangeError, match="index 0"):
            pdf.xfxQ2_all(x, q2)


def test_alphas_ipol(pdf):
    qs, vals = toy.alphas_table()
    q = t64(qs)
    # at the knots: the tabulated values (at the 4.5 GeV threshold: the upper subgrid's value)
    got = pdf.alphas_Q2(q * q).numpy()
    want = np.array(vals)
    want[4] = vals[5]
    assert np.allclose(got, want, rtol=1e-14, atol=0)
    # between knots: the 1-loop formula the table came from, to the cubic's accuracy
    for lo, hi, nf, lam in ((1.0, 4.5, 4, 0.25), (4.5, 1e4, 5, 0.2)):
        qq = np.exp(np.linspace(math.log(lo) + 1e-6, math.log(hi) - 1e-6, 400))
        b0 = (33 - 2 * nf) / (12 * math.pi)
        exact = 1 / (b0 * np.log(qq**2 / lam**2))
        # measured: 1.2e-2 just above Q = 1 GeV (steep near Lambda), 4.7e-3 above (coarse knots)
        assert np.max(np.abs(pdf.alphas_Q2(t64(qq**2)).numpy() / exact - 1)) < (
            2e-2 if lo == 1.0 else 1e-2
        )
    # below the table: power law through the first two knots; above: frozen
    p_low = math.log(vals[1] / vals[0]) / math.log(qs[1] ** 2 / qs[0] ** 2)
    assert math.isclose(float(pdf.alphas_Q2([0.25])), vals[0] * 0.25**p_low, rel_tol=1e-13)
    assert float(pdf.alphas_Q2([1e10])) == vals[-1]


def test_lookup_via_environment(monkeypatch):
    monkeypatch.setenv("LHAPDF_DATA_PATH", f"/nonexistent{':'}{DATA}")
    assert load_pdf("HepflowToy").name == "HepflowToy"


def test_missing_set_says_where_it_looked_and_how_to_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("LHAPDF_DATA_PATH", str(tmp_path))
    with pytest.raises(PDFNotFoundError) as err:
        load_pdf("CT18LO")
    msg = str(err.value)
    assert str(tmp_path) in msg and "LHAPDF_DATA_PATH" in msg and "lhapdf install CT18LO" in msg
    with pytest.raises(PDFNotFoundError, match="member 3"):
        load_pdf("HepflowToy", member=3, path=DATA)


def _corrupt(tmp_path: Path, fname: str, lineno: int, text: str) -> Path:
    dst = tmp_path / "HepflowToy"
    shutil.copytree(DATA / "HepflowToy", dst)
    lines = (dst / fname).read_text().splitlines()
    lines[lineno - 1] = text
    (dst / fname).write_text("\n".join(lines) + "\n")
    return tmp_path


@pytest.mark.parametrize(
    ("fname", "lineno", "text", "match"),
    [
        (
            "HepflowToy_0000.dat",
            10,
            "0.1 0.2 abc 0.4 0.5 0.6 0.7",
            r"HepflowToy_0000.dat:10: expected 7 numbers",
        ),
        ("HepflowToy_0000.dat", 20, "0.1 0.2", r"HepflowToy_0000.dat:20: expected 7 finite"),
        ("HepflowToy_0000.dat", 5, "3 2 1", r"HepflowToy_0000.dat:5: Q knots"),
        (
            "HepflowToy_0000.dat",
            6,
            "-3 -2 x 1 2 3 21",
            r"HepflowToy_0000.dat:6: expected a line of integer",
        ),
        ("HepflowToy_0000.dat", 2, "Format: lhagrid2", r"HepflowToy_0000.dat:1: Format 'lhagrid2'"),
        ("HepflowToy.info", 8, "Flavors [1, 2]", r"HepflowToy.info:8: expected 'Key: value'"),
        (
            "HepflowToy.info",
            8,
            "Flavors: [1, 2",
            r"HepflowToy.info:8: list for 'Flavors' is not closed",
        ),
    ],
)
def test_malformed_files_name_file_and_line(tmp_path, fname, lineno, text, match):
    path = _corrupt(tmp_path, fname, lineno, text)
    with pytest.raises(PDFFormatError, match=match):
        load_pdf("HepflowToy", path=path)


def test_truncated_dat(tmp_path):
    dst = tmp_path / "HepflowToy"
    shutil.copytree(DATA / "HepflowToy", dst)
    lines = (dst / "HepflowToy_0000.dat").read_text().splitlines()
    (dst / "HepflowToy_0000.dat").write_text("\n".join(lines[:100]) + "\n")
    with pytest.raises(PDFFormatError, match=r"HepflowToy_0000\.dat"):
        load_pdf("HepflowToy", path=tmp_path)


def test_unknown_backend_and_missing_lhapdf():
    with pytest.raises(PDFError, match="backend"):
        load_pdf("HepflowToy", path=DATA, backend="pdfflow")
    if importlib.util.find_spec("lhapdf") is None:
        with pytest.raises(PDFError, match="lhapdf Python module"):
            load_pdf("HepflowToy", path=DATA, backend="lhapdf")


@pytest.mark.skipif(
    importlib.util.find_spec("lhapdf") is None,
    reason="the lhapdf Python module is not installed (no PyPI wheel; build LHAPDF 6 to run this)",
)
def test_agrees_with_lhapdf(pdf):
    ref = load_pdf("HepflowToy", path=DATA, backend="lhapdf")
    x, q2 = _random_points(300, 1e-8, 1.0, 0.3, 1e10, seed=7)
    got, want = pdf.xfxQ2_all(x, q2), ref.xfxQ2_all(x, q2)
    assert torch.allclose(got, want, rtol=1e-12, atol=1e-14)
    assert torch.allclose(pdf.alphas_Q2(q2), ref.alphas_Q2(q2), rtol=1e-12, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_cuda_matches_cpu(pdf):
    x, q2 = _random_points(1000, 1e-8, 1.0, 0.3, 1e10, seed=8)
    g = pdf.to("cuda")
    assert torch.allclose(
        g.xfxQ2_all(x.cuda(), q2.cuda()).cpu(), pdf.xfxQ2_all(x, q2), rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize(("force", "want"), [(None, -1.0), (0, -1.0), (1, 0.0), (2, 1e-10)])
def test_force_positive(tmp_path, force, want):
    """ForcePositive in the .info: 0 keeps negative values, 1 clips at 0, 2 at 1e-10."""
    dst = tmp_path / "HepflowToy"
    shutil.copytree(DATA / "HepflowToy", dst)
    dat = (dst / "HepflowToy_0000.dat").read_text().splitlines()
    row = dat[6].split()  # first data row: first x knot, first Q knot
    dat[6] = " ".join(["-1.0", *row[1:]])  # pid -3 there
    (dst / "HepflowToy_0000.dat").write_text("\n".join(dat) + "\n")
    if force is not None:
        with open(dst / "HepflowToy.info", "a") as fh:
            fh.write(f"ForcePositive: {force}\n")
    p = load_pdf("HepflowToy", path=tmp_path)
    xs, _ = toy.knots()
    assert float(p.xfxQ2(-3, [xs[0]], [1.0])) == want


def _lhapdf_scalar(xs, q2s, f, x, q2):
    """LHAPDF 6 ``LogBicubicInterpolator::_interpolateXQ2`` transcribed point by point (one
    subgrid, f[ix][iq] one flavour), as the reference for the batched weight formulation."""
    lx, lq = np.log(xs), np.log(q2s)
    nx, nq = len(xs), len(q2s)

    def ddlogx(i, k):
        if 0 < i < nx - 1:
            return (
                (f[i][k] - f[i - 1][k]) / (lx[i] - lx[i - 1])
                + (f[i + 1][k] - f[i][k]) / (lx[i + 1] - lx[i])
            ) / 2
        if i == 0:
            return (f[1][k] - f[0][k]) / (lx[1] - lx[0])
        return (f[i][k] - f[i - 1][k]) / (lx[i] - lx[i - 1])

    def cubic(t, vl, vdl, vh, vdh):
        t2, t3 = t * t, t * t * t
        return (
            (2 * t3 - 3 * t2 + 1) * vl
            + (t3 - 2 * t2 + t) * vdl
            + (-2 * t3 + 3 * t2) * vh
            + (t3 - t2) * vdh
        )

    ix = min(int(np.searchsorted(xs, x, side="right")) - 1, nx - 2)
    iq = min(int(np.searchsorted(q2s, q2, side="right")) - 1, nq - 2)
    dlx = lx[ix + 1] - lx[ix]
    tx = (math.log(x) - lx[ix]) / dlx

    def row(k):
        return cubic(tx, f[ix][k], ddlogx(ix, k) * dlx, f[ix + 1][k], ddlogx(ix + 1, k) * dlx)

    dq1 = lq[iq + 1] - lq[iq]
    vl, vh = row(iq), row(iq + 1)
    if iq != 0 and iq + 1 != nq - 1:
        vdl = ((vh - vl) / dq1 + (vl - row(iq - 1)) / (lq[iq] - lq[iq - 1])) / 2
        vdh = ((vh - vl) / dq1 + (row(iq + 2) - vh) / (lq[iq + 2] - lq[iq + 1])) / 2
    elif iq == 0:
        vdl = (vh - vl) / dq1
        vdh = (vdl + (row(iq + 2) - vh) / (lq[iq + 2] - lq[iq + 1])) / 2
    else:
        vdh = (vh - vl) / dq1
        vdl = (vdh + (vl - row(iq - 1)) / (lq[iq] - lq[iq - 1])) / 2
    return cubic((math.log(q2) - lq[iq]) / dq1, vl, vdl * dq1, vh, vdh * dq1)


def test_matches_lhapdf_algorithm_point_by_point(pdf):
    """The batched weights give what LHAPDF's own two-stage code gives, in every kind of cell
    (grid edges, subgrid edges, interior) of both subgrids."""
    xs, qsubs = toy.knots()
    rng = np.random.default_rng(11)
    for qs in qsubs:
        q2s = qs * qs
        X, Q = np.meshgrid(xs, q2s, indexing="ij")
        for pid in (2, -1, 21):
            f = toy.toy_xf(pid, X, Q)
            xp = np.exp(rng.uniform(math.log(xs[0]), 0.0, 60))
            qp = np.exp(rng.uniform(math.log(q2s[0]), math.log(q2s[-1]), 60))
            got = pdf.xfxQ2(pid, t64(xp), t64(qp)).numpy()
            want = np.array([_lhapdf_scalar(xs, q2s, f, a, b) for a, b in zip(xp, qp, strict=True)])
            assert np.allclose(got, want, rtol=2e-9, atol=1e-12), (
                pid,
                np.max(np.abs(got / want - 1)),
            )


def test_to_keeps_values(pdf):
    x, q2 = _random_points(300, 1e-8, 1.0, 0.3, 1e10, seed=9)
    moved = pdf.to("cpu")
    assert torch.equal(moved.xfxQ2_all(x, q2), pdf.xfxQ2_all(x, q2))
    assert torch.equal(moved.alphas_Q2(q2), pdf.alphas_Q2(q2))


def test_set_without_alphas_table_says_what_to_do(tmp_path):
    setdir = toy.write_set(tmp_path)
    info = (setdir / "HepflowToy.info").read_text().splitlines()
    kept = [line for line in info if not line.startswith(("AlphaS_Qs", "AlphaS_Vals"))]
    (setdir / "HepflowToy.info").write_text("\n".join(kept) + "\n")
    p = load_pdf("HepflowToy", path=tmp_path)
    assert p.xfxQ2(21, [0.1], [100.0]).shape == (1,)
    with pytest.raises(PDFError, match="AlphaS_Qs"):
        p.alphas_Q2([100.0])


def test_knot_locator_equals_searchsorted():
    """The fast knot lookup is exact: the same cells as a binary search, on and next to knots."""
    from hepflow.physics.pdf.interpolate import KnotLocator

    rng = np.random.default_rng(3)
    cases = [
        (np.geomspace(1e-9, 1, 100)[2:-2], 1e-9, 1.0),
        (np.sort(np.exp(rng.uniform(-20, 0, 300))), math.exp(-20), 1.0),
    ]
    for knots, lo, hi in cases:
        k = torch.as_tensor(knots)
        locate = KnotLocator(k, lo, hi)
        v = np.concatenate(
            [
                np.exp(rng.uniform(math.log(lo), math.log(hi), 10_000)),
                knots,
                np.nextafter(knots, 0),
                np.nextafter(knots, np.inf),
                [lo, hi],
            ]
        )
        v = torch.as_tensor(np.clip(v, lo, hi))
        expected = torch.searchsorted(k, v, right=True, out_int32=True)
        assert torch.equal(locate(v, v.log()), expected)
