"""p p -> e+ e- j (pp_llj): the d-quark and antiquark |M|^2 against the MadGraph-checked classes
(soft and collinear limits, CP), the PDF folding point by point against the partonic 2 -> 3
integrand, beam-swap symmetry, the cross section under different maps, the event record and
option errors."""

from __future__ import annotations

import math

import pytest
import torch
from hepflow_sm.fermion_pairs import DDbarToEE, UUbarToEE
from hepflow_sm.hadronic import HadronicOptionError
from hepflow_sm.hadronic_lljet import (
    MAPPINGS,
    DDbarToEEG,
    DGToEED,
    DxGToEEDx,
    PPToLLJ,
    UxGToEEUx,
)
from hepflow_sm.hadronic_processes import DrellYanMatrixElement
from hepflow_sm.three_body import UGToEEU, UUbarToEEG

from hepflow.physics.phase_space import check_momentum_conservation, check_on_shell, two_body
from hepflow.physics.vectors import delta_r, eta, mass, pt


def uniform(n: int, dim: int = 7, seed: int = 1) -> torch.Tensor:
    return torch.rand(n, dim, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def llj():
    return PPToLLJ()


def _vec(e, theta, phi):
    st = torch.sin(theta)
    return torch.stack(
        [e, e * st * torch.cos(phi), e * st * torch.sin(phi), e * torch.cos(theta)], dim=-1
    )


def _beams(sqrt_s: float, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    e = sqrt_s / 2
    pa = torch.tensor([e, 0.0, 0.0, e], dtype=torch.float64).expand(n, 4)
    pb = torch.tensor([e, 0.0, 0.0, -e], dtype=torch.float64).expand(n, 4)
    return pa, pb


def _born_ratio(sqrt_s, pa, pb, p3, p4):
    """d d~ -> e+ e- over u u~ -> e+ e- from the MadGraph-checked closed form."""
    up = DrellYanMatrixElement(UUbarToEE(sqrt_s=sqrt_s))
    down = DrellYanMatrixElement(DDbarToEE(sqrt_s=sqrt_s))
    born = torch.stack([pa, pb, p3, p4], dim=1)
    return down.matrix_element(born) / up.matrix_element(born)


@pytest.mark.parametrize("sqrt_s", [80.0, 91.188, 300.0])
def test_d_quark_annihilation_has_the_born_flavour_ratio_in_the_soft_limit(sqrt_s):
    """A soft gluon factorises (eikonal factor, flavour blind): |M(d d~ -> e e g)|^2 /
    |M(u u~ -> e e g)|^2 -> the Born ratio of d d~ -> e e over u u~ -> e e, to O(E_g / sqrt_s)."""
    n, eps = 64, 1e-7
    g = torch.Generator().manual_seed(3)
    pa, pb = _beams(sqrt_s, n)
    th, ph = math.pi * torch.rand(n, generator=g, dtype=torch.float64), torch.rand(n, generator=g)
    gluon = _vec(torch.full((n,), eps * sqrt_s, dtype=torch.float64), th, 2 * math.pi * ph)
    l1, l2, _ = two_body(torch.rand(n, 2, generator=g, dtype=torch.float64), pa + pb - gluon)
    p = torch.stack([pa, pb, l1, l2, gluon], dim=1)
    opts = {"sqrt_s": sqrt_s, "ptj": 1.0, "mmll": 1.0}
    ratio = DDbarToEEG(**opts).matrix_element(p) / UUbarToEEG(**opts).matrix_element(p)
    born = _born_ratio(sqrt_s, pa, pb, l1, l2)
    assert float((ratio / born - 1).abs().max()) < 1e-5
    assert float((born - 1).abs().max()) > 0.2  # the flavours differ visibly


def test_d_quark_gluon_channel_has_the_born_flavour_ratio_in_the_collinear_limit():
    """The outgoing quark collinear to the incoming gluon (g -> q q~, the q~ enters q q~ -> e e):
    |M(d g -> e e d)|^2 / |M(u g -> e e u)|^2 -> the Born ratio at (p_a, p_g - p_q, e+, e-)."""
    n, sqrt_s, theta = 64, 250.0, 1e-6
    g = torch.Generator().manual_seed(4)
    pa, pb = _beams(sqrt_s, n)
    e5 = sqrt_s / 2 * (0.2 + 0.6 * torch.rand(n, generator=g, dtype=torch.float64))
    phi = 2 * math.pi * torch.rand(n, generator=g, dtype=torch.float64)
    quark = _vec(e5, math.pi - torch.full((n,), theta, dtype=torch.float64), phi)
    l1, l2, _ = two_body(torch.rand(n, 2, generator=g, dtype=torch.float64), pa + pb - quark)
    p = torch.stack([pa, pb, l1, l2, quark], dim=1)
    opts = {"sqrt_s": sqrt_s, "ptj": 1.0, "mmll": 1.0}
    ratio = DGToEED(**opts).matrix_element(p) / UGToEEU(**opts).matrix_element(p)
    born = _born_ratio(sqrt_s, pa, pb - quark, l1, l2)
    assert float((ratio / born - 1).abs().max()) < 1e-4
    assert float((born - 1).abs().max()) > 0.2


@pytest.mark.parametrize(("anti", "quark"), [(UxGToEEUx, UGToEEU), (DxGToEEDx, DGToEED)])
def test_antiquark_gluon_channel_is_the_cp_image_of_the_quark_one(anti, quark):
    """CP: |M(q~ g -> e+ e- q~)|^2 at momenta p equals |M(q g -> e+ e- q)|^2 with the spatial
    momenta reversed and e+ <-> e- (exact for the spin sum; a plain C map would miss the
    T-odd Z-width terms)."""
    opts = {"sqrt_s": 500.0, "ptj": 10.0, "mmll": 10.0}
    a, q = anti(**opts), quark(**opts)
    p, _ = a.momenta(uniform(200, 5, seed=5), mapping="z_t")
    parity = p * torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=torch.float64)
    mirrored = parity[:, [0, 1, 3, 2, 4]]
    ref = q.matrix_element(mirrored)
    assert float(((a.matrix_element(p) - ref) / ref).abs().max()) < 1e-10


# -- the folding ------------------------------------------------------------------------------


def _point(ig: PPToLLJ, shat: float, y: float, x5: torch.Tensor) -> torch.Tensor:
    """x (n, 7) at fixed s_hat and rapidity y of the partonic system."""
    s_min, big_s = ig.s_min, ig.sqrt_s**2
    x0 = math.log(shat / s_min) / math.log(big_s / s_min)
    y_max = -0.5 * math.log(shat / big_s)
    x1 = 0.5 * (y / y_max + 1)
    fixed = torch.tensor([x0, x1], dtype=torch.float64).expand(x5.shape[0], 2)
    return torch.cat([fixed, x5], dim=1)


@pytest.mark.parametrize(("shat", "y"), [(150.0**2, 0.4), (600.0**2, -1.1)])
def test_integrand_is_pdfs_times_the_partonic_integrand(shat, y):
    """At fixed (s_hat, y), each parton channel's weight = f_a(x1) f_b(x2) (alpha_s(MZ) /
    0.118) x dtau dy Jacobian x the 2 -> 3 class's own integrand at sqrt(s_hat) with the same
    map, point by point (cuts boost invariant: ptj, mmll, drjl)."""
    ig = PPToLLJ(etaj=-1.0)
    x5 = uniform(120, 5, seed=6)
    cases = [  # (a, b, partonic class, its map, our map)
        (2, -2, UUbarToEEG, "z_t1", "z_t1"),
        (2, -2, UUbarToEEG, "a_t2", "a_t2"),
        (1, -1, DDbarToEEG, "z_s", "z_s"),
        (2, 21, UGToEEU, "z_t", "z_t2"),
        (1, 21, DGToEED, "a_s", "a_s"),
        (-2, 21, UxGToEEUx, "z_t", "z_t2"),
    ]
    big_s = ig.sqrt_s**2
    tau_jac = shat * math.log(big_s / ig.s_min) / big_s * 2 * (-0.5 * math.log(shat / big_s))
    x1 = math.sqrt(shat / big_s) * math.exp(y)
    x2 = math.sqrt(shat / big_s) * math.exp(-y)
    q2 = torch.tensor([ig.mz**2], dtype=torch.float64)
    f1 = ig.pdf.xfxQ2_all(torch.tensor([x1], dtype=torch.float64), q2)[0] / x1
    f2 = ig.pdf.xfxQ2_all(torch.tensor([x2], dtype=torch.float64), q2)[0] / x2
    alpha = float(ig.pdf.alphas_Q2(q2)[0]) / 0.118
    index = {(ch.a, ch.b): i for i, ch in enumerate(ig.channels_)}
    for a, b, cls, theirs, ours in cases:
        x = _point(ig, shat, y, x5)
        _, partonic, nominal = ig._channel_weights(x, mapping=ours)
        part = cls(sqrt_s=math.sqrt(shat), ptj=20.0, mmll=50.0, drjl=0.4)
        ref = part(x5, mapping=theirs) * tau_jac
        col = index[(a, b)]
        assert bool((ref > 0).sum() > 30), (a, b)
        torch.testing.assert_close(partonic[:, col], ref, rtol=1e-10, atol=0.0)
        lumi = float(f1[6 if a == 21 else a + 6] * f2[6 if b == 21 else b + 6])
        torch.testing.assert_close(nominal[:, col], ref * lumi * alpha, rtol=1e-10, atol=0.0)


def test_every_channel_of_the_proton_is_there(llj):
    """4 flavours: q q~, q~ q, q g, g q, q~ g, g q~ for d u s c: 24 channels, each once, and
    the final parton is what quark number leaves."""
    pairs = [(ch.a, ch.b) for ch in llj.channels_]
    assert len(pairs) == len(set(pairs)) == 24
    for ch in llj.channels_:
        out = ch.final[2]
        total = sum(f for f in (ch.a, ch.b) if f != 21)
        assert (out == 21 and total == 0) or (out != 21 and out == total)
    assert llj.parton_pdgs() == {21, 1, 2, 3, 4, -1, -2, -3, -4}


def test_beam_swap_symmetry_pp():
    """Rotating a point by pi about the x axis swaps the beams (y -> -y, cos -> -cos,
    phi -> -phi: x -> 1 - x for the angles of the flat maps); for p p the summed integrand is unchanged."""
    ig = PPToLLJ()
    x = uniform(200, seed=7)
    flipped = x.clone()
    flipped[:, [1, 3, 4, 5, 6]] = 1 - x[:, [1, 3, 4, 5, 6]]  # not x0 (s_hat) nor x2 (m_ll)
    for name in ("z_s", "a_s"):
        p = ig.kinematics(x, mapping=name)["momenta"]
        q = ig.kinematics(flipped, mapping=name)["momenta"]
        rotated = p[:, [1, 0, 2, 3, 4]] * torch.tensor([1.0, 1.0, -1.0, -1.0], dtype=torch.float64)
        torch.testing.assert_close(q, rotated, rtol=1e-9, atol=1e-9)
        f, g = ig(x, mapping=name), ig(flipped, mapping=name)
        assert bool((f > 0).sum() > 100)
        torch.testing.assert_close(g, f, rtol=1e-9, atol=0.0)
    ppbar = PPToLLJ(beams="ppbar")
    f, g = ppbar(x, mapping="z_s"), ppbar(flipped, mapping="z_s")
    assert float((g - f).abs().max()) > 1e-3 * float(f.abs().max())  # ppbar is not symmetric


def test_channel_weights_sum_to_the_integrand(llj):
    """The single-diagram weights alpha_c sum to 1: with the momenta of one map, the sum over
    channels of the channel integrands equals the one-map integrand."""
    x = uniform(100, seed=8)
    kin = llj.kinematics(x, channel=torch.zeros(100, dtype=torch.int64))
    alphas = []
    for c in range(len(MAPPINGS)):
        props = llj._propagators(kin["momenta"])
        alphas.append(props[:, c] / props.sum(1))
    torch.testing.assert_close(sum(alphas), torch.ones(100, dtype=torch.float64))
    f_all = sum(llj(x, channel=torch.full((100,), c, dtype=torch.int64)) for c in range(6))
    assert float(f_all.abs().sum()) > 0
    f0 = llj(x, mapping="a_s")
    ch0 = llj(x, channel=torch.zeros(100, dtype=torch.int64))
    torch.testing.assert_close(ch0, f0 * kin["alpha"], rtol=1e-10, atol=0.0)


def _mc(ig, n, seed, **kw):
    f = ig(uniform(n, seed=seed), **kw)
    return float(f.mean()), float(f.std() / math.sqrt(n))


@pytest.mark.slow
def test_cross_section_agrees_between_maps(llj):
    """Plain Monte Carlo with the default mixed map, the flat-angle Z map and the six
    channels (a random channel per point, weight x 6) on different seeds: agree within 4
    combined standard deviations."""
    n = 6000
    mixed = _mc(llj, n, 11)
    flat = _mc(llj, n, 12, mapping="z_s")
    channel = torch.randint(0, 6, (n,), generator=torch.Generator().manual_seed(13))
    f = llj(uniform(n, seed=14), channel=channel) * 6
    multi = (float(f.mean()), float(f.std() / math.sqrt(n)))
    for a, b in ((mixed, flat), (mixed, multi), (flat, multi)):
        assert abs(a[0] - b[0]) < 4 * math.hypot(a[1], b[1]), (mixed, flat, multi)
    for value, error in (mixed, flat, multi):
        assert error < 0.1 * value


# -- events -----------------------------------------------------------------------------------


def test_events_conserve_momentum_colour_and_respect_the_cuts(llj):
    n = 800
    x = uniform(n, seed=9)
    ev = llj.events(x, generator=torch.Generator().manual_seed(2))
    w = ev.weight
    torch.testing.assert_close(w, llj(x))
    live = w > 0
    assert int(live.sum()) > 300
    p = ev.momentum.reshape(n, 5, 4)[live]
    check_momentum_conservation(p[:, :2], p[:, 2:], rtol=1e-10)
    check_on_shell(p, 0.0, rtol=1e-9)
    # initial partons carry x1, x2 of the beams
    torch.testing.assert_close(p[:, 0, 0], ev.extras["x1"][live] * 6500.0)
    torch.testing.assert_close(p[:, 1, 0], ev.extras["x2"][live] * 6500.0)
    pdg = ev.pdg_id.reshape(n, 5)[live]
    partons = {1, 2, 3, 4, -1, -2, -3, -4, 21}
    assert set(pdg[:, :2].unique().tolist()) <= partons
    assert set(pdg[:, 4].unique().tolist()) <= partons
    assert bool((pdg[:, 2] == -11).all() and (pdg[:, 3] == 11).all())
    quark_number = lambda ids: torch.where(ids == 21, 0, torch.sign(ids) * ids.abs())  # noqa: E731
    assert bool(
        (quark_number(pdg[:, 0]) + quark_number(pdg[:, 1]) == quark_number(pdg[:, 4])).all()
    )
    assert {tuple(r) for r in pdg[:, :2].tolist()} >= {(2, -2), (-2, 2), (2, 21), (21, 2)}
    # colour: each tag flows in once and out once
    col = ev.color.reshape(n, 5, 2)[live]
    sign = torch.tensor([-1, -1, 1, 1, 1])
    for row, s_row in zip(col.tolist(), [sign.tolist()] * len(col), strict=True):
        flow: dict[int, int] = {}
        for (c, a), s in zip(row, s_row, strict=True):
            if c:
                flow[c] = flow.get(c, 0) + s
            if a:
                flow[a] = flow.get(a, 0) - s
        assert all(v == 0 for v in flow.values()), row
    for row, ids in zip(col.tolist(), pdg.tolist(), strict=True):
        for (c, a), i in zip(row, ids, strict=True):
            kind = (c != 0, a != 0)
            expected = {21: (True, True)}.get(i, (i > 0, i < 0) if abs(i) <= 6 else (False, False))
            assert kind == expected, (row, ids)
    jet, lp, lm = p[:, 4], p[:, 2], p[:, 3]
    assert bool((pt(jet) > 20.0).all())
    assert bool((eta(jet).abs() < 5.0).all())
    assert bool((delta_r(jet, lp) > 0.4).all() and (delta_r(jet, lm) > 0.4).all())
    assert bool((mass(lp + lm) > 50.0).all())
    torch.testing.assert_close(ev.extras["scale"], torch.full_like(w, llj.mz))


def test_events_with_channels_and_scale_variations():
    ig = PPToLLJ(scale="ht/2", scale_variations=True)
    x = uniform(300, seed=10)
    channel = torch.arange(300) % 6
    ev = ig.events(x, channel=channel, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(ev.weight, ig(x, channel=channel))
    central = ev.weight_variations["muR=1.0_muF=1.0"]
    torch.testing.assert_close(central, ev.weight, rtol=1e-12, atol=1e-300)
    live = ev.weight > 0
    ht = pt(ev.momentum.reshape(300, 5, 4)[live][:, 2:]).sum(1) / 2
    torch.testing.assert_close(ev.extras["mur"][live], ht)


# -- options ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"ptj": 0.0}, "ptj"),
        ({"mmll": -1.0}, "mmll"),
        ({"mmll": 80.0, "mmllmax": 60.0}, "mmllmax"),
        ({"mapping": "zz"}, "mapping"),
        ({"sqrt_s": 50.0}, "sqrt_s"),
        ({"cuts": {"ptj": 30.0}}, "ptj"),
        ({"cuts": {"ptz": 3.0}}, "ptz"),
        ({"beams": "ee"}, "beams"),
        ({"scale": "fixed", "scale_value": -1.0}, "scale_value"),
    ],
)
def test_bad_options_are_refused(options, match):
    with pytest.raises((HadronicOptionError, ValueError), match=match):
        PPToLLJ(**options)


def test_bad_points_and_channels_are_refused(llj):
    with pytest.raises(ValueError, match="7"):
        llj(uniform(3, dim=4))
    with pytest.raises(HadronicOptionError, match="channel"):
        llj(uniform(3), channel=torch.tensor([0, 6, 1]))
    with pytest.raises(HadronicOptionError, match="mapping"):
        llj(uniform(3), mapping="q")


def test_options_round_trip(llj):
    again = PPToLLJ(**llj.options())
    assert again.options() == llj.options()
    x = uniform(50, seed=12)
    torch.testing.assert_close(again(x), llj(x))
