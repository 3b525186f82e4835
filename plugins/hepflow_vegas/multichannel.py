"""The ``vegas_multichannel`` sampler: one VEGAS grid per channel, as madevent integrates.

A multi-channel integrand (``hepflow.channels``) splits its total into channel terms f_c, each
flattened by its own phase-space mapping. Here every channel gets its own ``VegasSampler``
(map and VEGAS+ hypercubes) and learns f_c alone; points are shared out among the channels
by the learned allocation of ``hepflow.channel_book.ChannelBook`` (n_c proportional to each
channel's sigma_c). Each (channel, hypercube) pair is one stratum of the core's accumulator,
so the error is the stratified sum of the channels' own. This is the like-for-like peer of
multi-channel NIS: the same channels, a grid instead of a flow in each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from hepflow.channel_book import ChannelBook
from hepflow.channels import CHANNEL_KEY, Channel, channel_priors
from hepflow.errors import HepflowError
from hepflow.events import PointBatch, WeightedBatch

from .sampler import IDX, JAC, LAYOUT, VegasSampler

__all__ = ["MultiChannelVegas"]

STATE_FORMAT = "hepflow-vegas-multichannel/1"
Q_CHANNEL = "vegas_q_channel"  # extras column: each point's density under its channel's grid


class MultiChannelVegas:
    """VEGAS/VEGAS+ per channel of a multi-channel integrand.

    Args:
        dim: dimension of the unit hypercube.
        channels: the integrand's channels (the pipeline passes them when it declares them).
        device: where points, grids and work tensors live.
        ninc, alpha, beta, neval_frac, nstrat, max_nhcube, max_neval_hcube, uniform_nstrat,
            adapt: each channel's ``VegasSampler`` options.
        channel_damping, channel_min_fraction, channel_drop_threshold: the allocation of
            points among channels (``ChannelBook``).
    """

    def __init__(
        self,
        dim: int,
        channels: Sequence[Channel] | None = None,
        device: str | torch.device = "cpu",
        ninc: int = 1000,
        alpha: float = 0.5,
        beta: float = 0.75,
        neval_frac: float = 0.75,
        nstrat: Sequence[int] | None = None,
        max_nhcube: int = 1_000_000_000,
        max_neval_hcube: int = 50_000,
        uniform_nstrat: bool = False,
        adapt: bool = True,
        channel_damping: float = 0.5,
        channel_min_fraction: float = 0.02,
        channel_drop_threshold: float = 0.0,
    ) -> None:
        if not channels:
            raise HepflowError(
                "vegas_multichannel needs an integrand that declares channels "
                "(hepflow.channels); for a single mapping use the sampler 'vegas'"
            )
        self.channels = list(channels)
        priors = channel_priors(self.channels)
        grid = {
            "ninc": ninc,
            "alpha": alpha,
            "beta": beta,
            "neval_frac": neval_frac,
            "nstrat": nstrat,
            "max_nhcube": max_nhcube,
            "max_neval_hcube": max_neval_hcube,
            "uniform_nstrat": uniform_nstrat,
            "adapt": adapt,
        }
        self.grids = [VegasSampler(dim, device, **grid) for _ in self.channels]
        self.dim = self.grids[0].dim
        self.device = self.grids[0].device
        self.book = ChannelBook(
            priors,
            damping=channel_damping,
            min_fraction=channel_min_fraction,
            drop_threshold=channel_drop_threshold,
        )
        self._offsets: dict[int, int] = {}  # channel -> first stratum label, of the last sample

    @property
    def adapting(self) -> bool:
        return self.grids[0].adapting

    @property
    def channel_weights(self) -> list[float]:
        """Each channel's learned share of the integral (starts at the priors)."""
        return self.book.weights.tolist()

    # -- sampling -----------------------------------------------------------------------------
    def sample(self, n: int, generator: torch.Generator) -> PointBatch:
        """About n points: n_c per channel from the allocation, q = (n_c / N) q_c(x)."""
        return self._draw(self.book.split(int(n)), generator, "sample")

    def sample_for_events(self, n: int, generator: torch.Generator) -> PointBatch:
        """Points for events: n_c in proportion to each channel's share of the integral (what
        keeps the weights f / q even), each grid's map alone (``VegasSampler``'s reason)."""
        shares = torch.where(self.book.alive, self.book.weights, 0.0)
        counts = torch.round(shares / shares.sum() * int(n)).to(torch.int64)
        counts = torch.where(self.book.alive, counts.clamp_min(1), 0)
        return self._draw([int(c) for c in counts], generator, "sample_for_events")

    def _draw(self, counts: list[int], generator: torch.Generator, how: str) -> PointBatch:
        parts, offset = [], 0
        for c, n_c in enumerate(counts):
            if n_c == 0:
                continue
            part = getattr(self.grids[c], how)(n_c, generator)
            parts.append((c, part, offset))
            offset += self.grids[c].strata.nhcube if part.stratum is not None else 1
        if how == "sample":  # the strata adapt() maps back to each grid's own hypercubes
            self._offsets = {c: o for c, _, o in parts}
        total = sum(len(part) for _, part, _ in parts)
        dev = self.device
        channel = torch.cat(
            [torch.full((len(p),), c, dtype=torch.int64, device=dev) for c, p, _ in parts]
        )
        q_channel = torch.cat([p.q for _, p, _ in parts])
        share = torch.cat(
            [
                torch.full((len(p),), len(p) / total, dtype=torch.float64, device=dev)
                for _, p, _ in parts
            ]
        )
        stratum = torch.cat(
            [
                (
                    p.stratum
                    if p.stratum is not None
                    else torch.zeros(len(p), dtype=torch.int64, device=dev)
                )
                + o
                for _, p, o in parts
            ]
        )
        extras = {CHANNEL_KEY: channel, Q_CHANNEL: q_channel}
        if how == "sample":
            extras[IDX] = torch.cat([p.extras[IDX].to(torch.int64) for _, p, _ in parts])
            extras[JAC] = torch.cat([p.extras[JAC] for _, p, _ in parts])
            extras[LAYOUT] = torch.cat(
                [p.extras[LAYOUT].to(torch.int64).expand(len(p)) for _, p, _ in parts]
            )
        return PointBatch(
            x=torch.cat([p.x for _, p, _ in parts]),
            q=q_channel * share,
            stratum=stratum if how == "sample" else None,
            extras=extras,
        )

    # -- learning -----------------------------------------------------------------------------
    def adapt(self, batch: WeightedBatch) -> None:
        """Each grid adapts on its own channel's points; the allocation on w_c = f_c / q_c."""
        if not self.adapting:
            return
        extras = batch.extras
        if IDX not in extras or CHANNEL_KEY not in extras:
            raise HepflowError(
                "vegas_multichannel: adapt() needs the batch of this sampler's latest sample()"
            )
        channel = extras[CHANNEL_KEY]
        f = batch.f.to(torch.float64)
        good = torch.isfinite(f)
        self.book.update(channel[good], (f / extras[Q_CHANNEL])[good])
        for c, offset in self._offsets.items():
            mask = channel == c
            if not bool(mask.any()):
                continue
            grid = self.grids[c]
            sub = WeightedBatch(
                x=batch.x[mask],
                q=extras[Q_CHANNEL][mask],
                stratum=None if grid.strata.nhcube == 1 else batch.stratum[mask] - offset,
                extras={
                    IDX: extras[IDX][mask].to(grid.map.index_dtype),
                    JAC: extras[JAC][mask],
                    LAYOUT: extras[LAYOUT][mask][0],
                },
                f=f[mask],
            )
            grid.adapt(sub)

    # -- state --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Every channel's grid and the allocation: enough to sample bit-identically."""
        return {
            "format": STATE_FORMAT,
            "channels": [(c.name, c.prior) for c in self.channels],
            "book": self.book.state_dict(),
            "grids": [grid.state_dict() for grid in self.grids],
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state.get("format") != STATE_FORMAT:
            raise HepflowError(
                f"not a vegas_multichannel state (format {state.get('format')!r}, "
                f"expected {STATE_FORMAT!r})"
            )
        names = [name for name, _ in state["channels"]]
        if names != [c.name for c in self.channels]:
            raise HepflowError(
                f"vegas_multichannel state is for channels {names}, this integrand has "
                f"{[c.name for c in self.channels]}"
            )
        for grid, grid_state in zip(self.grids, state["grids"], strict=True):
            grid.load_state_dict(grid_state)
        self.book.load_state_dict(state["book"])

    def __repr__(self) -> str:
        names = ", ".join(c.name for c in self.channels)
        return f"MultiChannelVegas(dim={self.dim}, channels=[{names}], device={self.device})"
