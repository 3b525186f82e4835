"""Monte Carlo statistics: accumulators of weights, combined iterations, merged shards.

Conventions follow Lepage's ``vegas``: each iteration gives an estimate with its variance;
iterations are combined by inverse-variance weighting, with chi^2/dof and the Q value (the
probability that a chi^2 this large arises by chance) as the consistency check.

All sums are float64 and numerically stable (per-chunk means and centred second moments,
combined with Chan et al.'s parallel update), so that shards from different workers merge
exactly as if they had been one run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from .errors import HepflowError

__all__ = [
    "Combined",
    "Estimate",
    "WeightAccumulator",
    "combine",
    "format_uncertainty",
    "max_weight_quantile",
    "q_value",
    "unweighting_efficiency",
]


@dataclass(frozen=True)
class Estimate:
    """One estimate of an integral: mean, variance of the mean, and evaluations used."""

    mean: float
    variance: float
    n_evals: int

    @property
    def sdev(self) -> float:
        return math.sqrt(self.variance)

    def __str__(self) -> str:
        return format_uncertainty(self.mean, self.sdev)


@dataclass(frozen=True)
class Combined(Estimate):
    """Inverse-variance weighted average of several estimates, with its consistency."""

    chi2: float = 0.0
    dof: int = 0
    q: float = 1.0

    @property
    def chi2_dof(self) -> float:
        return self.chi2 / self.dof if self.dof > 0 else 0.0


class WeightAccumulator:
    """Accumulates weights w = f/q of one iteration (or one shard) in float64.

    ``add(w)`` takes a chunk of weights on any device; ``add(w, stratum)`` takes a chunk drawn
    with a fixed number of points per stratum and uses the stratified variance
    sum_h n_h s_h^2 / N^2, which is what VEGAS+ and multi-channel sampling need. ``merge``
    combines independent accumulators (shards) exactly.
    """

    __slots__ = (
        "_m2",
        "_mean",
        "_n",
        "_strat_s",
        "_stratified",
        "max_abs_weight",
        "n_dropped",
        "n_nonzero",
    )

    def __init__(self) -> None:
        self._n = 0
        self._mean = 0.0
        self._m2 = 0.0  # sum of squared deviations from the mean
        self._strat_s = 0.0  # sum over strata of n_h * s_h^2
        self._stratified: bool | None = None
        self.n_nonzero = 0
        self.n_dropped = 0
        self.max_abs_weight = 0.0

    @property
    def n_evals(self) -> int:
        """Points accumulated (dropped ones included: they were added as zeros)."""
        return self._n

    def add(self, weights: torch.Tensor, stratum: torch.Tensor | None = None) -> None:
        w = weights.detach().to(torch.float64).reshape(-1)
        n = w.shape[0]
        if n == 0:
            return
        stratified = stratum is not None
        if self._stratified is None:
            self._stratified = stratified
        elif self._stratified != stratified:
            raise HepflowError(
                "WeightAccumulator: cannot mix stratified and plain chunks in one estimate"
            )
        # one-pass reductions without n-sized temporaries: at 1e6 points per iteration these
        # run several times faster than the textbook expressions (see BENCHMARKS.md)
        mean = float(w.mean())
        if stratified:
            m2 = 0.0  # the stratified variance replaces the plain one
            self._strat_s += _stratified_sum(w, stratum)
        else:
            m2 = float(torch.var(w, correction=0)) * n
        self._chan_update(n, mean, m2)
        self.n_nonzero += int(torch.count_nonzero(w))
        lo, hi = torch.aminmax(w)
        self.max_abs_weight = max(self.max_abs_weight, -float(lo), float(hi))

    def count_dropped(self, n: int) -> None:
        """Record points removed by the user's drop policy (non-finite integrand values)."""
        self.n_dropped += int(n)

    def _chan_update(self, n_b: int, mean_b: float, m2_b: float) -> None:
        n_a = self._n
        n = n_a + n_b
        delta = mean_b - self._mean
        self._mean += delta * n_b / n
        self._m2 += m2_b + delta * delta * n_a * n_b / n
        self._n = n

    def merge(self, other: WeightAccumulator) -> WeightAccumulator:
        """A new accumulator holding both (independent shards of the same estimate)."""
        if self._stratified is not None and other._stratified not in (None, self._stratified):
            raise HepflowError("cannot merge a stratified accumulator with a plain one")
        out = WeightAccumulator()
        for acc in (self, other):
            if acc._n:
                out._chan_update(acc._n, acc._mean, acc._m2)
            out._strat_s += acc._strat_s
            out.n_nonzero += acc.n_nonzero
            out.n_dropped += acc.n_dropped
            out.max_abs_weight = max(out.max_abs_weight, acc.max_abs_weight)
        out._stratified = self._stratified if self._stratified is not None else other._stratified
        return out

    def estimate(self) -> Estimate:
        n = self._n
        if n < 2:
            raise HepflowError(f"an estimate needs at least 2 evaluated points, got {n}")
        variance = self._strat_s / (n * n) if self._stratified else self._m2 / (n - 1) / n
        return Estimate(mean=self._mean, variance=max(variance, 0.0), n_evals=n)

    def state_dict(self) -> dict:
        """Plain numbers, so that a shard's accumulator travels as JSON or pickle."""
        return {
            "n": self._n,
            "mean": self._mean,
            "m2": self._m2,
            "strat_s": self._strat_s,
            "stratified": self._stratified,
            "n_nonzero": self.n_nonzero,
            "n_dropped": self.n_dropped,
            "max_abs_weight": self.max_abs_weight,
        }

    @classmethod
    def from_state_dict(cls, state: dict) -> WeightAccumulator:
        acc = cls()
        acc._n, acc._mean, acc._m2 = state["n"], state["mean"], state["m2"]
        acc._strat_s, acc._stratified = state["strat_s"], state["stratified"]
        acc.n_nonzero, acc.n_dropped = state["n_nonzero"], state["n_dropped"]
        acc.max_abs_weight = state["max_abs_weight"]
        return acc


def _stratified_sum(w: torch.Tensor, stratum: torch.Tensor) -> float:
    """sum_h n_h * s_h^2, with s_h^2 the unbiased variance of w in stratum h."""
    s = stratum.reshape(-1).to(device=w.device, dtype=torch.int64)
    if s.shape != w.shape:
        raise HepflowError(f"stratum labels have shape {tuple(s.shape)}, weights {tuple(w.shape)}")
    if int(s.min()) < 0 or int(s.max()) >= 4 * s.numel():  # sparse labels: compact them
        _, s = torch.unique(s, return_inverse=True)
    k = int(s.max()) + 1  # empty strata get count 0 and drop out below
    # Shift by the overall mean, then one pass of per-stratum sums and sums of squares. The
    # round-off in s_h^2 is ~1e-16 of <w>^2, negligible unless a stratum's relative spread is
    # below ~1e-6 (then it is floored at 0, as vegas does); a second pass with a gather per
    # point would cost twice as much at 1e6 points.
    d = w - w.mean()
    counts = torch.bincount(s, minlength=k).to(w.dtype)
    sums = torch.bincount(s, weights=d, minlength=k)
    sumsq = torch.bincount(s, weights=d * d, minlength=k)
    m2 = (sumsq - sums * sums / counts.clamp_min(1)).clamp_min(0.0)
    return float(torch.where(counts > 1, m2 * counts / (counts - 1).clamp_min(1), 0.0).sum())


def q_value(chi2: float, dof: int) -> float:
    """P(chi^2_dof >= chi2): the regularised upper incomplete gamma function Q(dof/2, chi2/2)."""
    if dof <= 0:
        return 1.0
    a = torch.tensor(dof / 2.0, dtype=torch.float64)
    x = torch.tensor(chi2 / 2.0, dtype=torch.float64)
    return float(torch.special.gammaincc(a, x))


def combine(estimates: Sequence[Estimate]) -> Combined:
    """Weighted average of independent estimates, weights 1/variance (as ``vegas``).

    Estimates with zero variance (an integrand constant under the sampler) are exact: if any
    are present, the average is over those alone.
    """
    estimates = list(estimates)
    if not estimates:
        raise HepflowError("nothing to combine: no iterations were accumulated")
    n_evals = sum(e.n_evals for e in estimates)
    exact = [e for e in estimates if e.variance == 0.0]
    if exact:
        mean = sum(e.mean for e in exact) / len(exact)
        agree = all(math.isclose(e.mean, mean, rel_tol=1e-12, abs_tol=0.0) for e in exact)
        dof = len(exact) - 1
        chi2, q = (0.0, 1.0) if agree else (math.inf, 0.0)  # exact values that disagree
        return Combined(mean=mean, variance=0.0, n_evals=n_evals, chi2=chi2, dof=dof, q=q)
    inv = [1.0 / e.variance for e in estimates]
    norm = sum(inv)
    mean = sum(wi * e.mean for wi, e in zip(inv, estimates, strict=False)) / norm
    chi2 = sum(wi * (e.mean - mean) ** 2 for wi, e in zip(inv, estimates, strict=False))
    dof = len(estimates) - 1
    return Combined(
        mean=mean, variance=1.0 / norm, n_evals=n_evals, chi2=chi2, dof=dof, q=q_value(chi2, dof)
    )


def merge_shards(shards: Iterable[WeightAccumulator]) -> WeightAccumulator:
    """Merge the accumulators of independent shards of one estimate."""
    out = WeightAccumulator()
    for shard in shards:
        out = out.merge(shard)
    return out


def max_weight_quantile(weights: torch.Tensor, quantile: float) -> float:
    """The ``quantile`` of |w| over non-zero weights: a maximum weight that ignores rare spikes.

    ``quantile=1`` is the plain maximum. Events above it become overweight in unweighting.
    """
    if not 0.0 < quantile <= 1.0:
        raise HepflowError(f"max-weight quantile must be in (0, 1], got {quantile}")
    w = weights.detach().to(torch.float64).abs().reshape(-1)
    w = w[w > 0]
    if w.numel() == 0:
        raise HepflowError("no non-zero weights to estimate a maximum weight from")
    if quantile == 1.0:
        return float(w.max())
    # numpy, not torch.quantile: the latter refuses more than 2**24 elements (a real run's size)
    return float(np.quantile(w.cpu().numpy(), quantile))


def unweighting_efficiency(weights: torch.Tensor, max_weight: float | None = None) -> float:
    """Expected acceptance of hit-or-miss unweighting, <|w|> / w_max (w_max = max |w| if None)."""
    w = weights.detach().to(torch.float64).abs().reshape(-1)
    if w.numel() == 0:
        raise HepflowError("no weights to estimate an unweighting efficiency from")
    w_max = float(w.max()) if max_weight is None else float(max_weight)
    if w_max <= 0:
        return 0.0
    return float(torch.clamp(w, max=w_max).mean()) / w_max


def format_uncertainty(mean: float, sdev: float) -> str:
    """Compact 'value(error)' notation with two digits of error, e.g. 1.0006(64), as gvar."""
    if not (math.isfinite(mean) and math.isfinite(sdev)):
        return f"{mean:g} +- {sdev:g}"
    exponent = 0
    size = abs(mean) if mean != 0 else sdev
    if size != 0 and (size >= 1e5 or size < 1e-3):
        exponent = math.floor(math.log10(size))
    scale = 10.0**exponent
    m, s = mean / scale, sdev / scale
    if s <= 0:
        body = f"{m:.6g}(0)"
    else:
        decimals = max(0, 1 - math.floor(math.log10(s)))
        if decimals and round(s * 10**decimals) >= 100:  # 0.0996 -> (10), not (100)
            decimals -= 1
        body = f"{m:.{decimals}f}({round(s * 10**decimals):d})" if decimals else f"{m:.0f}({s:.0f})"
    return body if exponent == 0 else f"{body}e{exponent:+03d}"


def estimate_dict(estimate: Estimate) -> dict:
    """JSON-ready fields of an estimate."""
    out = asdict(estimate)
    out["sdev"] = estimate.sdev
    return out
