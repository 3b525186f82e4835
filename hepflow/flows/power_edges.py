"""Power laws at the faces of the cube: a Kumaraswamy layer x = 1 - (1 - z^a)^b per axis.

A monotone spline on [0, 1] has a finite, non-zero slope at its end knots, so a flow of splines
has a density that, near a face of the cube, is at best linear in the distance to it. Phase
space is full of densities that vanish or diverge there as a power instead: x_q^2 at the soft
quark edge of e+ e- -> q q~ g, beta^n at a threshold. A spline can only follow such a density
by crowding its bins against the face, which a trained flow does poorly. The Kumaraswamy CDF
z -> 1 - (1 - z^a)^b has the density a b z^(a-1) (1 - z^a)^(b-1): its latent density pulled
back to x goes as x^(1/a - 1) at 0 and as (1 - x)^(1/b - 1) at 1. Put at the latent end of a
flow, it hands the splines a density that is smooth up to the faces. Two parameters per axis,
log a and log b, zero for the identity; the map runs in float64 like the splines.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["PowerEdges"]

_TINY = 1e-300  # the faces are clamped just inside for the logs, so log-dets stay finite
_BELOW_ONE = 1.0 - 2.0**-53


class PowerEdges(nn.Module):
    """x = 1 - (1 - z^a)^b on every axis, a = exp(log_a), b = exp(log_b) (learned; the
    condition, if any, is not used)."""

    def __init__(self, dim: int):
        super().__init__()
        self.log_a = nn.Parameter(torch.zeros(dim))
        self.log_b = nn.Parameter(torch.zeros(dim))

    def _exponents(self) -> tuple[Tensor, Tensor]:
        return self.log_a.to(torch.float64), self.log_b.to(torch.float64)

    def forward(self, z: Tensor, condition: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """z -> x and log|det dx/dz| = sum of log(a b) + (a-1) log z + (b-1) log(1 - z^a)."""
        log_a, log_b = self._exponents()
        a, b = log_a.exp(), log_b.exp()
        log_z = torch.log(z.clamp(_TINY, 1.0))
        log_rest = torch.log1p(-torch.exp(a * log_z).clamp(max=_BELOW_ONE))  # log(1 - z^a)
        x = torch.where(z >= 1.0, 1.0, -torch.expm1(b * log_rest))
        log_det = log_a + log_b + (a - 1) * log_z + (b - 1) * log_rest
        return x.clamp(0.0, 1.0), log_det.sum(dim=1)

    def inverse(self, x: Tensor, condition: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """x -> z = (1 - (1 - x)^(1/b))^(1/a) and log|det dz/dx|."""
        log_a, log_b = self._exponents()
        a, b = log_a.exp(), log_b.exp()
        log_rest = torch.log1p(-x.clamp(0.0, _BELOW_ONE)) / b  # log(1 - z^a)
        log_za = torch.log((-torch.expm1(log_rest)).clamp_min(_TINY))  # log(z^a)
        z = torch.where(x >= 1.0, 1.0, torch.exp(log_za / a))
        log_det = log_a + log_b + (a - 1) / a * log_za + (b - 1) * log_rest
        return z.clamp(0.0, 1.0), -log_det.sum(dim=1)

    def extra_repr(self) -> str:
        return f"dim={self.log_a.numel()}"
