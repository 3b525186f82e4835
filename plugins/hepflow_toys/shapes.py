"""Integrands shaped like rings and lines, hard for VEGAS because their mass lies along curves
that no product of one-dimensional grids can follow: annulus, two_circles, slashed_circle.

The annulus has a closed-form integral. two_circles and slashed_circle do not; their reference
comes from ``quadrature.square_polar_integral`` (polar coordinates about the rings' centre, ray
integrals split at every kink, adaptive in the angle), cached per option values.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import torch

from ._base import ToyIntegrand, check_dim, check_real
from .quadrature import square_polar_integral

__all__ = ["Annulus", "SlashedCircle", "TwoCircles"]

# Relative accuracy asked of the angular integration for the quadrature references.
_RTOL = 1e-12


class Annulus(ToyIntegrand):
    """Indicator of a ring (shell) about the cube's centre (i-flow's annulus), any dim.

    f(x) = 1 if r_inner <= |x - (1/2, ..., 1/2)| <= r_outer, else 0: the annulus test function
    of C. Gao, J. Isaacson, C. Krause, arXiv:2001.05486 (class Ring of their example code,
    outer radius 0.45, inner radius 0.2, as defaults here); a cut-like, discontinuous integrand.
    The shell must fit in the cube (r_outer <= 1/2).

    Exact integral: the shell's volume pi^(dim/2) / Gamma(dim/2 + 1) (r_outer^dim -
    r_inner^dim), i.e. pi (0.45^2 - 0.2^2) = 0.51050880620834... at the defaults.
    """

    name = "annulus"

    def __init__(
        self,
        *,
        dim: int = 2,
        r_inner: float = 0.2,
        r_outer: float = 0.45,
        device: str | torch.device = "cpu",
    ) -> None:
        super().__init__(check_dim(dim, self.name), device)
        self.r_outer = check_real("r_outer", r_outer, gt=0.0, le=0.5)
        self.r_inner = check_real("r_inner", r_inner, ge=0.0, lt=self.r_outer)
        d = self.dim
        log_ball = 0.5 * d * math.log(math.pi) - math.lgamma(0.5 * d + 1.0)
        self.reference = math.exp(log_ball) * (self.r_outer**d - self.r_inner**d)

    def evaluate(self, x: torch.Tensor) -> torch.Tensor:
        r2 = ((x - 0.5) ** 2).sum(dim=1)
        inside = (r2 >= self.r_inner**2) & (r2 <= self.r_outer**2)
        return inside.to(torch.float64)

    def options(self) -> dict[str, Any]:
        return {"dim": self.dim, "r_inner": self.r_inner, "r_outer": self.r_outer}


class TwoCircles(ToyIntegrand):
    """Two entangled circles of varying height and thickness (i-flow's f3), 2-D only.

    f(x1, x2) = x2^a exp(-w |(x1 - p1)^2 + (x2 - p2)^2 - r^2|)
              + (1 - x2)^a exp(-w |(x1 - 1 + p1)^2 + (x2 - 1 + p2)^2 - r^2|),
    C. Gao, J. Isaacson, C. Krause, arXiv:2001.05486, eq. (19), with their a = 3, w = 250
    (1/0.004 in their code), p1 = 0.4, p2 = 0.6, r = 0.25; they quote 0.0136848(1).

    Reference: the map x -> 1 - x swaps the two terms, so the integral is twice the first
    term's, computed by polar quadrature about (p1, p2) with each ray split at the circle (the
    kink of |.|) and, for a non-integer a, panels graded towards the edge x2 = 0 where x2^a is
    singular. At the defaults it is 0.0136847767249379..., within 1e-17 of scipy's QUADPACK
    (nquad, split at the circles); off the defaults (circles leaving the square, a = 0.1 or
    0.5) within 1e-15 of QUADPACK with x2^a as an algebraic weight. ``reference_error`` holds
    the estimated error of the angular integration. The panels must resolve the rings'
    thickness 1/(w r), hence w <= 1e4 to bound the quadrature's cost.
    """

    name = "two_circles"

    def __init__(
        self,
        *,
        dim: int = 2,
        a: float = 3.0,
        w: float = 250.0,
        p1: float = 0.4,
        p2: float = 0.6,
        r: float = 0.25,
        device: str | torch.device = "cpu",
    ) -> None:
        super().__init__(check_dim(dim, self.name, allowed=(2,)), device)
        self.a = check_real("a", a, ge=0.0)
        self.w = check_real("w", w, gt=0.0, le=1e4)
        self.p1 = check_real("p1", p1, ge=0.0, le=1.0)
        self.p2 = check_real("p2", p2, ge=0.0, le=1.0)
        self.r = check_real("r", r, gt=0.0)
        self.reference, self.reference_error = _two_circles_reference(
            self.a, self.w, self.p1, self.p2, self.r
        )

    def evaluate(self, x: torch.Tensor) -> torch.Tensor:
        return _two_circles_term(x, self.a, self.w, self.p1, self.p2, self.r) + (
            _two_circles_term(1.0 - x, self.a, self.w, self.p1, self.p2, self.r)
        )

    def options(self) -> dict[str, Any]:
        return {"dim": 2, "a": self.a, "w": self.w, "p1": self.p1, "p2": self.p2, "r": self.r}


def _two_circles_term(
    x: torch.Tensor, a: float, w: float, p1: float, p2: float, r: float
) -> torch.Tensor:
    x1, x2 = x[:, 0], x[:, 1]
    return x2**a * torch.exp(-w * ((x1 - p1) ** 2 + (x2 - p2) ** 2 - r * r).abs())


@functools.lru_cache(maxsize=64)
def _two_circles_reference(
    a: float, w: float, p1: float, p2: float, r: float
) -> tuple[float, float]:
    value, error = square_polar_integral(
        lambda x: _two_circles_term(x, a, w, p1, p2, r),
        (p1, p2),
        scale=min(0.1, 4.0 / (w * r + math.sqrt(w))),
        kink=lambda x: (x[:, 0] - p1) ** 2 + (x[:, 1] - p2) ** 2 - r * r,
        edge_grading=0 if a.is_integer() else 24,  # x2^a is singular on the edge x2 = 0
        rtol=_RTOL,
    )
    return 2.0 * value, 2.0 * error


class SlashedCircle(ToyIntegrand):
    """A Gaussian ring crossed by a Gaussian line on the diagonal, capped (ZüNIS), 2-D only.

    f(x) = min(cap, exp(-(|x - (1/2, 1/2)| - r)^2 / sigma^2) + exp(-(x1 - x2)^2 / sigma^2)),
    the "slashed circle" of ZüNIS (N. Deutschmann, N. Götz, "Accelerating HEP simulations with
    Neural Importance Sampling", arXiv:2401.09069; class CircleLineIntegrand in
    experiments/benchmarks/utils/integrands/pretty.py of github.com/ndeutschmann/zunis, with
    r = 0.3, sigma = 0.05, capped at 0.9): the classic case where VEGAS fails, mass along a
    circle and a diagonal at once.

    Reference: polar quadrature about the centre, each ray split where the cap starts and ends
    to act (found by regula falsi); 0.237326657809413 at the defaults, accurate to about
    1e-13 (a finer discretisation agrees to that, and scipy's QUADPACK nquad agrees within its
    own error estimate of 1e-7). ``reference_error`` holds the estimated error of the angular
    integration. The quadrature's cost grows as sigma shrinks (half a second at sigma = 0.05,
    a few seconds at 0.005), hence sigma >= 0.005.
    """

    name = "slashed_circle"

    def __init__(
        self,
        *,
        dim: int = 2,
        r: float = 0.3,
        sigma: float = 0.05,
        cap: float = 0.9,
        device: str | torch.device = "cpu",
    ) -> None:
        super().__init__(check_dim(dim, self.name, allowed=(2,)), device)
        self.r = check_real("r", r, ge=0.0)
        self.sigma = check_real("sigma", sigma, ge=0.005)
        self.cap = check_real("cap", cap, gt=0.0)
        self.reference, self.reference_error = _slashed_circle_reference(
            self.r, self.sigma, self.cap
        )

    def evaluate(self, x: torch.Tensor) -> torch.Tensor:
        return _slashed_circle_peaks(x, self.r, self.sigma).clamp(max=self.cap)

    def options(self) -> dict[str, Any]:
        return {"dim": 2, "r": self.r, "sigma": self.sigma, "cap": self.cap}


def _slashed_circle_peaks(x: torch.Tensor, r: float, sigma: float) -> torch.Tensor:
    rho = ((x - 0.5) ** 2).sum(dim=1).sqrt()
    ring = torch.exp(-(((rho - r) / sigma) ** 2))
    line = torch.exp(-(((x[:, 0] - x[:, 1]) / sigma) ** 2))
    return ring + line


@functools.lru_cache(maxsize=64)
def _slashed_circle_reference(r: float, sigma: float, cap: float) -> tuple[float, float]:
    return square_polar_integral(
        lambda x: _slashed_circle_peaks(x, r, sigma).clamp(max=cap),
        (0.5, 0.5),
        scale=2.0 * sigma,
        kink=lambda x: _slashed_circle_peaks(x, r, sigma) - cap,
        kink_grid=max(256, math.ceil(12.8 / sigma)),
        rtol=_RTOL,
    )
