"""Two Breit-Wigner resonances: the smallest honest multi-channel integrand.

f(x) = sum_k a_k L_k(x_1) on [0,1]^dim, with L_k the normalised Cauchy (Breit-Wigner) line
shape of mass m_k and width g_k; the other axes are flat. It declares one channel per
resonance, as a matrix element declares one per propagator: channel c maps u_1 through the
inverse Breit-Wigner CDF of resonance c (density g_c) and weights the integrand with
MadGraph's alpha_c = |a_c L_c|^2 / sum_k |a_k L_k|^2 (each 'diagram' squared), so f_c(u) = alpha_c(x) f(x) / g_c(x) and the channel
integrals sum to the total. Everything is closed form: the total and each channel's share
(a one-dimensional quadrature, done here once) are known.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from hepflow.channels import Channel

from ._base import ToyIntegrand, check_dim, check_real

__all__ = ["TwoResonances"]


class TwoResonances(ToyIntegrand):
    """Two Breit-Wigner peaks along x_1 (masses m1, m2, widths g1, g2, heights a1, a2)."""

    name = "two_resonances"

    def __init__(
        self,
        dim: int = 2,
        m1: float = 0.3,
        m2: float = 0.7,
        g1: float = 0.01,
        g2: float = 0.02,
        a1: float = 1.0,
        a2: float = 2.0,
        device: str | torch.device = "cpu",
    ) -> None:
        super().__init__(check_dim(dim, self.name), device)
        self.mass = (check_real("m1", m1, ge=0, le=1), check_real("m2", m2, ge=0, le=1))
        self.width = (check_real("g1", g1, gt=0), check_real("g2", g2, gt=0))
        self.height = (check_real("a1", a1, ge=0), check_real("a2", a2, ge=0))
        lo = [self._cdf(k, 0.0) for k in range(2)]
        hi = [self._cdf(k, 1.0) for k in range(2)]
        self._cdf_range = tuple(zip(lo, hi, strict=True))
        self.reference = sum(
            a * (h - l) for a, (l, h) in zip(self.height, self._cdf_range, strict=True)
        )
        self.shares = self._channel_shares()
        self.channels = [
            Channel(f"resonance {k + 1} (m={m:g})", prior=s)
            for k, (m, s) in enumerate(zip(self.mass, self.shares, strict=True))
        ]

    def options(self) -> dict[str, Any]:
        return {"dim": self.dim, "m": self.mass, "g": self.width, "a": self.height}

    def _cdf(self, k: int, x: float) -> float:
        return math.atan((x - self.mass[k]) / (self.width[k] / 2)) / math.pi

    def _line(self, k: int, x1: torch.Tensor) -> torch.Tensor:
        half = self.width[k] / 2
        return half / math.pi / ((x1 - self.mass[k]) ** 2 + half**2)

    def _f(self, x1: torch.Tensor) -> torch.Tensor:
        return self.height[0] * self._line(0, x1) + self.height[1] * self._line(1, x1)

    def _alpha(self, k: int, x1: torch.Tensor) -> torch.Tensor:
        l0 = (self.height[0] * self._line(0, x1)) ** 2
        l1 = (self.height[1] * self._line(1, x1)) ** 2
        return (l0 if k == 0 else l1) / (l0 + l1)

    def _channel_shares(self) -> tuple[float, float]:
        """int alpha_k f dx_1 / total, by a composite Simpson rule fine enough for the peaks."""
        n = 2_000_001
        x = torch.linspace(0.0, 1.0, n, dtype=torch.float64)
        simpson = torch.ones(n, dtype=torch.float64)
        simpson[1:-1:2], simpson[2:-1:2] = 4.0, 2.0
        parts = [
            float((simpson * self._alpha(k, x) * self._f(x)).sum() / (3 * (n - 1)))
            for k in range(2)
        ]
        return parts[0] / sum(parts), parts[1] / sum(parts)

    def evaluate(self, x: torch.Tensor, channel: torch.Tensor | None = None) -> torch.Tensor:
        if channel is None:
            return self._f(x[:, 0])
        channel = channel.to(x.device)
        out = torch.empty(x.shape[0], dtype=torch.float64, device=x.device)
        for k in range(2):
            mask = channel == k
            lo, hi = self._cdf_range[k]
            t = lo + x[mask, 0] * (hi - lo)  # inverse Breit-Wigner CDF
            x1 = self.mass[k] + self.width[k] / 2 * torch.tan(math.pi * t)
            density = self._line(k, x1) / (hi - lo)
            out[mask] = self._alpha(k, x1) * self._f(x1) / density
        return out

    def __call__(self, x: torch.Tensor, channel: torch.Tensor | None = None) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != self.dim:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"{self.name} takes points as an (n, {self.dim}) tensor, got {got}")
        return self.evaluate(x.to(torch.float64), channel)
