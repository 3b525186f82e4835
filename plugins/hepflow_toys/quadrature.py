"""Deterministic float64 quadrature for the toys' reference integrals where no closed form exists.

``square_polar_integral`` integrates a function over the unit square in polar coordinates about a
point inside it. Along each ray the integral is split at the ray's exit from the square and at
every zero of a user-supplied kink function (where the integrand's derivative jumps), and each
piece gets composite Gauss-Legendre panels no wider than the integrand's smallest feature, so the
ray integrals converge exponentially. The angular integral, whose only non-smooth points are the
corner directions (split from the start) and the few directions where kinks appear, leave the
square or merge, is done by adaptive bisection. Everything is vectorised in torch, on the CPU in
float64: no Python loop runs over points, and the result does not depend on any device.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import torch

__all__ = ["gauss_legendre", "square_polar_integral"]

Fn = Callable[[torch.Tensor], torch.Tensor]

_DTYPE = torch.float64


def gauss_legendre(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Nodes and weights of the n-point Gauss-Legendre rule on [0, 1], float64 on the CPU."""
    t, w = np.polynomial.legendre.leggauss(n)
    return torch.from_numpy((t + 1.0) / 2.0), torch.from_numpy(w / 2.0)


def square_polar_integral(
    f: Fn,
    centre: tuple[float, float],
    *,
    scale: float,
    kink: Fn | None = None,
    rtol: float = 1e-13,
    ray_nodes: int = 16,
    angle_nodes: int = 16,
    kink_grid: int = 256,
    edge_grading: int = 0,
    max_levels: int = 40,
) -> tuple[float, float]:
    """Integral of ``f`` over [0,1]^2 and an estimate of its absolute error.

    ``f`` and ``kink`` take (n, 2) float64 points; ``centre`` is a point of the closed unit
    square. ``scale`` is the narrowest feature of ``f`` along any ray, the width of the
    Gauss-Legendre panels (``ray_nodes`` nodes each). The sign changes of ``kink`` along a ray,
    bracketed on ``kink_grid`` points and refined by regula falsi, are where the ray integral
    is split. ``edge_grading`` > 0 adds that many panels graded geometrically (ratio 1/4)
    towards each ray's end, for integrands with an algebraic singularity on the square's edge
    (x2^a with a non-integer a), where plain Gauss-Legendre converges only algebraically.

    The angle is integrated by bisecting intervals (``angle_nodes``-point rule on each) until
    every interval's error estimate, the change under one more bisection, is below
    ``rtol / 64`` times the first estimate of the integral. The returned error sums those
    estimates: it measures the angular integration, the ray integrals being far more precise
    (as the tests check). A warning is issued if ``max_levels`` bisections do not suffice.
    """
    cx, cy = (float(c) for c in centre)
    if not (0.0 <= cx <= 1.0 and 0.0 <= cy <= 1.0):
        raise ValueError(f"centre must lie in the unit square, got {centre!r}")
    ray = _RayIntegral(f, cx, cy, scale, kink, ray_nodes, kink_grid, edge_grading)
    corners = sorted(math.atan2(py - cy, px - cx) % (2 * math.pi) for px, py in _CORNERS)
    edges = sorted({0.0, *corners, 2 * math.pi})
    lo = torch.tensor(edges[:-1], dtype=_DTYPE)
    hi = torch.tensor(edges[1:], dtype=_DTYPE)
    t, w = gauss_legendre(angle_nodes)

    def rule(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        theta = a[:, None] + (b - a)[:, None] * t
        return (ray(theta.reshape(-1)).reshape(theta.shape) * w).sum(1) * (b - a)

    value = rule(lo, hi)
    # Accept an interval once its error is below a fixed share of the target, not a share
    # proportional to its length: a point singularity then costs a few more bisections rather
    # than an absurd depth.
    threshold = rtol * abs(float(value.sum())) / 64
    total, error, pending = 0.0, 0.0, math.inf
    for _ in range(max_levels):
        mid = (lo + hi) / 2
        left, right = rule(torch.cat([lo, mid]), torch.cat([mid, hi])).chunk(2)
        err = (left + right - value).abs()
        done = err <= threshold
        total += float((left + right)[done].sum())
        error += float(err[done].sum())
        if bool(done.all()):
            return total, error
        keep = ~done
        pending = float(err[keep].sum())
        lo = torch.cat([lo[keep], mid[keep]])
        hi = torch.cat([mid[keep], hi[keep]])
        value = torch.cat([left[keep], right[keep]])
    error += pending
    warnings.warn(
        f"square_polar_integral: the angular integration did not reach rtol={rtol:g} in "
        f"{max_levels} bisections; estimated error {error:.3g}",
        RuntimeWarning,
        stacklevel=2,
    )
    return total + float(value.sum()), error


_CORNERS = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))


class _RayIntegral:
    """theta -> integral of f(c + rho u) rho d rho from the centre to the square's edge."""

    def __init__(
        self,
        f: Fn,
        cx: float,
        cy: float,
        scale: float,
        kink: Fn | None,
        nodes: int,
        grid: int,
        grading: int,
    ) -> None:
        self.f, self.kink, self.cx, self.cy, self.grid = f, kink, cx, cy, grid
        self.panels = max(1, math.ceil(math.sqrt(2.0) / scale))
        self.graded = 1.0 - 0.25 ** torch.arange(1, grading + 1, dtype=_DTYPE)
        self.t, self.w = gauss_legendre(nodes)

    def rho_max(self, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        inf = torch.full_like(cos, math.inf)
        tx = torch.where(cos > 0, (1 - self.cx) / cos, torch.where(cos < 0, -self.cx / cos, inf))
        ty = torch.where(sin > 0, (1 - self.cy) / sin, torch.where(sin < 0, -self.cy / sin, inf))
        return torch.minimum(tx, ty)

    def points(self, cos: torch.Tensor, sin: torch.Tensor, rho: torch.Tensor) -> torch.Tensor:
        x = self.cx + rho * cos
        y = self.cy + rho * sin
        return torch.stack([x.clamp(0.0, 1.0), y.clamp(0.0, 1.0)], dim=-1)

    def __call__(self, theta: torch.Tensor) -> torch.Tensor:
        # Rays per block, so that a block's largest tensor stays near 2^21 float64 (16 MiB).
        pieces = self.panels + len(self.graded)
        per_ray = max(self.grid if self.kink is not None else 0, pieces * len(self.t))
        chunk = max(16, (1 << 21) // per_ray)
        return torch.cat([self._rays(theta[i : i + chunk]) for i in range(0, len(theta), chunk)])

    def _rays(self, theta: torch.Tensor) -> torch.Tensor:
        cos, sin = torch.cos(theta), torch.sin(theta)
        rmax = self.rho_max(cos, sin)
        # Panel edges: a uniform grid from the centre to the edge, plus every kink on the ray.
        grid = rmax[:, None] * torch.linspace(0.0, 1.0, self.panels + 1, dtype=_DTYPE)
        graded = rmax[:, None] * self.graded
        edges = torch.cat([grid, graded, self._kinks(cos, sin, rmax)], dim=1)
        edges = torch.sort(edges, dim=1).values
        a, b = edges[:, :-1, None], edges[:, 1:, None]  # (m, pieces, 1)
        rho = a + (b - a) * self.t  # (m, pieces, n)
        c = cos[:, None, None].expand_as(rho).reshape(-1)
        s = sin[:, None, None].expand_as(rho).reshape(-1)
        fx = self.f(self.points(c, s, rho.reshape(-1))).reshape(rho.shape)
        return (fx * rho * (b - a) * self.w).sum(dim=(1, 2))

    def _kinks(self, cos: torch.Tensor, sin: torch.Tensor, rmax: torch.Tensor) -> torch.Tensor:
        """(m, k) zeros of the kink function along each ray, padded with the ray's end."""
        none = rmax[:, None][:, :0]
        if self.kink is None:
            return none
        m, g = len(rmax), self.grid
        frac = torch.linspace(0.0, 1.0, g + 1, dtype=_DTYPE)
        rho = rmax[:, None] * frac  # (m, g+1)
        c, s = cos[:, None].expand_as(rho), sin[:, None].expand_as(rho)
        k = self.kink(self.points(c.reshape(-1), s.reshape(-1), rho.reshape(-1))).reshape(m, g + 1)
        change = (k[:, :-1] > 0) != (k[:, 1:] > 0)  # (m, g) brackets holding a zero
        n_max = int(change.sum(1).max()) if m else 0
        if n_max == 0:
            return none
        # The brackets of each ray in order; rays with fewer get filler brackets, masked out.
        order = torch.argsort((~change).to(torch.int8), dim=1, stable=True)[:, :n_max]
        valid = torch.gather(change, 1, order)
        lo = torch.gather(rho[:, :-1], 1, order)
        hi = torch.gather(rho[:, 1:], 1, order)
        k_lo = torch.gather(k[:, :-1], 1, order)
        k_hi = torch.gather(k[:, 1:], 1, order)
        cc, ss = cos[:, None].expand_as(lo).reshape(-1), sin[:, None].expand_as(lo).reshape(-1)
        # Regula falsi, Illinois variant: superlinear, and the root stays bracketed. Twelve
        # steps take a grid step (~1e-3) to well below 1e-9, and a split point off by delta
        # costs an error of order delta^2 times the jump in slope: far below float64 rounding.
        for _ in range(12):
            den = k_hi - k_lo
            step = torch.where(den != 0, k_hi * (hi - lo) / den, (hi - lo) / 2)
            x = torch.minimum(
                torch.maximum(hi - step, torch.minimum(lo, hi)), torch.maximum(lo, hi)
            )
            kx = self.kink(self.points(cc, ss, x.reshape(-1))).reshape(x.shape)
            flip = (kx > 0) != (k_hi > 0)
            lo, k_lo = torch.where(flip, hi, lo), torch.where(flip, k_hi, k_lo / 2)
            hi, k_hi = x, kx
        return torch.where(valid, hi, rmax[:, None])
