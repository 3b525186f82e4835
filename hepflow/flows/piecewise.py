"""Piecewise-linear and piecewise-quadratic CDFs on [0, 1] (Müller et al. 2019, "Neural
importance sampling"): the density is piecewise constant, resp. piecewise linear and continuous.

The CDF is evaluated in float64; the quadratic one, like the spline, normalises its bin widths in
the network's precision first.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn.functional import pad, softmax

from .splines import MIN_BIN, bin_index, knots

__all__ = ["piecewise_linear", "piecewise_quadratic"]


def _cumulative(masses: Tensor) -> Tensor:
    """K+1 cumulative edges of ``masses`` (summing to 1), the first exactly 0 and the last 1."""
    edges = pad(torch.cumsum(masses, dim=-1), (1, 0))
    return torch.cat([edges[..., :-1], torch.ones_like(edges[..., -1:])], dim=-1)


def piecewise_linear(x: Tensor, params: Tensor, inverse: bool = False) -> tuple[Tensor, Tensor]:
    """K equal-width bins with learnable probabilities ``params`` (..., K) (softmax logits)."""
    bins = params.shape[-1]
    # float64 from the start: the identity needs masses of exactly 1 / K on its fixed bins
    mass = MIN_BIN / bins + (1 - MIN_BIN) * softmax(params.to(torch.float64), dim=-1)
    cdf = _cumulative(mass)
    x = x.to(torch.float64).clamp(0.0, 1.0)
    if inverse:
        k = bin_index(cdf, x)
        q = mass.gather(-1, k)[..., 0]
        alpha = ((x - cdf.gather(-1, k)[..., 0]) / q).clamp(0.0, 1.0)
        y = (k[..., 0] + alpha) / bins
        return y.clamp(0.0, 1.0), -torch.log(bins * q)
    k = (x * bins).floor().clamp(max=bins - 1).long()[..., None]
    q = mass.gather(-1, k)[..., 0]
    alpha = x * bins - k[..., 0]
    y = cdf.gather(-1, k)[..., 0] + alpha * q
    return y.clamp(0.0, 1.0), torch.log(bins * q)


def piecewise_quadratic(x: Tensor, params: Tensor, inverse: bool = False) -> tuple[Tensor, Tensor]:
    """K learnable bin widths and K+1 learnable vertex densities, ``params`` (..., 2K+1)."""
    bins = (params.shape[-1] - 1) // 2
    widths, xk = knots(params[..., :bins])
    vertices = torch.exp(params[..., bins:].to(torch.float64))
    areas = 0.5 * (vertices[..., :-1] + vertices[..., 1:]) * widths
    total = areas.sum(-1, keepdim=True)
    vertices, areas = vertices / total, areas / total
    cdf = _cumulative(areas)
    x = x.to(torch.float64).clamp(0.0, 1.0)
    k = bin_index(cdf if inverse else xk, x)
    w, x0, c0 = widths.gather(-1, k)[..., 0], xk.gather(-1, k)[..., 0], cdf.gather(-1, k)[..., 0]
    v0, v1 = vertices.gather(-1, k)[..., 0], vertices.gather(-1, k + 1)[..., 0]
    if inverse:
        a, b, delta = 0.5 * w * (v1 - v0), w * v0, (x - c0).clamp(min=0.0)
        alpha = 2 * delta / (b + torch.sqrt((b * b + 4 * a * delta).clamp(min=0.0)))
        alpha = alpha.clamp(0.0, 1.0)
        return (x0 + alpha * w).clamp(0.0, 1.0), -torch.log(v0 + (v1 - v0) * alpha)
    alpha = ((x - x0) / w).clamp(0.0, 1.0)
    y = c0 + w * alpha * (v0 + 0.5 * (v1 - v0) * alpha)
    return y.clamp(0.0, 1.0), torch.log(v0 + (v1 - v0) * alpha)
