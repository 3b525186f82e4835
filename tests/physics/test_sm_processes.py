"""The sm plugin's processes against MadGraph 3.5.7: |M|^2 point by point, cross sections
against madevent, and the textbook QED and forward-backward-asymmetry formulas."""

from __future__ import annotations

import math

import numpy as np
import pylhe
import pytest
import torch

import hepflow
from hepflow.card import parse_card
from hepflow.physics.phase_space import check_momentum_conservation, check_on_shell
from hepflow.physics.sm_parameters import SM_PARAM_CARD, SMParameters
from hepflow.physics.units import GEV2_TO_PB
from hepflow.protocols import Integrand
from hepflow.run import run_pipeline

PROCESSES = ["ee_mumu", "uu_ee", "dd_ee", "uu_tt"]
SM = SMParameters()


def records(load_data, name):
    data = load_data(f"mg5_matrix_elements_{name}.json")
    assert "MadGraph5_aMC@NLO 3.5.7" in data["origin"]
    return data["records"]


def as_x(cos_theta, phi) -> torch.Tensor:
    """The unit-cube point of the 2 -> 2 map for particle 3 at (cos theta, phi)."""
    x0 = (torch.as_tensor(cos_theta, dtype=torch.float64) + 1) / 2
    x1 = torch.as_tensor(phi, dtype=torch.float64) / (2 * math.pi)
    return torch.stack([x0, x1], dim=-1)


# -- point by point ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", PROCESSES)
def test_matrix_element_matches_madgraph_at_every_point(name, load_data):
    recs = records(load_data, name)
    assert len(recs) == 20
    ig = hepflow.create("integrand", name, sqrt_s=recs[0]["sqrt_s"])  # |M|^2 needs no sqrt_s
    assert list(ig.pdg) == recs[0]["pdg_order"]
    assert list(ig.masses) == recs[0].get("masses", [0, 0, 0, 0])
    assert ig.process == recs[0]["process"]
    assert ig.iden == recs[0]["iden_average_factor"]
    p = torch.tensor([r["momenta"] for r in recs], dtype=torch.float64)
    ref = torch.tensor([r["me2"] for r in recs], dtype=torch.float64)
    rel = ((ig.matrix_element(p) - ref) / ref).abs()
    assert rel.max() < 1e-10, f"worst relative difference {float(rel.max()):.3g}"


@pytest.mark.parametrize("name", PROCESSES)
def test_phase_space_map_and_integrand_at_madgraph_points(name, load_data):
    """x -> momenta reproduces MadGraph's points (particle 1 along +z, particle 3 at the
    record's angles), and f(x) = me2 / (2 s) x beta / (8 pi) in pb there."""
    for sqrt_s in sorted({r["sqrt_s"] for r in records(load_data, name)}):
        recs = [r for r in records(load_data, name) if r["sqrt_s"] == sqrt_s]
        ig = hepflow.create("integrand", name, sqrt_s=sqrt_s)
        x = as_x([r["cos_theta_p3"] for r in recs], [r["phi_p3"] for r in recs])
        p, weight = ig.momenta(x)
        mg = torch.tensor([r["momenta"] for r in recs], dtype=torch.float64)
        assert torch.allclose(p, mg, rtol=0, atol=1e-12 * sqrt_s)
        beta = math.sqrt(1 - 4 * ig.masses[2] ** 2 / sqrt_s**2)
        assert torch.allclose(weight, torch.full_like(weight, beta / (8 * math.pi)), rtol=1e-14)
        me2 = torch.tensor([r["me2"] for r in recs], dtype=torch.float64)
        expected = me2 / (2 * sqrt_s**2) * beta / (8 * math.pi) * GEV2_TO_PB
        assert torch.allclose(ig(x), expected, rtol=1e-10, atol=0)


# -- cross sections ----------------------------------------------------------------------------
def gauss_legendre(ig, lo: float = 0.0, hi: float = 1.0, n: int = 8) -> float:
    """Integral of ig over x0 in [lo, hi] and x1 in [0, 1]: f does not depend on phi, and is
    a polynomial of degree 2 in cos theta for s-channel processes (exact with 8 nodes)."""
    nodes, weights = np.polynomial.legendre.leggauss(n)
    x0 = lo + (hi - lo) * (nodes + 1) / 2
    x = torch.tensor(np.stack([x0, np.full_like(x0, 0.37)], 1), dtype=torch.float64)
    return float((ig(x) * torch.tensor(weights)).sum()) * (hi - lo) / 2


def uniform_integral(ig, evals: int, seed: int) -> hepflow.Result:
    sampler = hepflow.create("sampler", "uniform", dim=2)
    return hepflow.integrate(ig, sampler, iterations=4, evals=evals // 4, seed=seed)


@pytest.mark.parametrize("name", PROCESSES)
def test_reference_is_the_exact_integral(name):
    for sqrt_s in (20.0, 91.188, 250.0, 400.0, 1000.0):
        if name == "uu_tt" and sqrt_s < 2 * SM.MT:
            continue
        ig = hepflow.create("integrand", name, sqrt_s=sqrt_s)
        assert ig.reference_error == 0.0
        assert math.isclose(gauss_legendre(ig), ig.reference, rel_tol=1e-12)
        x = torch.tensor([[0.3, 0.1], [0.3, 0.8]], dtype=torch.float64)
        f = ig(x)
        assert math.isclose(float(f[0]), float(f[1]), rel_tol=1e-13)  # no phi dependence


def test_ee_mumu_reference_equals_the_readme_analytic_values(load_data):
    runs = load_data("mg5_cross_sections_ee_mumu.json")["runs"]
    for run in runs:
        ig = hepflow.create("integrand", "ee_mumu", sqrt_s=run["sqrt_s"])
        assert math.isclose(ig.reference, run["check_analytic_pb"], rel_tol=1e-10)
        # MadGraph's madevent agrees with the exact value within its own 3 sigma
        assert abs(run["cross_section_pb"] - ig.reference) < 3 * run["error_pb"]


@pytest.mark.parametrize(
    ("run_name", "evals"),
    [
        ("ee_mumu_sqrts91p188_hi", 200_000),
        ("ee_mumu_sqrts200_hi", 300_000),
        ("ee_mumu_sqrts500_hi", 300_000),
        ("ee_mumu_sqrts1000_hi", 300_000),
        ("ee_mumu_sqrts91p188", 50_000),
        ("ee_mumu_sqrts200", 100_000),
    ],
)
def test_ee_mumu_cross_section_matches_madevent(run_name, evals, load_data):
    """hepflow.integrate with the uniform sampler against madevent, within 3 combined sigma;
    plain Monte Carlo needs ~4e5 points to reach a few 1e-4 off the pole."""
    runs = {r["run_name"]: r for r in load_data("mg5_cross_sections_ee_mumu.json")["runs"]}
    run = runs[run_name]
    ig = hepflow.create("integrand", "ee_mumu", sqrt_s=run["sqrt_s"])
    res = uniform_integral(ig, evals=evals, seed=len(run_name))
    sigma = math.hypot(res.sdev, run["error_pb"])
    pull = (res.mean - run["cross_section_pb"]) / sigma
    assert abs(pull) < 3, (res.mean, res.sdev, run["cross_section_pb"], run["error_pb"])
    assert res.sdev < max(2 * run["error_pb"], 3e-3 * res.mean)


@pytest.mark.parametrize("sqrt_s", [10.0, 91.188, 500.0])
def test_qed_only_cross_section_is_4_pi_alpha2_over_3s(sqrt_s):
    ig = hepflow.create("integrand", "ee_mumu", sqrt_s=sqrt_s, z_boson=False)
    s = sqrt_s**2
    exact = 4 * math.pi * SM.aEW**2 / (3 * s) * GEV2_TO_PB
    assert math.isclose(ig.reference, exact, rel_tol=1e-13)
    assert math.isclose(gauss_legendre(ig), exact, rel_tol=1e-12)
    res = uniform_integral(ig, evals=40_000, seed=7)
    assert abs(res.mean - exact) < 3 * res.sdev


def test_z_peak_from_partial_widths():
    """At sqrt_s = MZ the photon-Z interference vanishes (Re chi = 0), so sigma - sigma_QED is
    the Z peak sigma_0 = 12 pi Gamma_ee Gamma_mumu / (MZ^2 Gamma_Z^2), with the tree-level
    Gamma(Z -> l l) = G_F MZ^3 (v^2 + a^2) / (6 sqrt 2 pi), v = -1/2 + 2 sw2, a = -1/2, and
    Gamma_Z the param_card width."""
    full = hepflow.create("integrand", "ee_mumu", sqrt_s=SM.MZ)
    qed = hepflow.create("integrand", "ee_mumu", sqrt_s=SM.MZ, z_boson=False)
    v, a = -0.5 + 2 * SM.sw2, -0.5
    gamma_ll = SM.Gf * SM.MZ**3 * (v**2 + a**2) / (6 * math.sqrt(2) * math.pi)
    sigma0 = 12 * math.pi * gamma_ll**2 / (SM.MZ**2 * SM.WZ**2) * GEV2_TO_PB
    assert math.isclose(gauss_legendre(full) - gauss_legendre(qed), sigma0, rel_tol=1e-11)
    assert math.isclose(full.reference - qed.reference, sigma0, rel_tol=1e-11)
    res = uniform_integral(full, evals=100_000, seed=11)
    assert abs(res.mean - qed.reference - sigma0) < 3 * res.sdev


def textbook_afb(sqrt_s: float) -> float:
    """Leading-order A_FB(e+e- -> mu+mu-) = 3 C1 / (8 C0) with vector and axial couplings
    v = T3 - 2 Q sw2, a = T3 and chi = s / (s - MZ^2 + i MZ GZ) / (4 sw2 cw2):
    C0 = 1 + 2 v^2 Re chi + (v^2 + a^2)^2 |chi|^2, C1 = 4 a^2 Re chi + 8 v^2 a^2 |chi|^2."""
    s = sqrt_s**2
    v, a = -0.5 + 2 * SM.sw2, -0.5
    chi = s / complex(s - SM.MZ**2, SM.MZ * SM.WZ) / (4 * SM.sw2 * SM.cw**2)
    c0 = 1 + 2 * v**2 * chi.real + (v**2 + a**2) ** 2 * abs(chi) ** 2
    c1 = 4 * a**2 * chi.real + 8 * v**2 * a**2 * abs(chi) ** 2
    return 3 * c1 / (8 * c0)


@pytest.mark.parametrize(("sqrt_s", "sign"), [(30.0, -1), (60.0, -1), (91.188, 1), (200.0, 1)])
def test_forward_backward_asymmetry_matches_textbook(sqrt_s, sign):
    """Forward: mu- along e- (equivalently mu+ along e+, particle 3 along +z: x0 > 1/2)."""
    ig = hepflow.create("integrand", "ee_mumu", sqrt_s=sqrt_s)
    forward, backward = gauss_legendre(ig, 0.5, 1.0), gauss_legendre(ig, 0.0, 0.5)
    afb = (forward - backward) / (forward + backward)
    expected = textbook_afb(sqrt_s)
    assert math.isclose(afb, expected, rel_tol=1e-10)
    assert math.copysign(1, afb) == sign
    qed = hepflow.create("integrand", "ee_mumu", sqrt_s=sqrt_s, z_boson=False)
    assert abs(gauss_legendre(qed, 0.5, 1.0) / gauss_legendre(qed, 0.0, 0.5) - 1) < 1e-13


class _Signed:
    """f(x) sign(cos theta): its integral over the total is A_FB."""

    dim = 2

    def __init__(self, ig):
        self.ig = ig

    def __call__(self, x):
        return self.ig(x) * torch.sign(x[:, 0] - 0.5)


def test_forward_backward_asymmetry_by_monte_carlo_off_the_pole():
    for sqrt_s in (60.0, 200.0):
        ig = hepflow.create("integrand", "ee_mumu", sqrt_s=sqrt_s)
        res = uniform_integral(_Signed(ig), evals=40_000, seed=3)
        afb, err = res.mean / ig.reference, res.sdev / ig.reference
        expected = textbook_afb(sqrt_s)
        assert abs(afb - expected) < 3 * err, (afb, err, expected)
        assert abs(expected) > 10 * err  # sign resolved


# -- events and plugin wiring -------------------------------------------------------------------
@pytest.mark.parametrize("name", [*PROCESSES, "gg_tt"])
def test_events(name):
    ig = hepflow.create("integrand", f"sm:{name}", sqrt_s=400.0)
    assert isinstance(ig, Integrand) and ig.dim == 2 and ig.unit == "pb"
    x = torch.rand(50, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    ev = ig.events(x)
    assert len(ev) == 50 and ev.n_particles.tolist() == [4] * 50
    assert ev.pdg_id.view(50, 4)[0].tolist() == list(ig.pdg)
    assert ev.status.view(50, 4)[0].tolist() == [-1, -1, 1, 1]
    assert ev.mothers.view(50, 4, 2)[0].tolist() == [[0, 0], [0, 0], [1, 2], [1, 2]]
    colours = ev.color.view(50, 4, 2)[0].tolist()
    if name == "ee_mumu":
        assert colours == [[0, 0]] * 4
    elif name == "gg_tt":
        assert colours in [[list(c) for c in flow] for flow in ig.colour_flows]
    elif name == "uu_tt":  # colour u -> t, anticolour u~ -> t~
        assert colours == [[501, 0], [0, 502], [501, 0], [0, 502]]
        assert ev.mass.view(50, 4)[0].tolist() == [0.0, 0.0, 173.0, 173.0]
    else:
        assert colours == [[501, 0], [0, 501], [0, 0], [0, 0]]
    p = ev.momentum.view(50, 4, 4)
    check_momentum_conservation(p[:, :2], p[:, 2:], rtol=1e-14)
    check_on_shell(p, ev.mass.view(50, 4), rtol=1e-13)
    assert torch.equal(ev.weight, ig(x))
    assert ig.beam_pdg == tuple(ig.pdg[:2]) and ig.beam_energy == (200.0, 200.0)
    assert torch.all(ev.extras["scale"] == 400.0)
    assert torch.all(ev.extras["alpha_qed"] == 1 / 132.507)
    assert torch.all(ev.extras["alpha_s"] == 0.118)


def test_options_are_checked():
    for bad in (-1.0, 0.0, math.inf, "91", True):
        with pytest.raises((ValueError, hepflow.HepflowError), match="sqrt_s"):
            hepflow.create("integrand", "ee_mumu", sqrt_s=bad)
    with pytest.raises((ValueError, hepflow.HepflowError), match="z_boson"):
        hepflow.create("integrand", "ee_mumu", sqrt_s=91.0, z_boson="no")
    with pytest.raises(hepflow.ComponentError, match="sqrt_s"):
        hepflow.create("integrand", "ee_mumu")
    ig = hepflow.create("integrand", "ee_mumu", sqrt_s=91.0)
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        ig(torch.zeros(3, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"\(N, 4, 4\)"):
        ig.matrix_element(torch.zeros(3, 3, 4, dtype=torch.float64))


def test_uu_tt_against_the_textbook_formula(load_data):
    """Ellis-Stirling-Webber: averaged |M|^2 = (4/9) g^4 (tau1^2 + tau2^2 + rho/2), with
    tau1,2 = 2 p1.p3,4 / s and rho = 4 MT^2 / s (a second check beside MadGraph's values)."""
    recs = records(load_data, "uu_tt")
    p = torch.tensor([r["momenta"] for r in recs], dtype=torch.float64)
    s = (p[:, 0] + p[:, 1])[:, 0] ** 2
    tau1 = 2 * (p[:, 0, 0] * p[:, 2, 0] - (p[:, 0, 1:] * p[:, 2, 1:]).sum(-1)) / s
    tau2 = 2 * (p[:, 0, 0] * p[:, 3, 0] - (p[:, 0, 1:] * p[:, 3, 1:]).sum(-1)) / s
    rho = 4 * SM.MT**2 / s
    textbook = 4 / 9 * SM.gs**4 * (tau1**2 + tau2**2 + rho / 2)
    ig = hepflow.create("integrand", "uu_tt", sqrt_s=500.0)
    assert torch.allclose(ig.matrix_element(p), textbook, rtol=1e-12, atol=0)
    with pytest.raises((ValueError, hepflow.HepflowError), match="below the u u~ > t t~ threshold"):
        hepflow.create("integrand", "uu_tt", sqrt_s=300.0)
    options = hepflow.get_registry().lookup("integrand", "uu_tt").options()
    assert "z_boson" not in options and "sqrt_s" in options


def test_param_card_option(tmp_path):
    card = tmp_path / "param_card.dat"
    card.write_text(SM_PARAM_CARD)
    x = torch.rand(10, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    default = hepflow.create("integrand", "ee_mumu", sqrt_s=91.188)
    same = hepflow.create("integrand", "ee_mumu", sqrt_s=91.188, param_card=str(card))
    assert torch.equal(default(x), same(x))
    heavier = tmp_path / "heavier.dat"
    heavier.write_text(SM_PARAM_CARD.replace("9.118800e+01 # mz", "1.000000e+02 # mz"))
    moved = hepflow.create("integrand", "ee_mumu", sqrt_s=91.188, param_card=str(heavier))
    assert moved.params.MZ == 100.0 and moved.reference < default.reference / 10


# -- g g -> t t~ -------------------------------------------------------------------------------
@pytest.fixture
def zero_width_card(tmp_path):
    card = tmp_path / "param_card_wt0.dat"
    card.write_text(SM_PARAM_CARD.replace("DECAY 6 1.491500e+00", "DECAY 6 0.0"))
    return str(card)


@pytest.mark.parametrize("zero_width", [False, True])
def test_gg_tt_matches_madgraph_at_every_point(zero_width, zero_width_card, load_data):
    """Both MadGraph sets: the default top width (in the t-channel propagators) and WT = 0."""
    recs = [r for r in records(load_data, "gg_tt") if bool(r["param_overrides"]) == zero_width]
    assert len(recs) == 20
    card = zero_width_card if zero_width else None
    ig = hepflow.create("integrand", "gg_tt", sqrt_s=500.0, param_card=card)
    assert (0.0 if zero_width else 1.4915) == ig.params.WT
    assert list(ig.pdg) == recs[0]["pdg_order"] and ig.iden == recs[0]["iden_average_factor"]
    p = torch.tensor([r["momenta"] for r in recs], dtype=torch.float64)
    ref = torch.tensor([r["me2"] for r in recs], dtype=torch.float64)
    rel = ((ig.matrix_element(p) - ref) / ref).abs()
    assert rel.max() < 1e-10, f"worst relative difference {float(rel.max()):.3g}"
    assert not hasattr(ig, "reference")  # the width makes the closed form inexact


def test_gg_tt_against_the_textbook_formulas(zero_width_card, load_data):
    """Ellis-Stirling-Webber (WT = 0): averaged |M|^2 = g^4 (1/(6 tau1 tau2) - 3/8)
    (tau1^2 + tau2^2 + rho - rho^2 / (4 tau1 tau2)), and its integral
    sigma = pi alpha_s^2 / (3 s) [(1 + rho + rho^2/16) ln((1 + beta)/(1 - beta))
    - beta (7/4 + 31 rho / 16)]."""
    recs = [r for r in records(load_data, "gg_tt") if r["param_overrides"]]
    ig = hepflow.create("integrand", "gg_tt", sqrt_s=500.0, param_card=zero_width_card)
    p = torch.tensor([r["momenta"] for r in recs], dtype=torch.float64)
    s = (p[:, 0] + p[:, 1])[:, 0] ** 2
    tau1 = 2 * (p[:, 0, 0] * p[:, 2, 0] - (p[:, 0, 1:] * p[:, 2, 1:]).sum(-1)) / s
    tau2 = 2 * (p[:, 0, 0] * p[:, 3, 0] - (p[:, 0, 1:] * p[:, 3, 1:]).sum(-1)) / s
    rho = 4 * SM.MT**2 / s
    textbook = (
        SM.gs**4
        * (1 / (6 * tau1 * tau2) - 3 / 8)
        * (tau1**2 + tau2**2 + rho - rho**2 / (4 * tau1 * tau2))
    )
    assert torch.allclose(ig.matrix_element(p), textbook, rtol=1e-12, atol=0)
    for sqrt_s in (360.0, 500.0, 2000.0):
        ig = hepflow.create("integrand", "gg_tt", sqrt_s=sqrt_s, param_card=zero_width_card)
        s = sqrt_s**2
        rho = 4 * SM.MT**2 / s
        beta = math.sqrt(1 - rho)
        sigma = (
            math.pi
            * SM.aS**2
            / (3 * s)
            * (
                (1 + rho + rho**2 / 16) * math.log((1 + beta) / (1 - beta))
                - beta * (7 / 4 + 31 * rho / 16)
            )
            * GEV2_TO_PB
        )
        assert math.isclose(gauss_legendre(ig, n=200), sigma, rel_tol=1e-10)


def test_gg_tt_colour_flows_in_events():
    ig = hepflow.create("integrand", "gg_tt", sqrt_s=500.0)
    x = torch.rand(400, 2, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    ev = ig.events(x)
    colours = ev.color.view(400, 4, 2)
    flows = torch.tensor(ig.colour_flows, dtype=torch.int64)
    is_flow = [(colours == f).all(-1).all(-1) for f in flows]
    assert bool((is_flow[0] ^ is_flow[1]).all())  # each event has exactly one of the two
    # the flow with the larger sum_hel |JAMP|^2 dominates: t next to the gluon it is closer to
    forward = ev.momentum.view(400, 4, 4)[:, 2, 3] > 0  # top along gluon 1
    assert is_flow[0][forward].float().mean() > 0.6 and is_flow[1][~forward].float().mean() > 0.6
    assert torch.equal(ig.events(x).color, ev.color)  # reproducible for the same points


def test_unweighted_lhe_events_follow_the_textbook_angular_distribution(tmp_path):
    """The whole chain a Pythia user relies on: VEGAS, unweighting, the LHE file, read back by
    pylhe. At 200 GeV the mu- leaves along the e- with dN/dcos ~ (3/8) (1 + cos^2) + A_FB cos
    (A_FB = 0.57 from the textbook formula): ten bins of cos theta, chi^2 within 4 standard
    deviations of its 9 degrees of freedom, and A_FB within 4 binomial errors."""
    n = 40_000
    run_pipeline(
        parse_card(
            {
                "seed": 5,
                "output_dir": str(tmp_path),
                "integrand": {"name": "sm:ee_mumu", "sqrt_s": 200.0},
                "sampler": "vegas",
                "integration": {"survey_iterations": 3, "iterations": 3, "evals": 20_000},
                "generation": {"events": n},
                "output": [{"writer": "lhe", "path": "events.lhe"}],
            },
            source="afb card",
        )
    )
    cosines = []
    for event in pylhe.LHEFile.fromfile(str(tmp_path / "events.lhe")).events:
        p = {int(q.id): np.array([q.px, q.py, q.pz]) for q in event.particles}
        cosines.append(p[13] @ p[11] / np.linalg.norm(p[13]) / np.linalg.norm(p[11]))
    cosines = np.array(cosines)
    assert len(cosines) == n
    afb = textbook_afb(200.0)
    measured = float(np.mean(np.sign(cosines)))  # (N_F - N_B) / N
    assert abs(measured - afb) < 4 * math.sqrt((1 - afb**2) / n), (measured, afb)

    def cdf(c):  # of the density (3/8) (1 + c^2) + A_FB c on [-1, 1]
        return (3 * (c + 1) + (c**3 + 1)) / 8 + afb * (c**2 - 1) / 2

    edges = np.linspace(-1.0, 1.0, 11)
    expected = n * np.diff(cdf(edges))
    counts, _ = np.histogram(cosines, edges)
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert abs(chi2 - 9) < 4 * math.sqrt(2 * 9), (chi2, counts, expected)
