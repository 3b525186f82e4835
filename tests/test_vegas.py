"""The ``vegas`` sampler plugin: contract, exact integrals, adaptation, stratification, state.

Integrands with closed-form integrals are defined here, so these tests do not depend on the
``toys`` plugin. Statistical checks use fixed seeds and tolerances in standard deviations.
"""

from __future__ import annotations

import math

import pytest
import torch
from hepflow_vegas import AdaptiveMap, VegasSampler
from hepflow_vegas.stratify import choose_ninc

import hepflow
from hepflow.errors import ComponentError, HepflowError, IntegrandError
from hepflow.integrate import evaluate
from hepflow.protocols import Sampler
from hepflow.strata import choose_nstrat


def _mass(mu: float, width: float) -> float:
    """Integral over [0, 1] of exp(-((x - mu) / width)^2) / (width sqrt(pi))."""
    return 0.5 * (math.erf((1.0 - mu) / width) + math.erf(mu / width))


class Gaussian:
    """A normalised Gaussian peak at mu on every axis; exact integral via erf."""

    def __init__(self, dim: int, width: float = 0.1, mu: float = 0.5) -> None:
        self.dim, self.width, self.mu = dim, width, mu
        self.reference = _mass(mu, width) ** dim

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        z = (x - self.mu) / self.width
        return torch.exp(-(z * z).sum(1)) / (self.width * math.sqrt(math.pi)) ** self.dim


class Camel:
    """Two Gaussian humps at 1/3 and 2/3 on the diagonal (i-flow's camel)."""

    def __init__(self, dim: int, width: float = 0.1) -> None:
        self.dim = dim
        self.humps = (Gaussian(dim, width, 1 / 3), Gaussian(dim, width, 2 / 3))
        self.reference = 0.5 * sum(h.reference for h in self.humps)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * (self.humps[0](x) + self.humps[1](x))


class Product:
    """prod_i 2 x_i: integral 1."""

    reference = 1.0

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return (2.0 * x).prod(dim=1)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def run(integrand, sampler=None, **kwargs) -> hepflow.Result:
    sampler = sampler or VegasSampler(dim=integrand.dim)
    opts = {"iterations": 5, "survey_iterations": 5, "evals": 10_000, "seed": 0}
    return hepflow.integrate(integrand, sampler, **{**opts, **kwargs})


def trained(integrand, evals: int = 10_000, **options) -> VegasSampler:
    sampler = VegasSampler(dim=integrand.dim, **options)
    run(integrand, sampler, iterations=4, survey_iterations=0, evals=evals)
    return sampler


# -- the plugin and the Sampler contract --------------------------------------------------------
def test_created_by_name_with_vegas_option_names():
    sampler = hepflow.create(
        "sampler", "vegas", dim=3, ninc=500, alpha=0.7, beta=0.5, neval_frac=0.5, adapt=False
    )
    assert isinstance(sampler, VegasSampler)
    assert isinstance(sampler, Sampler)
    assert sampler.options() == {
        "dim": 3,
        "ninc": 500,
        "alpha": 0.7,
        "beta": 0.5,
        "neval_frac": 0.5,
        "nstrat": None,
        "max_nhcube": 1_000_000_000,
        "max_neval_hcube": 50_000,
        "uniform_nstrat": False,
        "adapt": False,
    }


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"alpha": -1.0}, "alpha"),
        ({"beta": "high"}, "beta"),
        ({"neval_frac": 1.0}, "neval_frac"),
        ({"ninc": 0}, "ninc"),
        ({"nstrat": [2, 2]}, "nstrat"),
        ({"adapt": "yes"}, "adapt"),
    ],
)
def test_bad_options_are_named(options, fragment):
    with pytest.raises(ComponentError, match=fragment):
        hepflow.create("sampler", "vegas", dim=3, **options)


def test_unknown_option_lists_the_real_ones():
    with pytest.raises(ComponentError, match=r"maxinc_axis.*ninc"):
        hepflow.create("sampler", "vegas", dim=2, maxinc_axis=100)


def test_sample_is_a_stratified_point_batch():
    sampler = trained(Camel(3), evals=20_000)
    batch = sampler.sample(20_000, gen(1))  # the n it learnt its allocation for
    n = len(batch)
    assert 0.8 * 20_000 <= n <= 20_000  # hypercubes round their shares down, as vegas
    assert batch.x.shape == (n, 3) and batch.x.dtype == torch.float64
    assert batch.q.shape == (n,) and batch.q.dtype == torch.float64
    assert float(batch.x.min()) >= 0.0 and float(batch.x.max()) <= 1.0
    assert bool((batch.q > 0).all())
    assert batch.stratum.dtype == torch.int64
    counts = torch.bincount(batch.stratum)
    assert int(counts.min()) >= 2  # every hypercube has a variance
    assert sampler.strata.nhcube == counts.numel()
    # more points where the camel's humps make the hypercube estimates uncertain
    assert int(counts.max()) > 5 * int(counts.min())


def test_same_seed_same_points_and_all_randomness_from_the_generator():
    sampler = trained(Gaussian(2))
    state = sampler.state_dict()
    a = sampler.sample(5_000, gen(7))
    torch.manual_seed(123)  # the global generator must not matter
    b = sampler.sample(5_000, gen(7))
    assert torch.equal(a.x, b.x) and torch.equal(a.q, b.q)
    c = sampler.sample(5_000, gen(8))
    assert not torch.equal(a.x, c.x)
    # sampling learns nothing
    assert sampler.state_dict()["map"]["grid"].equal(state["map"]["grid"])


def test_density_is_normalised_and_is_the_inverse_jacobian():
    """E_q[g / q] = integral of g, for g = 1 and a known g, on an adapted (non-trivial) map."""
    sampler = trained(Camel(3, width=0.15))
    batch = sampler.sample(40_000, gen(3))
    for g, exact in (
        (torch.ones(len(batch), dtype=torch.float64), 1.0),
        (Product(3)(batch.x), 1.0),
    ):
        acc = hepflow.stats.WeightAccumulator()
        acc.add(g / batch.q, batch.stratum)
        est = acc.estimate()
        assert abs(est.mean - exact) < 5 * est.sdev, (est.mean, est.sdev)
    # q = (n_h / N) nhcube / J(x), with J from the inverse map at x
    n_h = torch.bincount(batch.stratum).to(torch.float64)[batch.stratum]
    share = n_h * sampler.strata.nhcube / len(batch)
    jac = sampler.map.jacobian(batch.x)
    assert torch.allclose(batch.q, share / jac, rtol=1e-9)


# -- accuracy -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "integrand", [Gaussian(4), Camel(4), Product(4)], ids=["gaussian4", "camel4", "product4"]
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_integrals_within_five_sigma(integrand, seed):
    result = run(integrand, seed=seed)
    assert abs(result.mean - integrand.reference) < 5 * result.sdev, str(result)
    assert result.sdev / integrand.reference < 0.01
    assert result.chi2_dof < 5.0, str(result)  # dof = 4: P(chi2/dof > 5) < 1e-3


@pytest.mark.slow
def test_errors_are_honest_over_many_seeds():
    """Pulls (mean - exact) / sdev over 60 seeds scatter as a unit normal: the stratified
    variance neither under- nor overstates the error. For 60 normal pulls the RMS lies in
    [0.72, 1.28] with probability 0.999; the seeds here give 1.02."""
    f = Camel(3, width=0.1)
    pulls = [
        run(f, iterations=4, survey_iterations=4, evals=4_000, seed=s).pull() for s in range(60)
    ]
    rms = math.sqrt(sum(p * p for p in pulls) / len(pulls))
    assert 0.72 < rms < 1.28, pulls


def test_grid_adapts_error_per_evaluation_falls():
    """On vegas's narrow camel the error per evaluation falls 15-35 times over 10 iterations
    (seeds 0-4); uniform sampling cannot do that."""
    camel = Camel(4, width=0.1 / math.sqrt(2))
    result = run(camel, iterations=10, survey_iterations=0, evals=10_000, seed=0)
    first, last = result.iterations[0], result.iterations[-1]
    per_eval = [it.estimate.sdev * math.sqrt(it.estimate.n_evals) for it in (first, last)]
    assert per_eval[0] / per_eval[1] > 10.0, per_eval


def test_stratification_beats_plain_vegas_on_a_peak():
    """VEGAS+ (beta > 0) against beta = 0, same evaluations, on a narrow camel where the map
    alone cannot isolate the humps (its projections also light up the off-diagonal peaks)."""
    camel = Camel(4, width=0.1 / math.sqrt(2))
    errors = {}
    for beta in (0.75, 0.0):
        sampler = VegasSampler(dim=4, beta=beta)
        errors[beta] = run(camel, sampler, iterations=5, survey_iterations=7, seed=4).sdev
    assert errors[0.75] < 0.5 * errors[0.0], errors


# -- state --------------------------------------------------------------------------------------
def test_state_round_trip_is_bit_identical(tmp_path):
    sampler = trained(Camel(3), beta=0.5, alpha=0.8)
    path = tmp_path / "vegas.pt"
    sampler.save(path)
    again = VegasSampler.load(path)
    other = hepflow.create("sampler", "vegas", dim=3)  # default options, overwritten by the state
    torch.save(sampler.state_dict(), tmp_path / "state.pt")
    other.load_state_dict(torch.load(tmp_path / "state.pt", weights_only=True))
    assert again.options() == sampler.options() == other.options()
    ref = sampler.sample(10_000, gen(5))
    for copy in (again, other):
        got = copy.sample(10_000, gen(5))
        assert torch.equal(got.x, ref.x) and torch.equal(got.q, ref.q)
        assert torch.equal(got.stratum, ref.stratum)
    # and they keep learning identically
    f = Camel(3)
    for s in (sampler, again):
        s.adapt(evaluate(f, s.sample(10_000, gen(6)))[0])
    assert torch.equal(sampler.sample(1_000, gen(2)).x, again.sample(1_000, gen(2)).x)


def test_state_for_another_dimension_is_refused():
    state = trained(Gaussian(2)).state_dict()
    with pytest.raises(HepflowError, match="dim 2"):
        VegasSampler(dim=3).load_state_dict(state)


def test_adapt_false_freezes_grid_and_allocation():
    camel = Camel(3)
    sampler = trained(camel)
    before = sampler.state_dict()
    sampler.adapting = False  # as adapt=False at creation
    run(camel, sampler, iterations=3, survey_iterations=2, seed=1)
    after = sampler.state_dict()
    assert torch.equal(before["map"]["grid"], after["map"]["grid"])
    assert torch.equal(before["sigf"], after["sigf"])
    # a frozen sampler asked for more points keeps its hypercubes and their allocation
    batch = sampler.sample(40_000, gen(0))
    assert sampler.strata.nstrat == before["strata"]
    assert torch.equal(sampler.map.grid, before["map"]["grid"].to(sampler.map.grid))
    assert len(batch) > 30_000


def test_adapt_false_at_creation_is_plain_stratified_sampling():
    sampler = hepflow.create("sampler", "vegas", dim=2, adapt=False)
    result = run(Gaussian(2, width=0.3), sampler, iterations=3, survey_iterations=1)
    assert sampler.map.ninc == [1, 1]  # the identity map, never trained
    assert bool((sampler.strata.sigf == 1).all())
    assert abs(result.pull()) < 5


def test_adapt_refuses_a_batch_from_another_grid():
    f = Gaussian(2)
    sampler = VegasSampler(dim=2)
    old = sampler.sample(1_000, gen(0))
    sampler.sample(100_000, gen(1))  # more points: more hypercubes and increments
    with pytest.raises(HepflowError, match="did not draw"):
        sampler.adapt(evaluate(f, old)[0])


def test_survey_and_refine_with_different_evals():
    result = hepflow.integrate(
        Gaussian(3),
        VegasSampler(dim=3),
        iterations=3,
        evals=20_000,
        survey_iterations=4,
        survey_evals=2_000,
        seed=3,
    )
    assert abs(result.pull()) < 5


def test_explicit_nstrat_needs_enough_points():
    sampler = VegasSampler(dim=2, nstrat=[20, 20])
    assert len(sampler.sample(10_000, gen(0))) >= 2 * 400
    with pytest.raises(HepflowError, match="needs at least"):
        sampler.sample(1_000, gen(0))


# -- the driver's checks hold with vegas --------------------------------------------------------
def test_driver_errors_and_drop_policy_work_with_vegas():
    def nan_corner(x):
        f = Gaussian(2)(x)
        return torch.where(x[:, 0] < 0.01, torch.nan, f)

    nan_corner.dim = 2
    with pytest.raises(IntegrandError, match=r"NaN or inf at \d+ of \d+ points, e.g. f\(x="):
        run(nan_corner)
    result = run(nan_corner, nan_policy="drop")
    assert result.n_dropped > 0 and math.isfinite(result.mean) and result.sdev > 0

    def zero(x):
        return torch.zeros(x.shape[0], dtype=torch.float64)

    zero.dim = 2
    with pytest.raises(IntegrandError, match="zero at all"):
        run(zero)


# -- the same numerics as Lepage's vegas --------------------------------------------------------
def test_map_adaptation_matches_vegas():
    vegas = pytest.importorskip("vegas")
    import numpy as np

    ninc = 50
    ours = AdaptiveMap(2, ninc)
    theirs = vegas.AdaptiveMap([[0.0, 1.0], [0.0, 1.0]], ninc=ninc)
    y = torch.rand(5_000, 2, generator=gen(0), dtype=torch.float64)
    y[:2500, 0] *= 0.5  # uneven training points, as stratification makes them
    for _ in range(4):
        x, jac, idx = ours.map_t(ours.coordinates(y))
        f = Camel(2)(x) * jac
        ours.adapt(*ours.accumulate(idx, f * f), alpha=0.7)
        yn = y.numpy().copy()
        xv, jv = np.empty_like(yn), np.empty(len(yn))
        theirs.map(yn, xv, jv)
        fv = Camel(2)(torch.from_numpy(xv)).numpy() * jv
        theirs.add_training_data(yn, fv**2)
        theirs.adapt(alpha=0.7)
        assert np.allclose(ours.grid.numpy(), np.asarray(theirs.grid), atol=1e-12)


@pytest.mark.parametrize(
    ("dim", "neval"), [(1, 1_234), (2, 1_000), (2, 10_000), (4, 10_000), (5, 123_456), (8, 100_000)]
)
@pytest.mark.parametrize("beta", [0.75, 0.0])
def test_hypercubes_and_increments_match_vegas(dim, neval, beta):
    vegas = pytest.importorskip("vegas")
    integ = vegas.Integrator(dim * [[0.0, 1.0]], neval=neval, beta=beta)
    frac = 0.75 if beta > 0 else 0.0
    ninc, nstrat = choose_ninc(neval, choose_nstrat(neval, dim, frac, 10**9, False), 1000)
    assert nstrat == list(integ.nstrat)
    assert ninc == list(integ.map.ninc)
