"""Multi-channel bookkeeping: each channel's share of the integral and its share of points.

Shared by the multi-channel samplers (nis: one flow per channel; vegas_multichannel: one grid
per channel), each of which learns its channels' terms f_c. Two numbers per channel are learned from the
evaluated points: ``weights`` (the share I_c / I of the integral, starting from the integrand's
priors) and ``allocation`` (the fraction of points drawn in the channel). The variance of the
stratified sum is sum_c sigma_c^2 / n_c, smallest for n_c proportional to sigma_c, so the
allocation moves toward sigma_c (damped, with a floor so no live channel starves). A channel
whose evaluated points have all been exactly zero carries nothing and is dropped; an optional
threshold drops channels below a share, which biases the result by at most that share.
"""

from __future__ import annotations

import torch

__all__ = ["ChannelBook"]


class ChannelBook:
    """Shares, allocation and dropped flags of n channels (float64 on the CPU)."""

    def __init__(
        self,
        priors: list[float],
        *,
        damping: float = 0.5,
        min_fraction: float = 0.02,
        drop_threshold: float = 0.0,
        drop_after: int = 5,
    ) -> None:
        self.n = len(priors)
        self.weights = torch.tensor(priors, dtype=torch.float64)
        self.allocation = self.weights.clone()
        self.alive = self.weights > 0
        self.damping = float(damping)
        self.min_fraction = float(min_fraction)
        self.drop_threshold = float(drop_threshold)
        self.drop_after = int(drop_after)
        self._sum_w = torch.zeros(self.n, dtype=torch.float64)  # sum of per-update means I_c
        self._nonzero = torch.zeros(self.n, dtype=torch.int64)
        self.updates = 0

    def split(self, n: int) -> list[int]:
        """Points per channel for a batch of about n (at least 2 in each live channel)."""
        counts = torch.round(self.allocation * n).to(torch.int64)
        counts = torch.where(self.alive, counts.clamp_min(2), torch.zeros_like(counts))
        return [int(c) for c in counts]

    def update(self, channel: torch.Tensor, w: torch.Tensor) -> None:
        """Learn from weights w = f_c / q_c of one evaluated batch (per-channel densities)."""
        channel, w = channel.cpu(), w.detach().to(torch.float64).cpu()
        count = torch.bincount(channel, minlength=self.n).to(torch.float64)
        total = torch.zeros(self.n, dtype=torch.float64).index_add_(0, channel, w)
        square = torch.zeros(self.n, dtype=torch.float64).index_add_(0, channel, w * w)
        self._nonzero += torch.zeros(self.n, dtype=torch.int64).index_add_(
            0, channel, (w != 0).to(torch.int64)
        )
        seen = count > 1
        mean = torch.where(seen, total / count.clamp_min(1), torch.zeros_like(total))
        var = torch.where(
            seen, (square / count.clamp_min(1) - mean**2).clamp_min(0), torch.zeros_like(total)
        )
        self.updates += 1
        self._sum_w += torch.where(seen, mean.abs(), self._sum_w / max(self.updates - 1, 1))
        if float(self._sum_w.sum()) > 0:
            self.weights = self._sum_w / self._sum_w.sum()
        sigma = var.sqrt()
        if float(sigma[self.alive].sum()) > 0:
            target = torch.where(self.alive, sigma / sigma[self.alive].sum(), 0.0)
            mixed = (1 - self.damping) * self.allocation + self.damping * target
            self.allocation = self._normalise(mixed)
        self._drop()

    def _drop(self) -> None:
        if self.updates < self.drop_after:
            return
        empty = self._nonzero == 0
        small = self.weights <= self.drop_threshold if self.drop_threshold > 0 else empty
        drop = self.alive & (empty | small)
        if bool(drop.any()) and bool((self.alive & ~drop).any()):
            self.alive = self.alive & ~drop
            self.allocation = self._normalise(self.allocation)

    def _normalise(self, a: torch.Tensor) -> torch.Tensor:
        a = torch.where(self.alive, a, torch.zeros_like(a))
        a = a / a.sum()
        floor = self.min_fraction / max(int(self.alive.sum()), 1)
        a = torch.where(self.alive, a.clamp_min(floor), a)
        return a / a.sum()

    def state_dict(self) -> dict[str, torch.Tensor | int]:
        return {
            "weights": self.weights,
            "allocation": self.allocation,
            "alive": self.alive,
            "sum_w": self._sum_w,
            "nonzero": self._nonzero,
            "updates": self.updates,
        }

    def load_state_dict(self, state: dict) -> None:
        self.weights = state["weights"].clone()
        self.allocation = state["allocation"].clone()
        self.alive = state["alive"].clone()
        self._sum_w = state["sum_w"].clone()
        self._nonzero = state["nonzero"].clone()
        self.updates = int(state["updates"])
