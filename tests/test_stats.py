"""Statistics: accumulators, shard merging, stratified variance, combination, formatting.

Reference numbers come from numpy, scipy, closed-form integrals and gvar (Lepage's own
formatting, whose outputs are quoted verbatim below); none are chosen by the code under test.
"""

from __future__ import annotations

import itertools
import json
import math
import re

import numpy as np
import pytest
import scipy.stats
import torch

from hepflow.errors import HepflowError
from hepflow.stats import (
    Combined,
    Estimate,
    WeightAccumulator,
    combine,
    format_uncertainty,
    max_weight_quantile,
    merge_shards,
    q_value,
    unweighting_efficiency,
)


def _weights(n: int, seed: int) -> np.ndarray:
    """Heavy-tailed weights with signs and exact zeros, like those of a real integrand."""
    rng = np.random.default_rng(seed)
    w = rng.lognormal(0.0, 1.5, n) * rng.choice([-1.0, 1.0], n, p=[0.2, 0.8])
    w[rng.random(n) < 0.1] = 0.0
    return w


# -- plain accumulator ---------------------------------------------------------------------------
def test_accumulator_matches_numpy_over_uneven_chunks():
    w = _weights(10_007, seed=1)
    acc = WeightAccumulator()
    cuts = [0, 0, 1, 2, 500, 4000, 4001, 9000, 10_007]  # includes empty and one-point chunks
    for a, b in itertools.pairwise(cuts):
        acc.add(torch.from_numpy(w[a:b]))
    est = acc.estimate()
    assert est.n_evals == w.size == acc.n_evals
    assert est.mean == pytest.approx(np.mean(w), rel=1e-12)
    assert est.variance == pytest.approx(np.var(w, ddof=1) / w.size, rel=1e-12)
    assert est.sdev == pytest.approx(math.sqrt(np.var(w, ddof=1) / w.size), rel=1e-12)
    assert acc.n_nonzero == int(np.count_nonzero(w))
    assert acc.max_abs_weight == np.max(np.abs(w))


def test_accumulator_works_in_float64_whatever_the_input_dtype():
    w32 = torch.from_numpy(_weights(5000, seed=2)).to(torch.float32)
    acc = WeightAccumulator()
    acc.add(w32)
    ref = w32.numpy().astype(np.float64)
    assert acc.estimate().mean == pytest.approx(ref.mean(), rel=1e-12)
    assert acc.estimate().variance == pytest.approx(ref.var(ddof=1) / ref.size, rel=1e-12)


def test_estimate_needs_two_points_and_constant_weights_have_zero_variance():
    acc = WeightAccumulator()
    with pytest.raises(HepflowError, match="at least 2"):
        acc.estimate()
    acc.add(torch.tensor([3.0]))
    with pytest.raises(HepflowError, match="got 1"):
        acc.estimate()
    const = WeightAccumulator()
    const.add(torch.full((1000,), 2.0, dtype=torch.float64))
    assert const.estimate() == Estimate(mean=2.0, variance=0.0, n_evals=1000)


# -- merging shards (Chan et al.) ----------------------------------------------------------------
def test_merged_shards_equal_one_accumulator_over_the_concatenation():
    # shards of very different sizes and offsets stress the delta^2 n_a n_b / n term
    sizes, offsets = [1, 10, 1000, 3, 5000, 2], [0.0, 1e3, -5.0, 1e4, 2.0, -1e3]
    shards, parts = [], []
    for i, (n, off) in enumerate(zip(sizes, offsets, strict=True)):
        w = _weights(n, seed=10 + i) + off
        parts.append(w)
        acc = WeightAccumulator()
        acc.add(torch.from_numpy(w))
        shards.append(acc)
    whole = WeightAccumulator()
    whole.add(torch.from_numpy(np.concatenate(parts)))
    merged = merge_shards(shards)
    for got in (merged.estimate(), merge_shards(reversed(shards)).estimate()):
        assert got.n_evals == whole.estimate().n_evals
        assert got.mean == pytest.approx(whole.estimate().mean, rel=1e-12)
        assert got.variance == pytest.approx(whole.estimate().variance, rel=1e-12)
    all_w = np.concatenate(parts)
    assert merged.estimate().variance == pytest.approx(
        np.var(all_w, ddof=1) / all_w.size, rel=1e-12
    )
    assert merged.n_nonzero == whole.n_nonzero
    assert merged.max_abs_weight == whole.max_abs_weight
    # merge leaves its inputs alone and an empty accumulator is neutral
    assert shards[2].estimate().n_evals == 1000
    assert WeightAccumulator().merge(shards[2]).estimate() == shards[2].estimate()
    assert shards[2].merge(WeightAccumulator()).estimate() == shards[2].estimate()


def test_merge_keeps_dropped_counts():
    a, b = WeightAccumulator(), WeightAccumulator()
    a.add(torch.ones(3, dtype=torch.float64))
    b.add(torch.ones(3, dtype=torch.float64))
    a.count_dropped(2)
    b.count_dropped(5)
    assert a.merge(b).n_dropped == 7


def test_stratified_and_plain_chunks_do_not_mix():
    acc = WeightAccumulator()
    acc.add(torch.ones(4, dtype=torch.float64), torch.tensor([0, 0, 1, 1]))
    with pytest.raises(HepflowError, match="mix"):
        acc.add(torch.ones(4, dtype=torch.float64))
    plain = WeightAccumulator()
    plain.add(torch.ones(4, dtype=torch.float64))
    with pytest.raises(HepflowError, match="stratified"):
        acc.merge(plain)
    with pytest.raises(HepflowError, match="shape"):
        WeightAccumulator().add(torch.ones(4, dtype=torch.float64), torch.tensor([0, 1]))


# -- stratified variance ---------------------------------------------------------------------------
# f(x) = exp(3x) on [0, 1], 8 equal strata with unequal fixed allocations n_h.
_EDGES = np.linspace(0.0, 1.0, 9)
_ALLOC = np.array([2, 3, 4, 5, 2, 3, 4, 7])


def _stratified_sample(gen: torch.Generator, replicas: int):
    """(replicas, N) weights and (N,) stratum labels of a stratified estimator of int exp(3x)."""
    n_total = int(_ALLOC.sum())
    label = torch.from_numpy(np.repeat(np.arange(len(_ALLOC)), _ALLOC))
    lo = torch.from_numpy(_EDGES[:-1])[label]
    width = torch.from_numpy(np.diff(_EDGES))[label]
    u = torch.rand(replicas, n_total, generator=gen, dtype=torch.float64)
    x = lo + width * u
    q = torch.from_numpy(_ALLOC / n_total)[label] / width  # density: n_h/N per volume V_h
    return torch.exp(3 * x) / q, label


def _exact_stratified_variance() -> float:
    """sum_h V_h^2 Var_h(f) / n_h in closed form for f = exp(3x)."""
    a, b = _EDGES[:-1], _EDGES[1:]
    v = b - a
    ef = (np.exp(3 * b) - np.exp(3 * a)) / (3 * v)
    ef2 = (np.exp(6 * b) - np.exp(6 * a)) / (6 * v)
    return float(np.sum(v**2 * (ef2 - ef**2) / _ALLOC))


def test_stratified_variance_is_the_hand_computation():
    gen = torch.Generator().manual_seed(3)
    w, label = _stratified_sample(gen, replicas=1)
    w = w[0]
    acc = WeightAccumulator()
    acc.add(w, label)
    wn, ln = w.numpy(), label.numpy()
    n = wn.size
    hand = sum(np.sum(ln == h) * np.var(wn[ln == h], ddof=1) for h in range(len(_ALLOC))) / n**2
    est = acc.estimate()
    assert est.variance == pytest.approx(hand, rel=1e-12)
    assert est.mean == pytest.approx(wn.mean(), rel=1e-12)
    # the plain formula would be larger here: stratification removed the between-strata spread
    assert est.variance < np.var(wn, ddof=1) / n


def test_stratified_variance_agrees_with_the_spread_of_replicas():
    replicas = 4000
    gen = torch.Generator().manual_seed(4)
    w, label = _stratified_sample(gen, replicas)
    means, predicted = np.empty(replicas), np.empty(replicas)
    for r in range(replicas):
        acc = WeightAccumulator()
        acc.add(w[r], label)
        est = acc.estimate()
        means[r], predicted[r] = est.mean, est.variance
    exact_mean, exact_var = (math.exp(3) - 1) / 3, _exact_stratified_variance()
    # unbiased estimator of the integral: within 5 standard errors
    assert abs(means.mean() - exact_mean) < 5 * math.sqrt(exact_var / replicas)
    # E[predicted variance] is the exact variance (s_h^2 is unbiased): within 5 standard errors
    assert abs(predicted.mean() - exact_var) < 5 * predicted.std(ddof=1) / math.sqrt(replicas)
    # the empirical variance of the replicas is the exact variance: within 5 standard errors,
    # the standard error taken from the replicas themselves (no Gaussian assumption)
    sq = (means - exact_mean) ** 2
    assert abs(sq.mean() - exact_var) < 5 * sq.std(ddof=1) / math.sqrt(replicas)
    # and the ratio the user sees, predicted / observed: 5 standard errors of it are ~11% here
    assert predicted.mean() / np.var(means, ddof=1) == pytest.approx(1.0, abs=0.11)


def test_stratified_shards_merge_to_the_variance_of_their_average():
    gen = torch.Generator().manual_seed(5)
    w, label = _stratified_sample(gen, replicas=2)
    shards = []
    for r in range(2):
        acc = WeightAccumulator()
        acc.add(w[r], label)
        shards.append(acc)
    merged = shards[0].merge(shards[1]).estimate()
    e0, e1 = shards[0].estimate(), shards[1].estimate()
    # two independent equal-size shards: mean of the means, variance (V0 + V1) / 4
    assert merged.mean == pytest.approx((e0.mean + e1.mean) / 2, rel=1e-12)
    assert merged.variance == pytest.approx((e0.variance + e1.variance) / 4, rel=1e-12)


# -- combination of iterations --------------------------------------------------------------------
def test_combine_is_the_inverse_variance_average_with_chi2_and_q():
    means = np.array([1.02, 0.97, 1.05, 0.99])
    sdevs = np.array([0.02, 0.03, 0.025, 0.01])
    n = [1000, 2000, 1500, 4000]
    got = combine([Estimate(m, s**2, k) for m, s, k in zip(means, sdevs, n, strict=True)])
    wgt = 1 / sdevs**2
    mean = np.sum(wgt * means) / np.sum(wgt)
    chi2 = np.sum(wgt * (means - mean) ** 2)
    assert isinstance(got, Combined)
    assert got.mean == pytest.approx(mean, rel=1e-12)
    assert got.variance == pytest.approx(1 / np.sum(wgt), rel=1e-12)
    assert got.chi2 == pytest.approx(chi2, rel=1e-12)
    assert got.dof == 3
    assert got.chi2_dof == pytest.approx(chi2 / 3, rel=1e-12)
    assert got.q == pytest.approx(scipy.stats.chi2.sf(chi2, 3), rel=1e-10)
    assert got.n_evals == sum(n)


@pytest.mark.parametrize(
    ("chi2", "dof"),
    [(0.5, 1), (3.2, 3), (12.0, 10), (200.0, 10), (1e-3, 1), (50.0, 50), (1500.0, 1000), (0.0, 4)],
)
def test_q_value_is_the_chi2_survival_function(chi2, dof):
    assert q_value(chi2, dof) == pytest.approx(scipy.stats.chi2.sf(chi2, dof), rel=1e-8)


def test_q_value_without_degrees_of_freedom_is_one():
    assert q_value(3.0, 0) == 1.0


def test_combine_single_estimate_is_itself():
    got = combine([Estimate(1.5, 0.04, 100)])
    assert (got.mean, got.variance, got.n_evals) == (1.5, 0.04, 100)
    assert (got.chi2, got.dof, got.chi2_dof, got.q) == (0.0, 0, 0.0, 1.0)


def test_combine_zero_variance_estimates_are_exact():
    got = combine([Estimate(2.0, 0.0, 10), Estimate(2.5, 0.01, 10), Estimate(2.0, 0.0, 30)])
    assert (got.mean, got.variance, got.n_evals, got.q) == (2.0, 0.0, 50, 1.0)
    assert str(got) == "2(0)"


def test_combine_nothing_is_an_error():
    with pytest.raises(HepflowError, match="nothing to combine"):
        combine([])


# -- formatting ----------------------------------------------------------------------------------
# Expected strings are gvar 13's ``gvar.gvar(mean, sdev).fmt()`` output for the same inputs.
@pytest.mark.parametrize(
    ("mean", "sdev", "text"),
    [
        (1.0006, 0.0064, "1.0006(64)"),
        (0.1234567, 0.000123, "0.12346(12)"),
        (1234.4, 56.0, "1234(56)"),
        (-2.5, 0.13, "-2.50(13)"),
        (0.5, 0.0123, "0.500(12)"),
        (0.0012345, 1.23e-5, "0.001234(12)"),
        (1.234e-6, 5.6e-9, "1.2340(56)e-06"),
        (3.21e8, 4.5e6, "3.210(45)e+08"),
        (6.02e23, 1.2e21, "6.020(12)e+23"),
        (2.0, 0.0, "2(0)"),
        # an error that rounds up to 100 keeps two digits: one decimal fewer
        (1.0, 0.0996, "1.00(10)"),
        (1.0, 0.0995, "1.00(10)"),
        (1.0, 0.000995, "1.0000(10)"),
        (1.0, 9.96, "1(10)"),
    ],
)
def test_format_uncertainty_as_gvar(mean, sdev, text):
    assert format_uncertainty(mean, sdev) == text


def test_format_uncertainty_always_two_error_digits_and_the_right_value():
    rng = np.random.default_rng(6)
    for sdev in np.exp(rng.uniform(math.log(1e-7), math.log(9.99), 400)):
        mean = float(rng.uniform(1, 9))
        text = format_uncertainty(mean, float(sdev))
        m = re.fullmatch(r"(-?\d+)(?:\.(\d+))?\((\d+)\)", text)
        assert m, text
        decimals = len(m.group(2) or "")
        err = int(m.group(3))
        assert 10 <= err <= 99, text
        unit = 10.0**-decimals
        assert abs(float(f"{m.group(1)}.{m.group(2) or 0}") - mean) <= 0.5 * unit * (1 + 1e-9)
        assert abs(err * unit - sdev) <= 0.5 * unit * (1 + 1e-9)


def test_format_uncertainty_non_finite():
    assert format_uncertainty(float("nan"), 1.0) == "nan +- 1"
    assert format_uncertainty(1.0, float("inf")) == "1 +- inf"


def test_estimate_str_uses_the_compact_notation():
    assert str(Estimate(1.0006, 0.0064**2, 10)) == "1.0006(64)"


# -- unweighting -----------------------------------------------------------------------------------
def test_max_weight_quantile_on_known_inputs():
    w = torch.tensor([0.0, 1.0, -2.0, 3.0, 4.0, 0.0], dtype=torch.float64)
    assert max_weight_quantile(w, 1.0) == 4.0  # plain max of |w|
    assert max_weight_quantile(w, 0.5) == 2.5  # median of |w| over non-zero {1, 2, 3, 4}
    rng = np.random.default_rng(7)
    big = _weights(20_000, seed=7) * rng.random(20_000)
    nz = np.abs(big[big != 0])
    for q in (0.9, 0.99, 0.999):
        assert max_weight_quantile(torch.from_numpy(big), q) == pytest.approx(
            np.quantile(nz, q), rel=1e-12
        )


def test_max_weight_quantile_on_more_than_2_to_the_24_weights():
    # the size of a real unweighting run (torch.quantile refuses inputs this large)
    n = 2**24 + 1
    w = torch.arange(1, n + 1, dtype=torch.float64)
    # linear interpolation at position q (n - 1): the median is exactly the middle value
    assert max_weight_quantile(w, 0.5) == (n + 1) / 2
    assert max_weight_quantile(w, 1.0) == n


def test_max_weight_quantile_rejects_bad_input():
    w = torch.ones(3, dtype=torch.float64)
    for q in (0.0, -0.1, 1.5):
        with pytest.raises(HepflowError, match="quantile"):
            max_weight_quantile(w, q)
    with pytest.raises(HepflowError, match="no non-zero"):
        max_weight_quantile(torch.zeros(4), 0.9)


def test_unweighting_efficiency_on_known_inputs():
    w = torch.tensor([1.0, -2.0, 3.0, 4.0], dtype=torch.float64)
    assert unweighting_efficiency(w) == pytest.approx(2.5 / 4)  # <|w|> / max|w|
    # with w_max = 2, weights above it are capped (overweights): <min(|w|, 2)> / 2
    assert unweighting_efficiency(w, max_weight=2.0) == pytest.approx(1.75 / 2)
    assert unweighting_efficiency(torch.ones(10)) == 1.0
    assert unweighting_efficiency(torch.zeros(10)) == 0.0


# -- state ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("stratified", [False, True])
def test_state_dict_round_trip_through_json(stratified):
    gen = torch.Generator().manual_seed(8)
    w, label = _stratified_sample(gen, replicas=2)
    stratum = label if stratified else None
    acc = WeightAccumulator()
    acc.add(w[0], stratum)
    acc.count_dropped(3)
    copy = WeightAccumulator.from_state_dict(json.loads(json.dumps(acc.state_dict())))
    assert copy.state_dict() == acc.state_dict()
    assert copy.estimate() == acc.estimate()
    # and the copy goes on exactly like the original
    acc.add(w[1], stratum)
    copy.add(w[1], stratum)
    assert copy.estimate() == acc.estimate()
    assert copy.n_dropped == 3
