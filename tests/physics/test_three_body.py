"""The 2 -> 3 processes (e+e- -> u u~ g, u u~ -> e+e- g, u g -> e+e- u) and e+e- -> q q~ / t t~.

Checks against numbers nobody here chose: MadGraph 3.5.7's own |M|^2 point by point (tests/data,
copied from the shared reference data); the O(alpha_s) e+e- -> q q~ g Dalitz density and thrust
distribution (Ellis, Stirling, Webber, "QCD and collider physics", eqs. (3.8) and (3.29))
times the Born cross section; the textbook Born cross sections of e+e- -> q q~ with photon and
Z, massless and massive. Monte Carlo estimates use fixed seeds; tolerances are in standard
deviations of the estimate.
"""

from __future__ import annotations

import inspect
import itertools
import math

import pytest
import torch
from hepflow_sm.fermion_pairs import EEToQQbar, EEToTTbar
from hepflow_sm.three_body import EEToUUbarG, UGToEEU, UUbarToEEG
from scipy.integrate import dblquad, quad

import hepflow
from hepflow.errors import ComponentError, HepflowError
from hepflow.physics.cuts import CUT_NAMES, CutError
from hepflow.physics.phase_space import check_momentum_conservation
from hepflow.physics.sm_parameters import FERMIONS, SMParameters
from hepflow.physics.units import GEV2_TO_PB
from hepflow.physics.vectors import dot
from hepflow.plugins import Registry

PROCESSES = {"ee_uuxg": EEToUUbarG, "uux_eeg": UUbarToEEG, "ug_eeu": UGToEEU}
C_F = 4 / 3


def _uniform(n: int, d: int, seed: int) -> torch.Tensor:
    return torch.rand(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _estimate(f: torch.Tensor) -> tuple[float, float]:
    return float(f.mean()), float(f.std()) / math.sqrt(f.numel())


# -- MadGraph, point by point ---------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_matrix_element_matches_madgraph_at_every_point(name, load_data):
    data = load_data(f"mg5_matrix_elements_{name}.json")
    recs = data["records"]
    assert len(recs) == 20
    cls = PROCESSES[name]
    assert tuple(recs[0]["pdg_order"]) == cls.pdg
    assert recs[0]["iden_average_factor"] == cls.iden
    for sqrt_s in sorted({r["sqrt_s"] for r in recs}):
        proc = cls(sqrt_s=sqrt_s)
        sub = [r for r in recs if r["sqrt_s"] == sqrt_s]
        p = torch.tensor([r["momenta"] for r in sub], dtype=torch.float64)
        ref = torch.tensor([r["me2"] for r in sub], dtype=torch.float64)
        me = proc.matrix_element(p)
        assert torch.allclose(me, ref, rtol=1e-10, atol=0), (name, sqrt_s, me / ref - 1)


# -- channels and mappings ------------------------------------------------------------------


def _all_estimates(proc, n: int, seed: int) -> tuple[dict[str, tuple[float, float]], tuple]:
    x = _uniform(n, 5, seed)
    single = {m: _estimate(proc(x, mapping=m)) for m in proc.mappings}
    total, var = 0.0, 0.0
    for c in range(len(proc.channels)):
        mean, err = _estimate(proc(x, channel=torch.full((n,), c, dtype=torch.int64)))
        total, var = total + mean, var + err**2
    return single, (total, math.sqrt(var))


@pytest.mark.parametrize(
    ("name", "options", "n"),
    [
        ("ee_uuxg", {"sqrt_s": 91.188, "ycut": 0.05}, 8000),
        ("uux_eeg", {"sqrt_s": 500.0}, 8000),
        ("ug_eeu", {"sqrt_s": 500.0}, 8000),
    ],
)
def test_every_mapping_and_the_multichannel_sum_give_the_same_cross_section(name, options, n):
    proc = PROCESSES[name](**options)
    single, (multi, multi_err) = _all_estimates(proc, n, seed=11)
    assert multi_err < 0.02 * multi  # enough power to see a 10% disagreement
    for mapping, (mean, err) in single.items():
        pull = (mean - multi) / math.hypot(err, multi_err)
        assert abs(pull) < 4, (mapping, mean, err, multi, multi_err)


def test_channel_weights_sum_to_one_at_every_point():
    """sum_c alpha_c = 1: the same momenta seen by every channel split |M|^2 exactly."""
    proc = UGToEEU(sqrt_s=500.0)
    x = _uniform(200, 5, 3)
    p, _ = proc.momenta(x, mapping="z_t")
    props = proc._propagators(p)
    alpha = props / props.sum(1, keepdim=True)
    assert torch.allclose(alpha.sum(1), torch.ones(200, dtype=torch.float64), rtol=1e-14)
    assert bool((alpha > 0).all())


def test_cut_efficiency_is_reported_with_its_binomial_error():
    proc = UUbarToEEG(sqrt_s=500.0, ptj=50.0, mmll=60.0)
    x = _uniform(4000, 5, 5)
    f = proc(x)
    eff = proc.cut_efficiency
    assert eff.total == 4000
    assert eff.passed == int((f > 0).sum())
    assert 0 < eff.value < 1
    assert eff.error == pytest.approx(math.sqrt(eff.value * (1 - eff.value) / 4000))
    # every event the integrand kept satisfies the cuts it was given
    p, _ = proc.momenta(x)
    kept = p[f > 0]
    pt_g = torch.hypot(kept[:, 4, 1], kept[:, 4, 2])
    m_ll2 = (kept[:, 2] + kept[:, 3])[:, 0] ** 2 - ((kept[:, 2] + kept[:, 3])[:, 1:] ** 2).sum(-1)
    assert float(pt_g.min()) >= 50.0 and float(m_ll2.min()) >= 60.0**2


def test_missing_infrared_cut_and_unknown_options_are_clear_errors():
    with pytest.raises(HepflowError, match="infinite without a cut on ycut"):
        EEToUUbarG(sqrt_s=91.188, ycut=0)
    with pytest.raises(HepflowError, match="ptj"):
        UGToEEU(sqrt_s=500.0, ptj=0)
    with pytest.raises(CutError, match="mmll"):
        UGToEEU(sqrt_s=500.0, mmll=-3)
    with pytest.raises(TypeError, match="ptjj"):  # the registry turns this into its listing
        UGToEEU(sqrt_s=500.0, ptjj=20)
    proc = UGToEEU(sqrt_s=500.0)
    with pytest.raises(HepflowError, match="channel indices"):
        proc(_uniform(3, 5, 1), channel=torch.tensor([0, 1, 7]))
    with pytest.raises(HepflowError, match="unknown mapping"):
        proc(_uniform(3, 5, 1), mapping="nope")


def test_every_cut_is_an_explicit_option():
    """The registry lists a factory's keyword options and rejects unknown ones; a **kwargs
    would hide the cut names and swallow implicit options such as dim."""
    params = inspect.signature(EEToUUbarG).parameters.values()
    assert not any(p.kind is p.VAR_KEYWORD for p in params)
    assert set(CUT_NAMES) <= {p.name for p in params}


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_events_record(name):
    proc = PROCESSES[name](sqrt_s=500.0)
    x = _uniform(500, 5, 9)
    ev = proc.events(x, channel=torch.arange(500) % len(proc.channels))
    assert ev.n_particles.tolist() == [5] * 500
    assert ev.pdg_id.reshape(500, 5)[0].tolist() == list(proc.pdg)
    p = ev.momentum.reshape(500, 5, 4)
    assert torch.equal(ev.weight, proc(x, channel=torch.arange(500) % len(proc.channels)))
    ok = ev.weight > 0
    check_momentum_conservation(p[ok, :2], p[ok, 2:], rtol=1e-9)
    colour = torch.tensor(proc.colour_flows[0])
    # colour conservation: incoming colours appear as outgoing colours (or incoming anticolours)
    tags_in = sorted(colour[:2, 0].tolist() + colour[2:, 1].tolist())
    tags_out = sorted(colour[2:, 0].tolist() + colour[:2, 1].tolist())
    assert tags_in == tags_out


# -- e+e- -> q q~ g against the O(alpha_s) formulas -----------------------------------------

SQRT_S_Z = 91.188
YCUT = 0.05  # y_ij >= 0.05 for every pair <=> every x_i <= 0.95 <=> thrust T <= 0.95


def _dalitz(x1: float, x2: float) -> float:
    return (x1 * x1 + x2 * x2) / ((1 - x1) * (1 - x2))


def _thrust(t: float) -> float:
    return 2 * (3 * t * t - 3 * t + 2) / (t * (1 - t)) * math.log((2 * t - 1) / (1 - t)) - 3 * (
        3 * t - 2
    ) * (2 - t) / (1 - t)


@pytest.fixture(scope="module")
def qqg_sample():
    proc = EEToUUbarG(sqrt_s=SQRT_S_Z, ycut=YCUT)
    born = EEToQQbar(sqrt_s=SQRT_S_Z, flavour=2).reference
    norm = born * C_F * proc.params.aS / (2 * math.pi)
    n = 40_000
    x = _uniform(n, 5, 21)
    f = proc(x)
    p, _ = proc.momenta(x)
    energy_fractions = 2 * p[:, 2:, 0] / SQRT_S_Z
    return f, energy_fractions, norm


def test_ee_uuxg_total_cross_section_is_the_order_alpha_s_integral(qqg_sample):
    f, _, norm = qqg_sample
    lo, hi = 2 * YCUT, 1 - YCUT  # x1 range; x2 from 1 + YCUT - x1 to 1 - YCUT
    dalitz, _ = dblquad(lambda x2, x1: _dalitz(x1, x2), lo, hi, lambda x1: 1 + YCUT - x1, hi)
    thrust, _ = quad(_thrust, 2 / 3, 1 - YCUT)
    # the two textbook forms are the same integral over the same region
    assert dalitz == pytest.approx(thrust, rel=1e-7)
    mean, err = _estimate(f)
    assert err < 0.01 * mean
    assert abs(mean - norm * thrust) < 3 * err, (mean, err, norm * thrust)


def test_ee_uuxg_thrust_distribution_chi2(qqg_sample):
    """Binned thrust: chi2 over 8 bins below the 1e-3 quantile of chi2(8) = 26.12."""
    f, xs, norm = qqg_sample
    thrust = xs.max(1).values
    edges = torch.linspace(2 / 3, 1 - YCUT, 9, dtype=torch.float64).tolist()
    chi2 = 0.0
    for a, b in itertools.pairwise(edges):
        mean, err = _estimate(f * ((thrust >= a) & (thrust < b)))
        ref = norm * quad(_thrust, a, b)[0]
        chi2 += ((mean - ref) / err) ** 2
    assert chi2 < 26.12, chi2


def test_ee_uuxg_dalitz_density_chi2(qqg_sample):
    """Binned in (x_q, x_q~) on a 4 x 4 grid of [0.1, 0.95]^2 clipped to the Dalitz region:
    chi2 below the 1e-3 quantile of chi2 with as many dof as non-empty bins."""
    f, xs, norm = qqg_sample
    edges = torch.linspace(0.1, 1 - YCUT, 5, dtype=torch.float64).tolist()
    chi2, dof = 0.0, 0
    for a1, b1 in itertools.pairwise(edges):
        for a2, b2 in itertools.pairwise(edges):
            ref, _ = dblquad(
                lambda x2, x1: _dalitz(x1, x2),
                a1,
                b1,
                lambda x1, a2=a2, b2=b2: min(max(a2, 1 + YCUT - x1), b2),
                b2,
            )
            inside = (xs[:, 0] >= a1) & (xs[:, 0] < b1) & (xs[:, 1] >= a2) & (xs[:, 1] < b2)
            if ref <= 0:
                continue
            mean, err = _estimate(f * inside)
            chi2 += ((mean - norm * ref) / err) ** 2
            dof += 1
    assert dof >= 8
    # 1e-3 quantiles of chi2(dof) for the dof this grid can have
    quantile = {8: 26.12, 9: 27.88, 10: 29.59, 11: 31.26, 12: 32.91, 13: 34.53}
    assert chi2 < quantile[dof], (chi2, dof)


# -- e+e- -> q q~ and t t~ Born cross sections ----------------------------------------------


def _born(params: SMParameters, sqrt_s: float, quark: int, z_boson: bool) -> float:
    """sigma(e+e- -> Q Q~) = N_c 2 pi alpha^2 / (3 s) beta sum_{i = L, R} [(3 - beta^2) / 2
    |V_i|^2 + beta^2 |A_i|^2], V_i, A_i = (c_iR +- c_iL) / 2 with the helicity amplitudes
    c_ij = Q_e Q_q + g_i^e g_j^q chi, g_L = (T3 - Q sw2) / (sw cw), g_R = -Q sw2 / (sw cw),
    chi = s / (s - MZ^2 + i MZ GZ) (e.g. Zerwas et al., and the PDG review of the Z lineshape)."""
    s = sqrt_s**2
    beta = math.sqrt(1 - 4 * params.mass(quark) ** 2 / s)
    norm = params.sw * params.cw

    def couplings(pdg: int) -> tuple[float, tuple[float, float]]:
        q, t3 = FERMIONS[pdg]
        return q, ((t3 - q * params.sw2) / norm, -q * params.sw2 / norm)

    q_e, g_e = couplings(11)
    q_q, g_q = couplings(quark)
    chi = s / complex(s - params.MZ**2, params.MZ * params.WZ) if z_boson else 0.0
    total = 0.0
    for gi in g_e:
        c_l, c_r = (q_e * q_q + gi * gj * chi for gj in g_q)
        v, a = (c_r + c_l) / 2, (c_r - c_l) / 2
        total += (3 - beta**2) / 2 * abs(v) ** 2 + beta**2 * abs(a) ** 2
    return 3 * 2 * math.pi * params.aEW**2 / (3 * s) * beta * total * GEV2_TO_PB


def _mc(proc, n: int = 20_000, seed: int = 4) -> tuple[float, float]:
    return _estimate(proc(_uniform(n, 2, seed)))


@pytest.mark.parametrize("flavour", [1, 2, 3, 4])
def test_ee_qq_photon_only_is_three_q2_times_the_point_cross_section(flavour):
    """At sqrt_s = 10 GeV with the photon alone: sigma = 3 Q^2 4 pi alpha^2 / (3 s), exactly
    (massless quarks); the Monte Carlo integral within 3 sigma of it."""
    proc = EEToQQbar(sqrt_s=10.0, flavour=flavour, z_boson=False)
    alpha = proc.params.aEW
    q = FERMIONS[flavour][0]
    point = 3 * q * q * 4 * math.pi * alpha**2 / (3 * 100.0) * GEV2_TO_PB
    assert proc.reference == pytest.approx(point, rel=1e-12)
    mean, err = _mc(proc)
    assert abs(mean - point) < 3 * err


def test_ee_qq_at_low_energy_is_photon_dominated():
    """With the Z on at 10 GeV the point-like QED value holds to 2% (the gamma-Z interference
    is of order s / MZ^2 ~ 1%)."""
    proc = EEToQQbar(sqrt_s=10.0, flavour=2)
    point = 3 * (2 / 3) ** 2 * 4 * math.pi * proc.params.aEW**2 / 300.0 * GEV2_TO_PB
    mean, err = _mc(proc)
    assert abs(mean / point - 1) < 0.02
    assert abs(mean - _born(proc.params, 10.0, 2, True)) < 3 * err


@pytest.mark.parametrize(("flavour", "sqrt_s"), [(1, 91.188), (2, 91.188), (2, 200.0), (5, 12.0)])
def test_ee_qq_with_z_matches_the_born_formula(flavour, sqrt_s):
    """Photon + Z, massless (u, d) and massive (b, MB = 4.7 GeV near threshold)."""
    proc = EEToQQbar(sqrt_s=sqrt_s, flavour=flavour)
    ref = _born(proc.params, sqrt_s, flavour, True)
    assert proc.reference == pytest.approx(ref, rel=1e-12)
    mean, err = _mc(proc)
    assert abs(mean - ref) < 3 * err, (mean, err, ref)
    assert err < 0.01 * ref


@pytest.mark.parametrize("sqrt_s", [360.0, 500.0, 1000.0])
def test_ee_tt_matches_the_massive_born_cross_section(sqrt_s):
    proc = EEToTTbar(sqrt_s=sqrt_s)
    ref = _born(proc.params, sqrt_s, 6, True)
    assert proc.reference == pytest.approx(ref, rel=1e-12)
    mean, err = _mc(proc)
    assert abs(mean - ref) < 3 * err, (mean, err, ref)
    assert err < 0.01 * ref


def test_ee_qq_rejects_a_bad_flavour():
    with pytest.raises(ValueError, match="ee_tt"):
        EEToQQbar(sqrt_s=91.188, flavour=6)


# -- through the plugin registry and the integration driver ---------------------------------


class _ThirdParty:
    """The processes registered the way a third-party plugin would register them."""

    @staticmethod
    @hepflow.hookimpl
    def hepflow_integrands():
        return {**PROCESSES, "ee_qq": EEToQQbar, "ee_tt": EEToTTbar}


def test_registry_creates_the_processes_and_vegas_integrates_ee_uuxg():
    registry = Registry(entry_points=False)
    registry.register(_ThirdParty(), "sm3")
    with pytest.raises(ComponentError, match="ycut"):
        registry.create("integrand", "ee_uuxg", {"sqrt_s": 91.188, "ycutt": 0.05})
    proc = registry.create(
        "integrand", "ee_uuxg", {"sqrt_s": 91.188, "ycut": YCUT}, implicit={"dim": 5}
    )
    assert registry.create("integrand", "ee_qq", {"sqrt_s": 50.0, "flavour": 4}).pdg[2] == 4
    sampler = hepflow.create("sampler", "vegas", dim=proc.dim)
    result = hepflow.integrate(proc, sampler, survey_iterations=3, iterations=4, evals=5000, seed=3)
    born = EEToQQbar(sqrt_s=SQRT_S_Z, flavour=2).reference
    ref = born * C_F * proc.params.aS / (2 * math.pi) * quad(_thrust, 2 / 3, 1 - YCUT)[0]
    assert result.sdev < 0.01 * ref
    assert abs(result.mean - ref) < 3 * result.sdev, (result.mean, result.sdev, ref)
    # the default map draws exactly the region the cut leaves; the dalitz map wastes a corner
    assert proc.cut_efficiency.value == 1.0
    proc(_uniform(20_000, 5, 4), mapping="dalitz")
    assert 0.9 < proc.cut_efficiency.value < 1


def test_ee_ddxg_over_ee_uuxg_is_the_born_ratio():
    """For massless quarks the O(alpha_s) correction does not depend on the quark's couplings
    once the event orientation is integrated over: sigma(ddg) / sigma(uug) = sigma0(dd) /
    sigma0(uu). Same points for both: the ratio's error is small."""
    from hepflow_sm.three_body import EEToDDbarG

    x = _uniform(60_000, 5, 33)
    up, down = EEToUUbarG(sqrt_s=SQRT_S_Z), EEToDDbarG(sqrt_s=SQRT_S_Z)
    fu, fd = up(x), down(x)
    ratio = float(fd.mean() / fu.mean())
    # error of a ratio of correlated means (delta method)
    du, dd = fu / fu.mean(), fd / fd.mean()
    err = ratio * float((dd - du).std()) / math.sqrt(len(x))
    born_u = EEToQQbar(sqrt_s=SQRT_S_Z, flavour=2).reference
    born_d = EEToQQbar(sqrt_s=SQRT_S_Z, flavour=1).reference
    assert abs(ratio - born_d / born_u) < 4 * err, (ratio, born_d / born_u, err)
    assert down.pdg == (-11, 11, 1, -1, 21)


@pytest.mark.parametrize("sqrt_s", [40.0, SQRT_S_Z, 500.0])
def test_ee_uuxg_is_the_born_helicity_structure_times_the_eikonal_factor(sqrt_s):
    """Massless e+ e- -> q q~ g keeps the Born's electroweak helicity structure exactly:
    Born |M|^2 = A (e-.q)^2 + B (e+.q)^2 (A from lepton and quark helicities opposite, LR +
    RL; B from equal ones, LL + RR: the forward-backward asymmetry), and with the gluon

        |M|^2 = C_F g_s^2 s / 2 [A ((e-.q)^2 + (e+.q~)^2) + B ((e+.q)^2 + (e-.q~)^2)]
                / ((q.g)(q~.g)),

    the photon-only form of Ellis, Stirling, Webber (ch. 3) with the Z's helicity weights.
    A and B are read off our Born (itself checked against MadGraph), so this checks the
    orientation dependence of the 3-parton |M|^2 point by point below, at and above the Z."""
    born = EEToQQbar(sqrt_s=sqrt_s, flavour=2)
    p2, _ = born.momenta(_uniform(50, 2, 41))
    positron, electron, quark, _ = p2.unbind(1)
    basis = torch.stack([dot(electron, quark) ** 2, dot(positron, quark) ** 2], dim=1)
    me_born = born.matrix_element(p2)
    a, b = torch.linalg.lstsq(basis, me_born[:, None]).solution[:, 0]
    assert torch.allclose(basis @ torch.stack([a, b]), me_born, rtol=1e-10, atol=0)
    assert a > 0 and b > 0

    proc = EEToUUbarG(sqrt_s=sqrt_s)
    p3, _ = proc.momenta(_uniform(200, 5, 42))
    positron, electron, quark, antiquark, gluon = p3.unbind(1)
    pairs = (dot(electron, quark) ** 2 + dot(positron, antiquark) ** 2) * a
    pairs = pairs + (dot(positron, quark) ** 2 + dot(electron, antiquark) ** 2) * b
    eikonal = C_F * proc.params.gs**2 * sqrt_s**2 / 2
    expected = eikonal * pairs / (dot(quark, gluon) * dot(antiquark, gluon))
    me = proc.matrix_element(p3)
    assert torch.allclose(me, expected, rtol=1e-10, atol=0), float((me / expected - 1).abs().max())


@pytest.mark.parametrize("channel", [0, 1])
def test_each_ee_uuxg_channel_is_a_product_of_two_one_dimensional_factors(channel):
    """Channel ``quark`` draws x_q first and orients the event by the quark, and carries the
    quark term of |M|^2 (above): its integrand depends on the first coordinate and the polar
    angle only, as a product g(x_0) h(x_2); likewise ``antiquark``."""
    proc = EEToUUbarG(sqrt_s=SQRT_S_Z)
    assert [c.name for c in proc.channels] == ["quark", "antiquark"]
    x = _uniform(6, 5, 43)

    def f(z: torch.Tensor) -> torch.Tensor:
        return proc(z, channel=torch.full((z.shape[0],), channel))

    moved = x.clone()
    moved[:, [1, 3, 4]] = _uniform(6, 3, 44)
    assert torch.allclose(f(moved), f(x), rtol=1e-10, atol=0)

    def at(first: torch.Tensor, polar: torch.Tensor) -> torch.Tensor:
        z = x[:3].clone()
        z[:, 0], z[:, 2] = first, polar
        return f(z)

    a, b = x[:3], x[3:]
    product = at(a[:, 0], a[:, 2]) * at(b[:, 0], b[:, 2])
    swapped = at(a[:, 0], b[:, 2]) * at(b[:, 0], a[:, 2])
    assert torch.allclose(product, swapped, rtol=1e-10, atol=0)
