"""Hadron-collider processes (sm:pp_ll, sm:pp_tt): the PDF folding against textbook partonic
cross sections, beam symmetries, scale variations, the event record and option errors.

The MadGraph cross section of the example card and the Drell-Yan shape against MadGraph's
events are in test_hadronic_madgraph.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hepflow_sm import DDbarToEE, UUbarToEE
from hepflow_sm.hadronic import HadronicOptionError
from hepflow_sm.hadronic_processes import DrellYanMatrixElement
from hepflow_sm.scales import SEVEN_POINT, ScaleError, variation_id

import hepflow
from hepflow.physics.pdf import load_pdf
from hepflow.physics.phase_space import check_momentum_conservation, check_on_shell
from hepflow.physics.sm_parameters import SMParameters
from hepflow.physics.units import GEV2_TO_PB

SM = SMParameters()
PDF = load_pdf("nn23lo1")


def uniform(n: int, dim: int = 4, seed: int = 1) -> torch.Tensor:
    return torch.rand(n, dim, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


# -- the closed-form Drell-Yan |M|^2 -----------------------------------------------------------
@pytest.mark.parametrize(("cls", "name"), [(UUbarToEE, "uu_ee"), (DDbarToEE, "dd_ee")])
def test_drell_yan_matrix_element_matches_madgraph(cls, name, load_data):
    recs = load_data(f"mg5_matrix_elements_{name}.json")["records"]
    p = torch.tensor([r["momenta"] for r in recs], dtype=torch.float64)
    ref = torch.tensor([r["me2"] for r in recs], dtype=torch.float64)
    me = DrellYanMatrixElement(cls(sqrt_s=100.0)).matrix_element(p)
    assert float(((me - ref) / ref).abs().max()) < 1e-12


# -- PDF folding at fixed partonic kinematics -------------------------------------------------
def sigma_gg_tt(s: float, alpha_s: float, mt: float) -> float:
    """Textbook g g -> t t~ (Combridge; Ellis, Stirling, Webber eq. 10.12 integrated)."""
    rho = 4 * mt * mt / s
    beta = math.sqrt(1 - rho)
    return (
        math.pi
        * alpha_s**2
        / (3 * s)
        * (
            (1 + rho + rho * rho / 16) * math.log((1 + beta) / (1 - beta))
            - beta * (7 / 4 + 31 * rho / 16)
        )
        * GEV2_TO_PB
    )


def sigma_qq_tt(s: float, alpha_s: float, mt: float) -> float:
    rho = 4 * mt * mt / s
    return 8 * math.pi * alpha_s**2 / (27 * s) * math.sqrt(1 - rho) * (1 + rho / 2) * GEV2_TO_PB


def angular_integral(ig, u0: float, u1: float, n_cos: int = 64) -> float:
    """int du2 du3 f(u0, u1, u2, u3) by Gauss-Legendre in u2 (the polar angle) and a
    midpoint rule in u3 (the azimuth, on which nothing depends)."""
    nodes, weights = np.polynomial.legendre.leggauss(n_cos)
    u2 = torch.tensor((nodes + 1) / 2, dtype=torch.float64)
    w = torch.tensor(weights / 2, dtype=torch.float64)
    total = 0.0
    for u3 in (0.125, 0.375, 0.625, 0.875):
        x = torch.stack(
            [torch.full_like(u2, u0), torch.full_like(u2, u1), u2, torch.full_like(u2, u3)], -1
        )
        total += float((ig(x) * w).sum()) / 4
    return total


def tau_y_jacobian(
    ig, u0: float, u1: float, h: float = 1e-6, multichannel: bool = False
) -> tuple[float, float, float]:
    """(x1, x2, |d(tau, y) / d(u0, u1)|) from the map, the derivative by central differences.
    With ``multichannel`` (a mixture of s maps) the s weight is the map's own 1 / density,
    which only its integral checks (test_s_map_integrates_exactly)."""

    def tau_y(a: float, b: float) -> tuple[float, float]:
        k = ig.kinematics(torch.tensor([[a, b, 0.3, 0.2]], dtype=torch.float64))
        x1, x2 = float(k["x1"][0]), float(k["x2"][0])
        assert float(k["s"][0]) == pytest.approx(x1 * x2 * ig.sqrt_s**2, rel=1e-12)
        return x1 * x2, 0.5 * math.log(x1 / x2)

    (t_p, _), (t_m, _) = tau_y(u0 + h, u1), tau_y(u0 - h, u1)
    (_, y_p), (_, y_m) = tau_y(u0, u1 + h), tau_y(u0, u1 - h)
    k = ig.kinematics(torch.tensor([[u0, u1, 0.3, 0.2]], dtype=torch.float64))
    dtau = (t_p - t_m) / (2 * h)
    if multichannel:
        _, ds = ig._map_s(torch.tensor([u0], dtype=torch.float64))
        dtau = float(ds[0]) / ig.sqrt_s**2
    jac = abs(dtau * (y_p - y_m) / (2 * h))
    return float(k["x1"][0]), float(k["x2"][0]), jac


def pdf_f(pid: int, x: float, q: float) -> float:
    t = torch.tensor([x], dtype=torch.float64)
    return float(PDF.xfxQ2(pid, t, torch.tensor([q * q], dtype=torch.float64))[0]) / x


@pytest.mark.parametrize("beams", ["pp", "ppbar"])
@pytest.mark.parametrize(("u0", "u1"), [(0.2, 0.5), (0.45, 0.1), (0.7, 0.85), (0.93, 0.4)])
def test_pp_ll_is_pdfs_times_textbook_partonic_cross_section(beams, u0, u1):
    """int over the angles of f = dtau dy [sum_q f_q(x1) f_q~(x2) + f_q~(x1) f_q(x2)] sigma_qq~(s)
    with the textbook q q~ -> e+ e- sigma, the PDFs at muF = MZ and the map's Jacobian."""
    ig = hepflow.create("integrand", "sm:pp_ll", sqrt_s=13000.0, beams=beams, mll_min=50.0)
    x1, x2, jac = tau_y_jacobian(ig, u0, u1, multichannel=True)
    s = x1 * x2 * 13000.0**2
    sign = -1 if beams == "ppbar" else 1
    expected = 0.0
    for q, cls in ((1, DDbarToEE), (2, UUbarToEE), (3, DDbarToEE), (4, UUbarToEE)):
        sigma = cls(sqrt_s=math.sqrt(s)).reference
        lum = pdf_f(q, x1, SM.MZ) * pdf_f(-q * sign, x2, SM.MZ)
        lum += pdf_f(-q, x1, SM.MZ) * pdf_f(q * sign, x2, SM.MZ)
        expected += lum * sigma
    expected *= jac
    assert angular_integral(ig, u0, u1, n_cos=8) == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize(("u0", "u1"), [(0.1, 0.5), (0.4, 0.2), (0.75, 0.7)])
def test_pp_tt_is_pdfs_times_textbook_partonic_cross_sections(u0, u1):
    """The same for p p -> t t~: g g and the four q q~ in both orientations, alpha_s(MT)^2 from
    the PDF set. Tolerance 2e-4: MadGraph's |M|^2 keeps the top width in the t-channel
    propagators (3.3e-5 from the zero-width formula at MadGraph's points)."""
    ig = hepflow.create("integrand", "sm:pp_tt", sqrt_s=13000.0)
    x1, x2, jac = tau_y_jacobian(ig, u0, u1)
    s = x1 * x2 * 13000.0**2
    mt = SM.MT
    a_s = float(PDF.alphas_Q2(torch.tensor([mt * mt], dtype=torch.float64))[0])
    lum_qq = sum(
        pdf_f(q, x1, mt) * pdf_f(-q, x2, mt) + pdf_f(-q, x1, mt) * pdf_f(q, x2, mt)
        for q in (1, 2, 3, 4)
    )
    expected = jac * (
        pdf_f(21, x1, mt) * pdf_f(21, x2, mt) * sigma_gg_tt(s, a_s, mt)
        + lum_qq * sigma_qq_tt(s, a_s, mt)
    )
    assert angular_integral(ig, u0, u1, n_cos=96) == pytest.approx(expected, rel=2e-4)


@pytest.mark.parametrize(("mll_min", "mll_max"), [(50.0, -1.0), (60.0, 120.0), (200.0, 400.0)])
def test_s_map_integrates_exactly(mll_min, mll_max):
    """int_0^1 h(s(u)) ds/du du = int h(s) ds for the Breit-Wigner + 1/s mixture of pp_ll, for
    a resonant and a falling h (scipy quadrature on the right)."""
    from scipy.integrate import quad

    ig = hepflow.create("integrand", "sm:pp_ll", mll_min=mll_min, mll_max=mll_max)
    m2, mg = SM.MZ**2, SM.MZ * SM.WZ

    def h(s):
        return s / ((s - m2) ** 2 + mg**2) + 1e4 / s**2

    nodes, weights = np.polynomial.legendre.leggauss(400)
    total = 0.0
    for lo in (0.0, 0.5):  # each half is one smooth map
        u = torch.tensor(lo + (nodes + 1) / 4, dtype=torch.float64)
        s, jac = ig._map_s(u)
        total += float((h(s) * jac * torch.tensor(weights / 4)).sum())
    points = [m2] if ig.s_min < m2 < ig.s_max else None
    ref, _ = quad(h, ig.s_min, ig.s_max, points=points, limit=500, epsrel=1e-12)
    assert total == pytest.approx(ref, rel=1e-8)
    # the channels "z" and "a": each its own map over [0, 1], the two terms adding up to it
    u = torch.tensor((nodes + 1) / 2, dtype=torch.float64)
    terms = []
    for c in (0, 1):
        s, jac = ig._map_s(u, torch.full_like(u, c, dtype=torch.int64))
        terms.append(float((h(s) * jac * torch.tensor(weights / 2)).sum()))
    assert sum(terms) == pytest.approx(ref, rel=1e-8)
    assert min(terms) > 0.01 * ref  # both maps carry a part


def test_pp_ll_channels_add_up_to_the_total_and_events_follow_them():
    """VEGAS on each channel term alone: the sum agrees with the mixed map's total."""
    ig = hepflow.create("integrand", "sm:pp_ll")
    assert [c.name for c in ig.channels] == ["z", "a"]
    results = []
    for c in (0, 1):

        def term(x, c=c):
            return ig(x, channel=torch.full((x.shape[0],), c, dtype=torch.int64))

        term.dim = 4
        sampler = hepflow.create("sampler", "vegas", dim=4)
        results.append(hepflow.integrate(term, sampler, iterations=8, evals=20_000, seed=c))
    total = hepflow.integrate(ig, hepflow.create("sampler", "vegas", dim=4), iterations=8,
                              evals=20_000, seed=5)  # fmt: skip
    summed = sum(r.mean for r in results)
    error = math.sqrt(sum(r.sdev**2 for r in results) + total.sdev**2)
    assert abs(summed - total.mean) < 4 * error, (summed, total.mean, error)
    x = torch.rand(200, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    channel = torch.arange(200) % 2
    events = ig.events(x, channel=channel)
    assert torch.allclose(events.weight, ig(x, channel=channel), rtol=1e-12)
    m_ll = torch.sqrt(ig.kinematics(x, channel)["s"])
    z_near = (m_ll - SM.MZ).abs() < 5 * SM.WZ
    assert z_near[channel == 0].float().mean() > 0.5 > z_near[channel == 1].float().mean()


# -- beams -------------------------------------------------------------------------------------
def mirror(x: torch.Tensor) -> torch.Tensor:
    """The point of the z-reflected event: y -> -y, cos theta -> -cos theta."""
    return torch.stack([x[:, 0], 1 - x[:, 1], 1 - x[:, 2], x[:, 3]], -1)


@pytest.mark.parametrize("name", ["sm:pp_ll", "sm:pp_tt"])
def test_pp_is_symmetric_under_beam_swap(name):
    ig = hepflow.create("integrand", name, sqrt_s=13000.0)
    x = uniform(2000)
    f, g = ig(x), ig(mirror(x))
    assert torch.allclose(f, g, rtol=1e-9, atol=0.0)  # rounding near the tt threshold


def test_ppbar_differs_from_pp_as_valence_antiquarks_make_it():
    """At the Tevatron energy, p p~ has valence antiquarks: a larger Drell-Yan cross section
    than p p, and a forward-backward asymmetry of the e- about the proton direction (positive
    for 60 < mll < 120 GeV, as CDF and D0 measure) that p p cannot have."""
    x = uniform(20000, seed=3)
    cos_eplus = 2 * x[:, 2] - 1  # the map's polar angle of the e+ in the e+e- rest frame
    sig, afb = {}, {}
    for beams in ("pp", "ppbar"):
        ig = hepflow.create(
            "integrand", "sm:pp_ll", sqrt_s=1960.0, beams=beams, mll_min=60.0, mll_max=120.0
        )
        f = ig(x)
        sig[beams] = (float(f.mean()), float(f.std()) / math.sqrt(len(f)))
        flipped = torch.stack([x[:, 0], x[:, 1], 1 - x[:, 2], x[:, 3]], -1)  # e+ <-> e- angle
        forward = -(f - ig(flipped)) / 2 * torch.sign(cos_eplus)  # e- forward minus backward
        afb[beams] = (float(forward.mean()), float(forward.std()) / math.sqrt(len(f)))
    (pp, e_pp), (ppbar, e_ppbar) = sig["pp"], sig["ppbar"]
    assert ppbar - pp > 10 * math.hypot(e_pp, e_ppbar)
    assert afb["ppbar"][0] > 10 * afb["ppbar"][1]
    assert abs(afb["pp"][0]) < 4 * afb["pp"][1]


# -- scale variations --------------------------------------------------------------------------
def test_seven_point_variations_fixed_scale_drell_yan():
    """Pure electroweak and a fixed scale: the central weight is the nominal, muR variations
    change nothing, muF ones change the PDFs and so the weights."""
    ig = hepflow.create("integrand", "sm:pp_ll", scale_variations=True)
    ev = ig.events(uniform(500))
    var = ev.weight_variations
    assert list(var) == [variation_id(r, f) for r, f in SEVEN_POINT]
    assert torch.equal(var["muR=1.0_muF=1.0"], ev.weight)
    assert torch.equal(var["muR=2.0_muF=1.0"], ev.weight)
    assert torch.equal(var["muR=0.5_muF=1.0"], ev.weight)
    for key in ("muR=1.0_muF=2.0", "muR=1.0_muF=0.5"):
        rel = ((var[key] - ev.weight) / ev.weight).abs()
        assert float(rel.median()) > 1e-3
    assert torch.equal(var["muR=2.0_muF=2.0"], var["muR=1.0_muF=2.0"])


def test_seven_point_variations_top_pairs_follow_alpha_s_squared():
    """For p p -> t t~ (alpha_s^2) a muR variation multiplies the weight by
    (alpha_s(k muR) / alpha_s(muR))^2; muF ones re-evaluate the PDFs: they equal the nominal
    weight of a process built with muf_factor = k."""
    ig = hepflow.create("integrand", "sm:pp_tt", scale_variations=True)
    x = uniform(300)
    ev = ig.events(x)
    var = ev.weight_variations
    mt2 = torch.tensor([SM.MT**2], dtype=torch.float64)
    for k in (2.0, 0.5):
        ratio = (PDF.alphas_Q2(k * k * mt2) / PDF.alphas_Q2(mt2)) ** 2
        assert torch.allclose(var[variation_id(k, 1.0)], ev.weight * ratio, rtol=1e-12)
        other = hepflow.create("integrand", "sm:pp_tt", muf_factor=k)
        assert torch.allclose(var[variation_id(1.0, k)], other(x), rtol=1e-12)
    assert torch.equal(var["muR=1.0_muF=1.0"], ev.weight)


def test_dynamic_scale_is_the_pair_mass():
    ig = hepflow.create("integrand", "sm:pp_ll", scale="mll", mur_factor=2.0)
    ev = ig.events(uniform(50))
    p = ev.momentum.reshape(50, 4, 4)
    mll = torch.sqrt((p[:, 2] + p[:, 3])[:, 0] ** 2 - ((p[:, 2] + p[:, 3])[:, 1:] ** 2).sum(-1))
    assert torch.allclose(ev.extras["muf"], mll, rtol=1e-10)
    assert torch.allclose(ev.extras["mur"], 2 * mll, rtol=1e-10)
    assert torch.allclose(ev.extras["alpha_s"], PDF.alphas_Q2(4 * mll * mll), rtol=1e-12)


# -- the event record --------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "flavours"), [("sm:pp_ll", 4), ("sm:pp_ll", 5), ("sm:pp_tt", 4)])
def test_event_record(name, flavours):
    n = 400
    ig = hepflow.create("integrand", name, flavours=flavours)
    x = uniform(n, seed=5)
    ev = ig.events(x)
    assert torch.equal(ev.weight, ig(x))
    p = ev.momentum.reshape(n, 4, 4)
    pdg = ev.pdg_id.reshape(n, 4)
    x1, x2 = ev.extras["x1"], ev.extras["x2"]
    live = ev.weight > 0
    assert bool(((x1 > 0) & (x1 < 1) & (x2 > 0) & (x2 < 1))[live].all())
    # incoming partons along the beams with the momentum fractions, E = x sqrt_s / 2
    e = ig.sqrt_s / 2
    assert torch.allclose(p[:, 0], torch.stack([x1 * e, 0 * x1, 0 * x1, x1 * e], -1))
    assert torch.allclose(p[:, 1], torch.stack([x2 * e, 0 * x2, 0 * x2, -x2 * e], -1))
    check_momentum_conservation(p[:, :2], p[:, 2:], rtol=1e-10)  # boosts round
    check_on_shell(p[:, 2:], torch.tensor(ig.final_masses, dtype=torch.float64), rtol=1e-9)
    assert torch.equal(ev.status.reshape(n, 4)[0], torch.tensor([-1, -1, 1, 1]))
    assert torch.equal(ev.mothers.reshape(n, 4, 2)[0, 2], torch.tensor([1, 2]))
    quarks = set(range(1, flavours + 1))
    allowed = quarks | {-q for q in quarks} | ({21} if name == "sm:pp_tt" else set())
    assert set(pdg[:, :2].unique().tolist()) <= allowed
    assert set(pdg[:, 2:].flatten().unique().tolist()) == set(ig.final)
    # quark against antiquark of the same flavour, or two gluons
    assert bool(((pdg[:, 0] == -pdg[:, 1]) | ((pdg[:, 0] == 21) & (pdg[:, 1] == 21))).all())
    # colour: every quark line joins a colour of the initial state to the final state
    col = ev.color.reshape(n, 4, 2)
    for i in range(n):
        tags = col[i][col[i] > 0].tolist()
        if name == "sm:pp_ll":
            assert set(col[i, 2:].flatten().tolist()) == {0}
        assert all(tags.count(t) == 2 for t in tags)
    assert ig.beam_pdg == (2212, 2212)
    assert ig.beam_energy == (ig.sqrt_s / 2, ig.sqrt_s / 2)
    assert ig.pdf_lhapdf_id == 247000


def test_events_draw_the_parton_channels_in_proportion():
    """The channel of each event is drawn with probability contribution / total: the number
    of u u~ (either orientation) events matches the sum of those probabilities (5 sigma)."""
    ig = hepflow.create("integrand", "sm:pp_ll", sqrt_s=7000.0, mll_min=30.0)
    x = uniform(4000, seed=11)
    ev = ig.events(x, generator=torch.Generator().manual_seed(2))
    _, _, contributions = ig._channel_weights(x)
    prob = contributions / contributions.sum(-1, keepdim=True)
    first = ev.pdg_id.reshape(-1, 4)[:, 0].abs()
    for q in (1, 2, 3, 4):
        cols = [i for i, ch in enumerate(ig.channels_) if abs(ch.a) == q]
        p = prob[:, cols].sum(-1)
        expected, sd = float(p.sum()), float((p * (1 - p)).sum().sqrt())
        assert abs(int((first == q).sum()) - expected) < 5 * sd


def test_events_reproducible_without_generator():
    ig = hepflow.create("integrand", "sm:pp_tt")
    x = uniform(100)
    a, b = ig.events(x), ig.events(x)
    assert torch.equal(a.pdg_id, b.pdg_id) and torch.equal(a.color, b.color)


# -- options -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "options", "error", "match"),
    [
        ("sm:pp_ll", {"pdf": "no_such_set"}, HadronicOptionError, "pdf = 'no_such_set'"),
        ("sm:pp_ll", {"mll_min": 200.0, "mll_max": 100.0}, HadronicOptionError, "mll_max"),
        ("sm:pp_ll", {"mll_min": 100.0, "mll_max": 100.0}, HadronicOptionError, "mll_max"),
        ("sm:pp_ll", {"mll_min": -5.0}, HadronicOptionError, "mll_min"),
        ("sm:pp_ll", {"sqrt_s": 40.0}, HadronicOptionError, "sqrt_s"),
        ("sm:pp_tt", {"sqrt_s": 300.0}, HadronicOptionError, "threshold"),
        ("sm:pp_ll", {"scale": "banana"}, ScaleError, "scale = 'banana'"),
        ("sm:pp_ll", {"scale_value": -1.0}, ScaleError, "scale_value"),
        ("sm:pp_ll", {"scale": "mll", "scale_value": 91.188}, HadronicOptionError, "only with"),
        ("sm:pp_ll", {"cuts": {"nonsense": 1.0}}, HadronicOptionError, "cuts = .*nonsense"),
        ("sm:pp_jj", {"ptj": 0.0}, HadronicOptionError, "ptj = 0.0"),
        ("sm:pp_jj", {"sqrt_s": 30.0}, HadronicOptionError, "ptj < sqrt_s / 2"),
        ("sm:pp_ll", {"beams": "ee"}, HadronicOptionError, "beams = 'ee'"),
        ("sm:pp_ll", {"flavours": 6}, HadronicOptionError, "flavours = 6"),
        ("sm:pp_tt", {"mur_factor": 0.0}, HadronicOptionError, "mur_factor"),
        ("sm:pp_tt", {"scale_variations": "yes"}, HadronicOptionError, "scale_variations"),
    ],
)
def test_bad_options_are_named(name, options, error, match):
    """The process raises its own error (a HepflowError and ValueError); ``create`` reports it
    as a ComponentError naming the component, with the process's message."""
    with pytest.raises(hepflow.HepflowError, match=match) as info:
        hepflow.create("integrand", name, **options)
    assert isinstance(info.value.__cause__, error)
    assert isinstance(info.value.__cause__, hepflow.HepflowError)


def test_bad_points_are_refused():
    ig = hepflow.create("integrand", "sm:pp_ll")
    with pytest.raises(ValueError, match=r"\(n, 4\)"):
        ig(torch.rand(3, 2, dtype=torch.float64))
    x = torch.rand(3, 4, dtype=torch.float64)
    with pytest.raises(HadronicOptionError, match=r"indices in \[0, 1\] \(z, a\)"):
        ig(x, channel=torch.tensor([0, 1, 2]))
    with pytest.raises(HadronicOptionError, match="no channels; call it without channel"):
        hepflow.create("integrand", "sm:pp_tt")(x, channel=torch.zeros(3, dtype=torch.int64))


def test_mll_window_is_respected_and_cuts_apply():
    ig = hepflow.create("integrand", "sm:pp_ll", mll_min=80.0, mll_max=100.0)
    ev = ig.events(uniform(2000))
    p = ev.momentum.reshape(-1, 4, 4)
    pair = p[:, 2] + p[:, 3]
    mll = torch.sqrt(pair[:, 0] ** 2 - (pair[:, 1:] ** 2).sum(-1))
    assert float(mll.min()) >= 80.0 - 1e-9 and float(mll.max()) <= 100.0 + 1e-9
    cut = hepflow.create("integrand", "sm:pp_ll", mll_min=80.0, mll_max=100.0, cuts={"ptl": 30.0})
    f = cut(uniform(2000))
    pt = torch.hypot(p[:, 2:, 1], p[:, 2:, 2])
    passed = (pt > 30.0).all(-1)
    assert torch.equal(f > 0, passed & (ev.weight > 0))
    assert torch.allclose(f[passed], ev.weight[passed], rtol=1e-14)
