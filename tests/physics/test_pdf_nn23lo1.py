"""The embedded nn23lo1 grid against MadGraph's own numbers (tests/data/pdf, see its README):
x·f from MadGraph's NNPDFDriver.f at 55 points and alpha_s from its ALPHAS, plus the grid's
sum rules."""

from __future__ import annotations

import gzip
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from hepflow.physics.pdf import ALL_PIDS, PDFError, PDFRangeError, load_pdf
from hepflow.physics.pdf.alphas import _MG_B0, _MG_C1, MGRunningAlphaS, _mg_coefficients

DATA = Path(__file__).resolve().parents[1] / "data" / "pdf"
GRID = (
    Path(__file__).resolve().parents[2]
    / "hepflow/physics/pdf/data/NNPDF23_lo_as_0130_qed_mem0.grid.gz"
)
MG_NAMES = {-6: "tbar", -5: "bbar", -4: "cbar", -3: "sbar", -2: "ubar", -1: "dbar", 0: "g"}
MG_NAMES.update({1: "d", 2: "u", 3: "s", 4: "c", 5: "b", 6: "t"})


@pytest.fixture(scope="module")
def ref() -> dict:
    return json.loads((DATA / "mg5_nn23lo1_pdf_alphas_values.json").read_text())


@pytest.fixture(scope="module")
def pdf():
    return load_pdf("nn23lo1")


def _close(got: torch.Tensor, want: torch.Tensor, rtol: float, atol: float) -> None:
    """|got - want| <= atol + rtol |want| elementwise (torch.testing is slow to import)."""
    bad = (got - want).abs() > atol + rtol * want.abs()
    assert not bool(bad.any()), f"max |diff| {(got - want).abs().max():.3g}"


def _points(ref):
    pts = ref["pdf_points"]
    x = torch.tensor([p["x"] for p in pts], dtype=torch.float64)
    q = torch.tensor([p["Q_GeV"] for p in pts], dtype=torch.float64)
    return pts, x, q


def test_metadata(pdf):
    assert pdf.name == "NNPDF23_lo_as_0130_qed" and pdf.lhapdf_id == 247000 and pdf.member == 0
    assert pdf.order_qcd == 0
    assert pdf.flavors == (-6, -5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6, 21, 22)
    assert (pdf.x_min, pdf.x_max, pdf.q_min, pdf.q_max) == (1e-9, 1.0, 1.0, 1e6)
    assert load_pdf("NNPDF23_lo_as_0130_qed").lhapdf_id == 247000


def test_shipped_grid_is_madgraphs_file():
    """The .gz holds MadGraph's file unchanged (md5 of the original, see data/README.md)."""
    with gzip.open(GRID, "rb") as fh:
        assert hashlib.md5(fh.read()).hexdigest() == "899b6b1037fcfefce040ced4831c5a75"


def test_xf_matches_madgraph_at_55_points(pdf, ref):
    """All 13 partons and the photon agree with MadGraph to rounding (the same algorithm)."""
    pts, x, q = _points(ref)
    assert len(pts) == 55
    got = pdf.xfxQ2_all(x, q * q)
    photon = pdf.xfxQ2(22, x, q * q)
    want = torch.tensor(
        [[p["xf"][MG_NAMES[k]] for k in ALL_PIDS] for p in pts], dtype=torch.float64
    )
    want_ph = torch.tensor([p["xf"]["photon"] for p in pts], dtype=torch.float64)
    for g, w in ((got, want), (photon, want_ph)):
        big = w.abs() > 1e-8
        rel = ((g - w).abs() / w.abs())[big]
        assert rel.max() < 1e-12, rel.max()
        assert torch.all((g - w)[~big].abs() < 1e-15)
    assert (
        int((want.abs() > 1e-8).sum()) > 500
    )  # most values are real checks, not zeros  # most points are real checks, not zeros


def test_single_flavour_and_per_point_pids_agree_with_all(pdf, ref):
    _, x, q = _points(ref)
    full = pdf.xfxQ2_all(x, q * q)
    for k, pid in enumerate(ALL_PIDS):
        _close(pdf.xfxQ2(pid, x, q * q), full[:, k], rtol=0, atol=0)
    _close(pdf.xfxQ2(21, x, q * q), full[:, 6], rtol=0, atol=0)
    pids = torch.tensor([ALL_PIDS[i % 13] for i in range(x.numel())])
    pids[0] = 21
    want = full.gather(1, (torch.where(pids == 21, 0, pids) + 6).unsqueeze(-1)).squeeze(-1)
    _close(pdf.xfxQ2(pids, x, q * q), want, rtol=0, atol=0)


def test_grid_nodes_are_reproduced(pdf):
    """At a knot the interpolation returns the tabulated row (read here independently)."""
    with gzip.open(GRID, "rt") as fh:
        lines = fh.read().splitlines()
    xs = [float(s) for s in lines[28:128]]
    q2s = [float(s) for s in lines[130:190]]
    rows = lines[191:]
    for ix, iq in [(0, 0), (5, 7), (40, 33), (79, 59), (99, 20)]:
        row = torch.tensor([float(v) for v in rows[ix * 60 + iq].split()], dtype=torch.float64)
        x, q2 = (
            torch.tensor([xs[ix]], dtype=torch.float64),
            torch.tensor([q2s[iq]], dtype=torch.float64),
        )
        got = pdf.xfxQ2_all(x, q2)[0]
        want = torch.cat([row[:6], row[6:7], row[7:13]])  # tbar..dbar, g, d..t
        _close(got, want, rtol=1e-13, atol=1e-300)


def test_outside_the_grid_is_frozen_like_madgraph(pdf):
    x = torch.tensor([1e-12, 1e-9, 0.3, 0.3, 0.3, 0.3], dtype=torch.float64)
    q2 = torch.tensor([100.0, 100.0, 0.25, 1.0, 1e14, 1e12], dtype=torch.float64)
    v = pdf.xfxQ2_all(x, q2)
    _close(v[0], v[1], rtol=0, atol=0)
    _close(v[2], v[3], rtol=0, atol=0)
    _close(v[4], v[5], rtol=0, atol=0)


def test_bad_input_is_refused(pdf):
    one = torch.ones(1, dtype=torch.float64)
    for x, q2 in [
        (one * math.nan, one),
        (one * 0.5, one * math.nan),
        (one * 1.5, one),
        (one * 0, one),
        (one * 0.5, -one),
    ]:
        with pytest.raises(PDFRangeError, match="0 < x <= 1"):
            pdf.xfxQ2_all(x, q2)
    with pytest.raises(PDFError, match="pid 7"):
        pdf.xfxQ2(7, one * 0.1, one * 100)
    with pytest.raises(PDFError, match="member"):
        load_pdf("nn23lo1", member=1)
    with pytest.raises(PDFRangeError):
        pdf.alphas_Q2([0.0])
    with pytest.raises(PDFError, match=r"float32; pass float64"):
        pdf.xfxQ2_all(torch.tensor([0.1]), one)


def test_madgraph_beta_coefficients_match_their_formulas():
    for nf in (3, 4, 5):
        b0, c1 = _mg_coefficients(nf)
        assert abs(_MG_B0[nf] / b0 - 1) < 1e-13 and abs(_MG_C1[nf] / c1 - 1) < 1e-13


@pytest.mark.parametrize(
    ("key", "asmz", "nloop"),
    [
        ("asmz0.130_nloop2_madevent_nn23lo1", 0.130, 2),
        ("asmz0.130_nloop1", 0.130, 1),
        ("asmz0.118_nloop2", 0.118, 2),
    ],
)
def test_alphas_matches_madgraph(ref, key, asmz, nloop):
    q = torch.tensor([p["Q_GeV"] for p in ref["alpha_s"]], dtype=torch.float64)
    want = torch.tensor([p[key] for p in ref["alpha_s"]], dtype=torch.float64)
    _close(MGRunningAlphaS(asmz, nloop)(q * q), want, rtol=1e-14, atol=0)


def test_pdf_alphas_is_madevents_choice(pdf, ref):
    q = torch.tensor([p["Q_GeV"] for p in ref["alpha_s"]], dtype=torch.float64)
    want = torch.tensor(
        [p["asmz0.130_nloop2_madevent_nn23lo1"] for p in ref["alpha_s"]], dtype=torch.float64
    )
    _close(pdf.alphas_Q2(q * q), want, rtol=1e-14, atol=0)


def _integrate(pdf, q: float, xs: np.ndarray) -> dict[str, float]:
    """Sum-rule integrals of the interpolant: 16-point Gauss-Legendre in ln x per grid cell
    (the interpolant is a cubic in ln x or x on each cell, so this is exact to rounding),
    plus the x < x_min piece bounded by x_min·Σ xf(x_min) (x·f is frozen there)."""
    u = np.log(xs)
    n, w = np.polynomial.legendre.leggauss(16)
    a, b = u[:-1, None], u[1:, None]
    x = torch.tensor(np.exp((0.5 * (b - a) * n + 0.5 * (a + b)).ravel()))
    wt = torch.tensor((0.5 * (b - a) * w).ravel())
    q2 = torch.full_like(x, q * q)
    f = pdf.xfxQ2_all(x, q2)
    photon = pdf.xfxQ2(22, x, q2)
    below = float(pdf.xfxQ2_all([xs[0]], [q * q]).sum()) * xs[0]
    col = {p: i for i, p in enumerate(ALL_PIDS)}
    return {
        "momentum": float((f.sum(1) * x) @ wt) + below,
        "below": below,
        "photon": float((photon * x) @ wt),
        "uv": float((f[:, col[2]] - f[:, col[-2]]) @ wt),
        "dv": float((f[:, col[1]] - f[:, col[-1]]) @ wt),
        "sv": float((f[:, col[3]] - f[:, col[-3]]) @ wt),
    }


@pytest.mark.parametrize("q", [10.0, 100.0])
def test_sum_rules(pdf, q):
    """Measured (see the report): momentum of quarks+gluon 0.99981 (Q=10), 0.99860 (Q=100);
    the photon carries the rest, quarks+gluon+photon = 1.0052 at both: the LO QED set imposes
    the sum rule at its input scale Q0 = 1.41 GeV on quarks+gluon (1.00090 there) and QED
    evolution then moves momentum into the photon. Valence 2.0038, 1.0011, -1.1e-5 at both
    scales: constant in Q (evolution conserves them), so a property of the tabulated grid
    (LHAPDF's log-bicubic on the same grid gives the same to 1e-4)."""
    with gzip.open(GRID, "rt") as fh:
        xs = np.array([float(s) for s in fh.read().splitlines()[28:128]])
    r = _integrate(pdf, q, xs)
    assert r["below"] < 3e-5
    assert abs(r["momentum"] - 1) < 1.5e-3
    assert abs(r["momentum"] + r["photon"] - 1.0052) < 1e-3
    assert abs(r["uv"] - 2) < 5e-3 and abs(r["dv"] - 1) < 2e-3 and abs(r["sv"]) < 1e-4


def test_momentum_sum_at_the_input_scale(pdf):
    with gzip.open(GRID, "rt") as fh:
        xs = np.array([float(s) for s in fh.read().splitlines()[28:128]])
    assert abs(_integrate(pdf, math.sqrt(2.0), xs)["momentum"] - 1) < 1e-3


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_cuda_matches_cpu(pdf, ref):
    _, x, q = _points(ref)
    g = pdf.to("cuda")
    _close(
        g.xfxQ2_all(x.cuda(), (q * q).cuda()).cpu(),
        pdf.xfxQ2_all(x, q * q),
        rtol=1e-13,
        atol=1e-300,
    )
    _close(g.alphas_Q2((q * q).cuda()).cpu(), pdf.alphas_Q2(q * q), rtol=1e-14, atol=0)


def test_chunking_empty_input_and_to(pdf, ref, monkeypatch):
    """Batches are cut into chunks (bounded memory) without changing any value; an empty batch
    gives an empty result; .to() keeps the values."""
    import hepflow.physics.pdf.pdf as pdf_module

    _, x, q = _points(ref)
    whole = pdf.xfxQ2_all(x, q * q)
    pids = torch.tensor([(-2, 21, 1, 22)[i % 4] for i in range(x.numel())])
    per_point = pdf.xfxQ2(pids, x, q * q)
    monkeypatch.setattr(pdf_module, "_CHUNK", 7)
    assert torch.equal(pdf.xfxQ2_all(x, q * q), whole)
    assert torch.equal(pdf.xfxQ2(pids, x, q * q), per_point)
    empty = torch.zeros(0, dtype=torch.float64)
    assert pdf.xfxQ2_all(empty, empty).shape == (0, 13)
    moved = pdf.to("cpu")
    assert torch.equal(moved.xfxQ2_all(x, q * q), whole)
    assert torch.equal(moved.alphas_Q2(q * q), pdf.alphas_Q2(q * q))
