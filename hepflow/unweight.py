"""From weighted points to events: maximum weight, hit-or-miss, overweights.

Convention: the mean of the event weights is the cross section. Weighted events carry
w = f/q (scaled by the non-zero fraction of their chunk, as zero weights make no events).
Unweighted events are drawn in proportion to |f| and carry +-sigma_abs, sigma_abs the integral
of |f| (the cross section where f keeps its sign), or +-sigma_abs * |w| / w_max for overweight
events kept (``overweight="keep"``, unbiased) — ``"cap"`` gives them +-sigma_abs and counts
them (biased by the overweight fraction, which is reported).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import torch

from .channels import CHANNEL_KEY
from .errors import HepflowError
from .events import EventBatch
from .integrate import evaluate
from .stats import WeightAccumulator, max_weight_quantile, unweighting_efficiency

__all__ = ["GenerationStats", "Survey", "generate_events", "hit_or_miss", "survey_max_weight"]


@dataclass
class GenerationStats:
    """What unweighting cost and how well it went."""

    n_events: int = 0
    n_tried: int = 0
    n_overweight: int = 0
    n_negative: int = 0
    max_weight: float = 0.0
    max_weight_estimator: str = ""
    # every tried point's f/q: an independent estimate of the cross section, mergeable
    # across shards
    weights: WeightAccumulator = field(default_factory=WeightAccumulator)

    @property
    def efficiency(self) -> float:
        return self.n_events / self.n_tried if self.n_tried else 0.0

    def as_dict(self) -> dict[str, Any]:
        estimate = self.weights.estimate() if self.weights.n_evals > 1 else None
        return {
            "cross_section": None
            if estimate is None
            else {"value": estimate.mean, "error": estimate.sdev},
            "n_events": self.n_events,
            "n_tried": self.n_tried,
            "unweighting_efficiency": self.efficiency,
            "n_overweight": self.n_overweight,
            "overweight_fraction": self.n_overweight / self.n_events if self.n_events else 0.0,
            "n_negative": self.n_negative,
            "max_weight": self.max_weight,
            "max_weight_estimator": self.max_weight_estimator,
        }

    def merge(self, other: GenerationStats) -> GenerationStats:
        """Both shards' counts, and their weights as one estimate."""
        return GenerationStats(
            n_events=self.n_events + other.n_events,
            n_tried=self.n_tried + other.n_tried,
            n_overweight=self.n_overweight + other.n_overweight,
            n_negative=self.n_negative + other.n_negative,
            max_weight=max(self.max_weight, other.max_weight),
            max_weight_estimator=self.max_weight_estimator or other.max_weight_estimator,
            weights=self.weights.merge(other.weights),
        )


def hit_or_miss(
    weights: torch.Tensor, max_weight: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Accept each point with probability min(|w| / w_max, 1).

    Returns the boolean acceptance mask and, for every point, |w| / w_max (> 1 marks an
    overweight point).
    """
    if not max_weight > 0:
        raise HepflowError(f"the maximum weight must be positive, got {max_weight}")
    ratio = weights.abs() / max_weight
    u = torch.rand(weights.shape, generator=generator, device=weights.device, dtype=weights.dtype)
    return u < ratio, ratio


class Survey(NamedTuple):
    """What unweighting needs to know before its first event."""

    max_weight: float
    estimator: str  # how max_weight was estimated
    draw: str  # the sampler method to draw events with
    # int |f|, the mean |w| of the survey, where a weight is negative; None where f keeps its
    # sign (the integration's |cross section| is then the more precise value)
    abs_cross_section: float | None


def survey_max_weight(
    integrand: Any,
    sampler: Any,
    generator: torch.Generator,
    *,
    n: int,
    quantile: float,
    nan_policy: str = "raise",
    batch_size: int | None = None,
) -> Survey:
    """Estimate w_max from a fresh sample of n points: the ``quantile`` of |w| (1 = max).

    A sampler may offer a second density for event generation, ``sample_for_events`` (VEGAS:
    the map without the variance-driven allocation). Then both are surveyed and the one with
    the higher expected unweighting efficiency is chosen. The same points give int |f|,
    which unweighted events of an integrand that changes sign carry.
    """
    draws = ["sample"] + (["sample_for_events"] if hasattr(sampler, "sample_for_events") else [])
    best = None
    for draw in draws:
        batch, _ = evaluate(
            integrand,
            getattr(sampler, draw)(n, generator),
            nan_policy=nan_policy,
            batch_size=batch_size,
        )
        w_max = max_weight_quantile(batch.weights, quantile)
        efficiency = unweighting_efficiency(batch.weights, w_max)
        if best is None or efficiency > best[0]:
            best = (efficiency, w_max, draw, batch.weights)
    _, w_max, draw, weights = best
    what = "maximum" if quantile == 1.0 else f"{quantile:g} quantile"
    estimator = f"{what} of |w| over {len(weights)} fresh points from sampler.{draw}"
    signed = bool((weights < 0).any())
    return Survey(w_max, estimator, draw, float(weights.abs().mean()) if signed else None)


def generate_events(
    integrand: Any,
    sampler: Any,
    n_events: int,
    generator: torch.Generator,
    *,
    cross_section: float,
    max_weight: float | None,
    mode: Literal["unweighted", "weighted"] = "unweighted",
    overweight: Literal["keep", "cap"] = "keep",
    chunk_size: int = 10_000,
    nan_policy: str = "raise",
    batch_size: int | None = None,
    stats: GenerationStats | None = None,
    draw: str = "sample",
    abs_cross_section: float | None = None,
) -> Iterator[EventBatch]:
    """Yield EventBatch chunks until ``n_events`` events are produced.

    The integrand must provide ``events(x) -> EventBatch``. ``stats`` (if given) is updated
    as chunks are produced, so a caller sees the efficiency even if it stops early. ``draw``
    names the sampler method that draws the points. Unweighted events carry
    +-``abs_cross_section`` (int |f|, from ``survey_max_weight``; by default |cross_section|,
    right where f keeps its sign), so that their mean weight is the cross section.
    """
    magnitude = abs(cross_section) if abs_cross_section is None else abs_cross_section
    if not hasattr(integrand, "events"):
        raise HepflowError(
            f"integrand {type(integrand).__name__} cannot make events (it has no events(x) "
            "method); set [generation] events = 0 to integrate only"
        )
    stats = stats if stats is not None else GenerationStats()
    stats.max_weight = max_weight or 0.0
    while stats.n_events < n_events:
        want = n_events - stats.n_events
        # first draw one chunk's worth, then aim for what is left at the measured efficiency
        eff = 1.0 if mode == "weighted" else (stats.efficiency if stats.n_tried else 0.0)
        n_try = want / max(eff, 1e-4) * 1.1 if eff else chunk_size
        n_try = int(min(max(n_try, 100), max(chunk_size, 1) * 100))
        batch, _ = evaluate(
            integrand,
            getattr(sampler, draw)(n_try, generator),
            nan_policy=nan_policy,
            batch_size=batch_size,
        )
        # samplers hand their points grouped (by hypercube, by channel); the prefix kept below
        # is a fair sample of the draw only in random order (else the last group is cut short)
        order = torch.randperm(len(batch), generator=generator, device=batch.x.device)
        w = batch.weights[order]
        if mode == "weighted":
            selected = w != 0  # zero-weight points are no events; the rest carry their share
            ratio = None
        else:
            selected, ratio = hit_or_miss(w, max_weight, generator)
        # points past the want-th event are not used at all: they count neither as tried
        # nor in the weights, so the efficiency is that of the events kept
        hits = torch.nonzero(selected).reshape(-1)
        used = int(hits[want - 1]) + 1 if len(hits) > want else len(w)
        w, selected = w[:used], selected[:used]
        stats.weights.add(w)
        stats.n_tried += used
        kept = order[:used][selected]  # the events' points in the batch
        x = batch.x[kept]
        channel = batch.extras.get(CHANNEL_KEY)  # multi-channel points map through their own
        channel = None if channel is None else channel[kept]
        if mode == "weighted":
            event_w = w[selected] * selected.to(w.dtype).mean()
        else:
            r = ratio[:used][selected]
            over = r > 1
            stats.n_overweight += int(over.sum())
            scale = torch.where(over, r, torch.ones_like(r)) if overweight == "keep" else 1.0
            event_w = torch.sign(w[selected]) * magnitude * scale
        stats.n_negative += int((event_w < 0).sum())
        for start in range(0, len(x), chunk_size):
            part = slice(start, start + chunk_size)
            record = (
                integrand.events(x[part])
                if channel is None
                else integrand.events(x[part], channel=channel[part])
            )
            events = _reweighted(record, event_w[part])
            stats.n_events += len(events)
            yield events


def _reweighted(events: EventBatch, weight: torch.Tensor) -> EventBatch:
    """Give events their generation weight, scaling weight variations by the same factor so
    that their ratios to the nominal weight (scale, PDF variations) are kept."""
    old = events.weight.to(weight.dtype)
    factor = torch.where(old != 0, weight / torch.where(old != 0, old, 1.0), 0.0)
    variations = {k: v * factor for k, v in events.weight_variations.items()}
    return events.with_weights(weight, **variations)
