"""The integration driver: iterations of sample -> evaluate -> accumulate -> adapt.

A survey phase adapts the sampler and (by default) is left out of the final average, as its
early iterations are far from optimal; a refine phase produces the estimates that are combined
by inverse variance, with chi^2/dof and Q, and printed as ``vegas`` prints its summary.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from .channels import CHANNEL_KEY
from .errors import HepflowError, IntegrandError
from .events import PointBatch, WeightedBatch
from .progress import progress_bar
from .stats import (
    Combined,
    Estimate,
    WeightAccumulator,
    combine,
    estimate_dict,
    unweighting_efficiency,
)

__all__ = ["IterationResult", "Result", "evaluate", "integrate"]

NanPolicy = Literal["raise", "drop"]

# Points per integrand call: bounds the integrand's temporaries (vegas uses the same default);
# one call over 1e6 points in 8-d is several times slower from page faults alone.
DEFAULT_BATCH_SIZE = 100_000


@dataclass(frozen=True)
class IterationResult:
    """One iteration: its own estimate and what it cost."""

    index: int
    phase: Literal["survey", "refine"]
    estimate: Estimate
    n_dropped: int
    max_abs_weight: float
    wall_time: float
    counted: bool  # part of the combined result (refine, or survey kept)


@dataclass(frozen=True)
class Result:
    """The outcome of an integration: the combined estimate and the per-iteration record."""

    combined: Combined
    iterations: tuple[IterationResult, ...]
    n_evals: int
    wall_time: float
    device: str
    unweighting_efficiency: float
    reference: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def mean(self) -> float:
        return self.combined.mean

    @property
    def sdev(self) -> float:
        return self.combined.sdev

    @property
    def chi2_dof(self) -> float:
        return self.combined.chi2_dof

    @property
    def q(self) -> float:
        return self.combined.q

    @property
    def n_dropped(self) -> int:
        return sum(it.n_dropped for it in self.iterations)

    def pull(self) -> float | None:
        """(mean - reference) / sdev where the exact value is known."""
        if self.reference is None or self.sdev == 0:
            return None
        return (self.mean - self.reference) / self.sdev

    def summary(self) -> str:
        """The per-iteration table in ``vegas``'s layout; survey iterations marked 's'."""
        lines = [
            "itn   integral        wgt average     chi2/dof        Q",
            "-------------------------------------------------------",
        ]
        counted: list[Estimate] = []
        for it in self.iterations:
            if it.counted:
                counted.append(it.estimate)
                avg = combine(counted)
                avg_s, chi, q = str(avg), f"{avg.chi2_dof:8.2f}", f"{avg.q:8.2f}"
            else:
                avg_s, chi, q = "(survey)", "", ""
            tag = " " if it.counted else "s"
            row = f"{it.index:>3d}{tag}  {it.estimate!s:<15} {avg_s:<15} {chi:>8} {q:>8}"
            lines.append(row.rstrip())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary() + f"\n\nresult = {self.combined}    Q = {self.q:.2f}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready result: value, error, chi2/dof, Q, evaluations, wall time, device."""
        out: dict[str, Any] = {
            "value": self.mean,
            "error": self.sdev,
            "chi2_dof": self.chi2_dof,
            "dof": self.combined.dof,
            "Q": self.q,
            "n_evals": self.n_evals,
            "n_dropped": self.n_dropped,
            "unweighting_efficiency": self.unweighting_efficiency,
            "unweighting_max_weight": "max |w| over the last iteration's points",
            "wall_time_s": self.wall_time,
            "device": self.device,
            "iterations": [
                {"phase": it.phase, **estimate_dict(it.estimate), "n_dropped": it.n_dropped}
                for it in self.iterations
            ],
        }
        if self.reference is not None:
            out["reference"] = self.reference
            out["pull"] = self.pull()
        out.update(self.extra)
        return out


def evaluate(
    integrand: Callable[[torch.Tensor], torch.Tensor],
    points: PointBatch,
    *,
    nan_policy: NanPolicy = "raise",
    batch_size: int | None = None,
    name: str = "integrand",
) -> tuple[WeightedBatch, int]:
    """Evaluate the integrand on sampled points, in chunks of ``batch_size`` (default 1e5).

    Returns the weighted batch and the number of points dropped for non-finite values (they
    count as f = 0 under ``nan_policy="drop"``; under ``"raise"`` they are an error showing one
    offending point).
    """
    n = len(points)
    step = max(1, int(batch_size or DEFAULT_BATCH_SIZE))
    channel = points.extras.get(CHANNEL_KEY)
    chunks = [
        _call(
            integrand,
            points.x[i : i + step],
            name,
            None if channel is None else channel[i : i + step],
        )
        for i in range(0, n, step)
    ]
    f = torch.cat(chunks) if len(chunks) != 1 else chunks[0]
    if torch.isfinite(f.sum()):  # a finite sum has no NaN or inf in it: one cheap pass
        return points.evaluated(f), 0
    bad = ~torch.isfinite(f)
    n_bad = int(bad.sum())
    if n_bad:
        if nan_policy == "raise":
            i = int(torch.nonzero(bad)[0])
            x_bad = [round(float(v), 6) for v in points.x[i]]
            raise IntegrandError(
                f"{name} returned NaN or inf at {n_bad} of {n} points, e.g. f(x={x_bad}) = "
                f'{float(f[i])}. Fix the integrand there, or set nan_policy = "drop" '
                "(--nan-policy drop) to drop such points (they then count as zero and are "
                "reported as n_dropped)."
            )
        f = torch.where(bad, torch.zeros_like(f), f)
    return points.evaluated(f), n_bad


def _call(
    integrand: Callable, x: torch.Tensor, name: str, channel: torch.Tensor | None = None
) -> torch.Tensor:
    f = integrand(x) if channel is None else integrand(x, channel=channel)
    if not isinstance(f, torch.Tensor):
        raise IntegrandError(f"{name} returned {type(f).__name__}; it must return a torch.Tensor")
    if f.ndim == 2 and f.shape[1] == 1:
        f = f[:, 0]
    if tuple(f.shape) != (x.shape[0],):
        raise IntegrandError(
            f"{name} returned shape {tuple(f.shape)} for {x.shape[0]} points of dimension "
            f"{x.shape[1]}; it must return one value per point, shape ({x.shape[0]},)"
        )
    return f.to(torch.float64)


def integrate(
    integrand: Any,
    sampler: Any,
    *,
    iterations: int = 10,
    evals: int = 10_000,
    survey_iterations: int = 0,
    survey_evals: int | None = None,
    discard_survey: bool = True,
    adapt_refine: bool = True,
    seed: int | None = 0,
    generator: torch.Generator | None = None,
    device: str | torch.device = "cpu",
    nan_policy: NanPolicy = "raise",
    batch_size: int | None = None,
    progress: bool = False,
    name: str | None = None,
    on_iteration: Callable[[IterationResult, WeightedBatch], None] | None = None,
) -> Result:
    """Integrate ``integrand`` over [0,1]^dim with ``sampler``.

    ``survey_iterations`` of ``survey_evals`` points adapt the sampler first (kept in the
    average only if ``discard_survey`` is false); then ``iterations`` of ``evals`` points are
    combined, adapting after each if ``adapt_refine``. Randomness comes from ``generator``, or
    from a new one seeded with ``seed`` on ``device`` (``seed=None``: a fresh random seed).
    """
    _check_positive("iterations", iterations, allow_zero=False)
    _check_positive("evals", evals, allow_zero=False)
    _check_positive("survey_iterations", survey_iterations, allow_zero=True)
    if nan_policy not in ("raise", "drop"):
        raise HepflowError(f"nan_policy must be 'raise' or 'drop', got {nan_policy!r}")
    if getattr(sampler, "dim", integrand.dim) != integrand.dim:
        raise HepflowError(
            f"sampler dimension {sampler.dim} differs from the integrand's {integrand.dim}"
        )
    name = name or type(integrand).__name__
    device = torch.device(device)
    if generator is None:
        generator = torch.Generator(device=device)
        if seed is None:
            generator.seed()  # fresh entropy: not reproducible, by request
        else:
            generator.manual_seed(int(seed))
    plan = [("survey", survey_evals or evals)] * survey_iterations + [
        ("refine", evals)
    ] * iterations

    start = time.perf_counter()
    records: list[IterationResult] = []
    last_weights: torch.Tensor | None = None
    n_total = 0
    bar = progress_bar(total=len(plan), desc=f"integrating {name}", enabled=progress)
    with bar:
        for index, (phase, n_points) in enumerate(plan, start=1):
            t0 = time.perf_counter()
            points = sampler.sample(n_points, generator)
            batch, n_bad = evaluate(
                integrand, points, nan_policy=nan_policy, batch_size=batch_size, name=name
            )
            acc = WeightAccumulator()
            weights = batch.weights
            acc.add(weights, batch.stratum)
            acc.count_dropped(n_bad)
            if acc.n_nonzero == 0:
                where = (
                    "Check the cuts, the energy and the integrand's options."
                    if index == 1 or not any(r.estimate.mean for r in records)
                    else "Earlier iterations found non-zero values, so the sampler has drifted "
                    "away from them (over-adapted); use more points per iteration, a smaller "
                    "learning rate, or freeze the sampler earlier."
                )
                raise IntegrandError(
                    f"{name} is zero at all {len(batch)} points of iteration {index}: nothing to "
                    f"integrate. {where}"
                )
            n_total += len(batch)
            record = IterationResult(
                index=index,
                phase=phase,
                estimate=acc.estimate(),
                n_dropped=n_bad,
                max_abs_weight=acc.max_abs_weight,
                wall_time=time.perf_counter() - t0,
                counted=phase == "refine" or not discard_survey,
            )
            records.append(record)
            last_weights = weights
            if on_iteration is not None:
                on_iteration(record, batch)
            if phase == "survey" or adapt_refine:
                sampler.adapt(batch)
            bar.update(1)
            postfix = getattr(sampler, "progress_postfix", None)
            extra = postfix() if callable(postfix) else ""
            bar.set_postfix_str(f"{record.estimate} {extra}".rstrip())

    counted = [r.estimate for r in records if r.counted]
    reference = getattr(integrand, "reference", None)
    return Result(
        combined=combine(counted),
        iterations=tuple(records),
        n_evals=n_total,
        wall_time=time.perf_counter() - start,
        device=str(device),
        unweighting_efficiency=unweighting_efficiency(last_weights),
        reference=float(reference) if reference is not None else None,
    )


def _check_positive(name: str, value: Any, *, allow_zero: bool) -> None:
    ok = (
        isinstance(value, int)
        and not isinstance(value, bool)
        and (value >= 0 if allow_zero else value > 0)
    )
    if not ok:
        need = "a non-negative integer" if allow_zero else "a positive integer"
        raise HepflowError(f"{name} must be {need}, got {value!r}")
