"""The integration driver with the ``uniform`` sampler on integrands whose integrals are known
in closed form (by hand, or from scipy's normal CDF)."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import scipy.stats
import torch
from hepflow_uniform import UniformSampler

from hepflow.errors import HepflowError, IntegrandError
from hepflow.integrate import evaluate, integrate
from hepflow.stats import combine


class Product2x:
    """prod_i 2 x_i: integral 1, per-point variance (4/3)^dim - 1."""

    reference = 1.0

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def __call__(self, x):
        return torch.prod(2 * x, dim=1)

    def moments(self) -> tuple[float, float]:
        """Variance and fourth central moment of f under uniform x (E f^k = (2^k/(k+1))^dim)."""
        ef = [(2**k / (k + 1)) ** self.dim for k in range(5)]
        var = ef[2] - 1
        mu4 = ef[4] - 4 * ef[3] + 6 * ef[2] - 3  # E (f - 1)^4 with E f = 1
        return var, mu4


class Gaussian:
    """A normal density N(0.5, sigma^2) in each dimension; its mass inside [0,1]^dim
    is (Phi(0.5/sigma) - Phi(-0.5/sigma))^dim."""

    def __init__(self, dim: int, sigma: float) -> None:
        self.dim, self.sigma = dim, sigma
        self.exact = float(
            (scipy.stats.norm.cdf(0.5 / sigma) - scipy.stats.norm.cdf(-0.5 / sigma)) ** dim
        )

    def __call__(self, x):
        z = (x - 0.5) / self.sigma
        return torch.exp(-0.5 * (z**2).sum(1)) / (self.sigma * math.sqrt(2 * math.pi)) ** self.dim


class Recorder(UniformSampler):
    """The uniform sampler, noting how often it was asked to adapt."""

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self.adapted = 0

    def adapt(self, batch) -> None:
        self.adapted += 1


# -- correctness --------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_product_within_5_sigma_and_an_honest_error(seed):
    f = Product2x(dim=3)
    res = integrate(f, UniformSampler(3), iterations=5, evals=20_000, seed=seed)
    assert abs(res.mean - 1.0) < 5 * res.sdev
    assert res.pull() == pytest.approx((res.mean - 1.0) / res.sdev)
    # the quoted error against the exact one, sqrt(Var f / N): the sample variance of N
    # points has relative standard error sqrt((mu4/var^2 - 1) / N); allow 5 of them
    var, mu4 = f.moments()
    n = res.combined.n_evals
    rel = math.sqrt((mu4 / var**2 - 1) / n)
    assert res.sdev**2 == pytest.approx(var / n, rel=5 * rel)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_gaussian_within_5_sigma(seed):
    f = Gaussian(dim=2, sigma=0.15)
    res = integrate(f, UniformSampler(2), iterations=4, evals=50_000, seed=seed)
    assert abs(res.mean - f.exact) < 5 * res.sdev
    assert res.sdev / f.exact < 0.02  # the test has power: 5 sigma is < 10% of the value


def test_chi2_and_q_are_sane_over_many_seeds():
    f = Product2x(dim=2)
    qs = []
    for seed in range(40):
        res = integrate(f, UniformSampler(2), iterations=8, evals=2000, seed=seed)
        ests = [it.estimate for it in res.iterations]
        m = np.array([e.mean for e in ests])
        w = 1 / np.array([e.variance for e in ests])
        mean = np.sum(w * m) / np.sum(w)
        chi2 = np.sum(w * (m - mean) ** 2)
        assert res.combined.dof == 7
        assert res.chi2_dof == pytest.approx(chi2 / 7, rel=1e-10)
        assert res.q == pytest.approx(scipy.stats.chi2.sf(chi2, 7), rel=1e-8)
        qs.append(res.q)
    # independent iterations of plain MC: Q is uniform on [0, 1]
    assert scipy.stats.kstest(qs, "uniform").pvalue > 1e-3


# -- reproducibility ----------------------------------------------------------------------------
def _run(seed, **kwargs):
    return integrate(Product2x(2), UniformSampler(2), iterations=3, evals=3000, seed=seed, **kwargs)


def test_same_seed_is_bit_identical():
    a, b = _run(7), _run(7)
    assert a.mean == b.mean and a.sdev == b.sdev
    assert [it.estimate for it in a.iterations] == [it.estimate for it in b.iterations]
    da, db = a.to_dict(), b.to_dict()
    da.pop("wall_time_s"), db.pop("wall_time_s")
    assert json.dumps(da) == json.dumps(db)
    # an explicit generator seeded the same way is the same run
    c = _run(None, generator=torch.Generator().manual_seed(7))
    assert c.mean == a.mean and c.sdev == a.sdev


def test_different_seeds_differ():
    a, b = _run(7), _run(8)
    assert a.mean != b.mean and a.sdev != b.sdev


def test_batch_size_chunking_gives_the_same_numbers():
    sizes = []

    class Counting(Product2x):
        def __call__(self, x):
            sizes.append(x.shape[0])
            return super().__call__(x)

    whole = integrate(Counting(2), UniformSampler(2), iterations=2, evals=1000, seed=3)
    assert sizes == [1000, 1000]
    sizes.clear()
    chunked = integrate(
        Counting(2), UniformSampler(2), iterations=2, evals=1000, seed=3, batch_size=300
    )
    assert sizes == [300, 300, 300, 100] * 2
    assert chunked.mean == whole.mean and chunked.sdev == whole.sdev
    assert [it.estimate for it in chunked.iterations] == [it.estimate for it in whole.iterations]


# -- bad integrands -----------------------------------------------------------------------------
class NanBelowQuarter(Product2x):
    """prod 2 x_i, but ``bad`` where x_0 < 1/4: the finite part integrates to 1 - 1/16."""

    def __init__(self, dim: int, bad: float = math.nan) -> None:
        super().__init__(dim)
        self.bad = bad

    def __call__(self, x):
        f = super().__call__(x)
        return torch.where(x[:, 0] < 0.25, torch.full_like(f, self.bad), f)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values_raise_with_a_count_and_an_offending_point(bad):
    seed, n = 5, 4000
    with pytest.raises(IntegrandError) as err:
        integrate(NanBelowQuarter(2, bad), UniformSampler(2), iterations=2, evals=n, seed=seed)
    msg = str(err.value)
    # replay the first iteration's points to count the offenders independently
    x = UniformSampler(2).sample(n, torch.Generator().manual_seed(seed)).x
    n_bad = int((x[:, 0] < 0.25).sum())
    assert f"NaN or inf at {n_bad} of {n} points" in msg
    shown = re.search(r"f\(x=\[([^\]]*)\]\) = (\S+)", msg)
    assert shown, msg
    point = [float(v) for v in shown.group(1).split(",")]
    assert len(point) == 2 and 0 <= point[0] < 0.25
    assert shown.group(2).rstrip(".") == str(bad)
    assert "nan_policy" in msg


def test_drop_policy_drops_counts_and_integrates_the_finite_part():
    seed, n, iters = 6, 20_000, 4
    res = integrate(
        NanBelowQuarter(2),
        UniformSampler(2),
        iterations=iters,
        evals=n,
        seed=seed,
        nan_policy="drop",
    )
    gen = torch.Generator().manual_seed(seed)
    replay = [UniformSampler(2).sample(n, gen).x for _ in range(iters)]
    per_iter = [int((x[:, 0] < 0.25).sum()) for x in replay]
    assert [it.n_dropped for it in res.iterations] == per_iter
    assert res.n_dropped == sum(per_iter) == res.to_dict()["n_dropped"]
    # about a quarter, within 5 binomial standard deviations
    assert abs(res.n_dropped - 0.25 * n * iters) < 5 * math.sqrt(0.25 * 0.75 * n * iters)
    # dropped points count as zero: the integral over where f is finite, 15/16
    assert abs(res.mean - 15 / 16) < 5 * res.sdev
    assert res.sdev / res.mean < 0.01


@pytest.mark.parametrize(
    ("output", "pattern"),
    [
        (lambda x: torch.ones(x.shape[0], 2, dtype=torch.float64), r"returned shape \(\d+, 2\)"),
        (lambda x: torch.ones(x.shape[0] + 1, dtype=torch.float64), r"returned shape \(\d+,\)"),
        (lambda x: torch.ones((), dtype=torch.float64), r"returned shape \(\)"),
        (lambda x: np.ones(x.shape[0]), "returned ndarray; it must return a torch.Tensor"),
    ],
)
def test_wrong_output_is_an_integrand_error(output, pattern):
    class Wrong:
        dim = 2

        def __call__(self, x):
            return output(x)

    with pytest.raises(IntegrandError, match=pattern):
        integrate(Wrong(), UniformSampler(2), iterations=1, evals=100)


def test_a_column_vector_and_float32_are_accepted():
    class Column:
        dim = 2

        def __call__(self, x):
            return torch.prod(2 * x, dim=1, keepdim=True).to(torch.float32)

    res = integrate(Column(), UniformSampler(2), iterations=3, evals=20_000, seed=1)
    assert abs(res.mean - 1.0) < 5 * res.sdev


def test_zero_everywhere_is_an_error_not_nan():
    class Zero:
        dim = 3

        def __call__(self, x):
            return torch.zeros(x.shape[0], dtype=torch.float64)

    with pytest.raises(IntegrandError, match="zero at all 500 points of iteration 1"):
        integrate(Zero(), UniformSampler(3), iterations=2, evals=500)


def test_a_constant_is_exact():
    class Constant:
        dim = 2

        def __call__(self, x):
            return torch.full((x.shape[0],), 2.5, dtype=torch.float64)

    res = integrate(Constant(), UniformSampler(2), iterations=3, evals=100)
    assert (res.mean, res.sdev, res.q) == (2.5, 0.0, 1.0)
    assert res.unweighting_efficiency == 1.0


def test_bad_arguments_are_named():
    f, s = Product2x(2), UniformSampler(2)
    with pytest.raises(HepflowError, match="iterations must be a positive integer, got 0"):
        integrate(f, s, iterations=0)
    with pytest.raises(HepflowError, match=r"evals must be a positive integer, got 1\.5"):
        integrate(f, s, evals=1.5)
    with pytest.raises(HepflowError, match="survey_iterations must be a non-negative integer"):
        integrate(f, s, survey_iterations=-1)
    with pytest.raises(HepflowError, match="nan_policy must be 'raise' or 'drop', got 'ignore'"):
        integrate(f, s, nan_policy="ignore")
    with pytest.raises(HepflowError, match="sampler dimension 3 differs from the integrand's 2"):
        integrate(f, UniformSampler(3))


# -- survey and refine --------------------------------------------------------------------------
@pytest.mark.parametrize("discard", [True, False])
def test_survey_iterations_discarded_or_kept(discard):
    sampler = Recorder(2)
    res = integrate(
        Product2x(2),
        sampler,
        survey_iterations=3,
        survey_evals=500,
        iterations=4,
        evals=1000,
        discard_survey=discard,
        seed=2,
    )
    phases = [it.phase for it in res.iterations]
    assert phases == ["survey"] * 3 + ["refine"] * 4
    assert [it.estimate.n_evals for it in res.iterations] == [500] * 3 + [1000] * 4
    assert [it.counted for it in res.iterations] == [not discard] * 3 + [True] * 4
    counted = res.iterations[3:] if discard else res.iterations
    assert res.combined == combine([it.estimate for it in counted])
    assert res.combined.dof == len(counted) - 1
    assert res.n_evals == 3 * 500 + 4 * 1000  # the cost includes the survey either way
    assert res.to_dict()["n_evals"] == res.n_evals
    assert sampler.adapted == 7


def test_refine_adaptation_can_be_switched_off():
    sampler = Recorder(2)
    integrate(
        Product2x(2), sampler, survey_iterations=2, iterations=3, evals=200, adapt_refine=False
    )
    assert sampler.adapted == 2


def test_on_iteration_sees_every_iteration_and_its_batch():
    seen = []
    integrate(
        Product2x(2),
        UniformSampler(2),
        survey_iterations=1,
        iterations=2,
        evals=300,
        on_iteration=lambda it, batch: seen.append((it.index, it.phase, len(batch))),
    )
    assert seen == [(1, "survey", 300), (2, "refine", 300), (3, "refine", 300)]


# -- reporting ----------------------------------------------------------------------------------
def test_summary_has_the_vegas_layout():
    res = integrate(Product2x(2), UniformSampler(2), survey_iterations=2, iterations=3, evals=2000)
    lines = res.summary().splitlines()
    assert lines[0] == "itn   integral        wgt average     chi2/dof        Q"
    assert set(lines[1]) == {"-"} and len(lines[1]) == len(lines[0])
    assert len(lines) == 2 + 5
    for line, it in zip(lines[2:], res.iterations, strict=True):
        assert line.startswith(f"{it.index:>3d}{'s' if it.phase == 'survey' else ' '}  ")
        assert line[6:].split()[0] == str(it.estimate)
    assert "(survey)" in lines[2] and "(survey)" in lines[3]
    # counted rows exactly as vegas 6.4.1 prints them ("%3d   %-15s %-15s %8.2f %8.2f"),
    # the second column the running inverse-variance average
    for k, (line, it) in enumerate(zip(lines[4:], res.iterations[2:], strict=True)):
        avg = combine([i.estimate for i in res.iterations[2 : 3 + k]])
        vegas_row = "%3d   %-15s %-15s %8.2f %8.2f" % (  # noqa: UP031
            it.index,
            it.estimate,
            avg,
            avg.chi2_dof,
            avg.q,
        )
        assert line == vegas_row
    # the running average of the last row is the result, with its chi2/dof and Q
    last = lines[-1][6:].split()
    assert last[1:] == [str(res.combined), f"{res.chi2_dof:.2f}", f"{res.q:.2f}"]
    # the columns line up under the header
    assert lines[-1].index(str(res.combined)) == lines[0].index("wgt average")
    assert str(res).startswith(res.summary())
    assert f"result = {res.combined}" in str(res)


def test_to_dict_is_json_ready_and_complete():
    res = integrate(Product2x(2), UniformSampler(2), iterations=3, evals=1000, seed=4)
    d = json.loads(json.dumps(res.to_dict()))
    expected = {
        "value": res.mean,
        "error": res.sdev,
        "chi2_dof": res.chi2_dof,
        "Q": res.q,
        "n_evals": 3000,
        "device": "cpu",
        "reference": 1.0,
        "pull": res.pull(),
    }
    assert {k: d[k] for k in expected} == expected
    assert isinstance(d["wall_time_s"], float) and d["wall_time_s"] >= 0
    assert len(d["iterations"]) == 3 and d["iterations"][0]["phase"] == "refine"
    assert 0 < d["unweighting_efficiency"] <= 1


def test_evaluate_alone():
    pts = UniformSampler(2).sample(10, torch.Generator().manual_seed(0))
    batch, n_bad = evaluate(Product2x(2), pts, batch_size=3)
    assert n_bad == 0
    torch.testing.assert_close(batch.f, torch.prod(2 * pts.x, dim=1), rtol=0, atol=0)
    torch.testing.assert_close(batch.weights, batch.f, rtol=0, atol=0)  # q = 1


def test_a_sampler_that_drifts_off_the_integrand_is_named_in_the_error():
    """Zero everywhere after non-zero iterations points at the sampler, not at the cuts."""

    class NonZeroOnlyAtFirst:
        dim = 2

        def __init__(self, calls_with_values: int):
            self.calls, self.calls_with_values = 0, calls_with_values

        def __call__(self, x):
            self.calls += 1
            return torch.full((x.shape[0],), float(self.calls <= self.calls_with_values))

    with pytest.raises(IntegrandError, match=r"iteration 2.*drifted away"):
        integrate(NonZeroOnlyAtFirst(1), UniformSampler(2), iterations=3, evals=100)
    with pytest.raises(IntegrandError, match=r"iteration 1.*Check the cuts"):
        integrate(NonZeroOnlyAtFirst(0), UniformSampler(2), iterations=3, evals=100)
