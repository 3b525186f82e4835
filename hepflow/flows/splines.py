"""Monotone rational-quadratic spline on [0, 1] (Durkan et al. 2019, "Neural Spline Flows").

Unlike zuko's spline on [-B, B] with identity tails, the knots here span exactly [0, 1] and the
end-point derivatives are learnable too, so the map is a bijection of the unit interval that
fixes 0 and 1: what importance sampling on the unit hypercube needs.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.nn.functional import pad, softmax, softplus

__all__ = ["MIN_BIN", "MIN_DERIVATIVE", "bin_index", "knots", "rational_quadratic"]

MIN_BIN = 1e-3  # smallest bin width/height, as a fraction of 1 / bins
MIN_DERIVATIVE = 1e-3
# softplus(0 + shift) + MIN_DERIVATIVE == 1: zero network output -> identity
_SHIFT = math.log(math.expm1(1.0 - MIN_DERIVATIVE))


def knots(logits: Tensor) -> tuple[Tensor, Tensor]:
    """Bin sizes (softmax with a floor) and their K+1 edges, the first exactly 0, the last 1."""
    bins = logits.shape[-1]
    sizes = MIN_BIN / bins + (1 - MIN_BIN) * softmax(logits, dim=-1)
    edges = pad(torch.cumsum(sizes, dim=-1), (1, 0))
    edges = torch.cat([edges[..., :-1], torch.ones_like(edges[..., -1:])], dim=-1)
    return edges[..., 1:] - edges[..., :-1], edges


def bin_index(edges: Tensor, values: Tensor) -> Tensor:
    """Index (..., 1) of the bin of ``edges`` (..., K+1) that holds each of ``values`` (...)."""
    inner = edges[..., 1:-1].contiguous()
    return torch.searchsorted(inner, values[..., None].contiguous(), right=True)


def rational_quadratic(x: Tensor, params: Tensor, inverse: bool = False) -> tuple[Tensor, Tensor]:
    """Apply the spline element-wise; ``params`` (..., 3K+1) = width, height, derivative logits.

    Returns ``(y, log|dy/dx|)`` (element-wise). With ``inverse`` the map is inverted and the
    log-derivative is that of the inverse map.
    """
    bins = (params.shape[-1] - 1) // 3
    widths, xk = knots(params[..., :bins])
    heights, yk = knots(params[..., bins : 2 * bins])
    derivs = MIN_DERIVATIVE + softplus(params[..., 2 * bins :] + _SHIFT)

    x = x.clamp(0.0, 1.0)
    k = bin_index(yk if inverse else xk, x)
    x0, y0 = xk.gather(-1, k)[..., 0], yk.gather(-1, k)[..., 0]
    w, h = widths.gather(-1, k)[..., 0], heights.gather(-1, k)[..., 0]
    d0, d1 = derivs.gather(-1, k)[..., 0], derivs.gather(-1, k + 1)[..., 0]
    s = h / w
    curvature = d0 + d1 - 2 * s

    if inverse:
        dy = x - y0
        a = h * (s - d0) + dy * curvature
        b = h * d0 - dy * curvature
        c = -s * dy
        theta = (2 * c / (-b - torch.sqrt((b * b - 4 * a * c).clamp(min=0.0)))).clamp(0.0, 1.0)
    else:
        theta = ((x - x0) / w).clamp(0.0, 1.0)
    t1 = theta * (1 - theta)
    denominator = s + curvature * t1
    log_slope = (
        2 * torch.log(s)
        + torch.log(d1 * theta**2 + 2 * s * t1 + d0 * (1 - theta) ** 2)
        - 2 * torch.log(denominator)
    )
    if inverse:
        return (x0 + theta * w).clamp(0.0, 1.0), -log_slope
    y = y0 + h * (s * theta**2 + d0 * t1) / denominator
    return y.clamp(0.0, 1.0), log_slope
