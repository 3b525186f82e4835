"""Gaussian peaks: i-flow's Gaussian and camel, and the ridge of Lepage's ``vegas`` documentation.

All three have closed-form integrals over the unit cube, products and sums of error functions,
because each Gaussian factorises over the axes.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ._base import (
    ToyIntegrand,
    axis_tensor,
    check_dim,
    check_int,
    compact,
    per_axis,
)

__all__ = ["Camel", "Gaussian", "Ridge"]


def _axis_mass(mu: tuple[float, ...], alpha: tuple[float, ...]) -> float:
    """prod_i of the integral over [0, 1] of exp(-(x - mu_i)^2 / alpha_i^2) / (alpha_i sqrt(pi))."""
    out = 1.0
    for m, a in zip(mu, alpha, strict=True):
        out *= 0.5 * (math.erf((1.0 - m) / a) + math.erf(m / a))
    return out


def _log_gaussian(x: torch.Tensor, mu: tuple[float, ...], alpha: tuple[float, ...]) -> torch.Tensor:
    """log of prod_i exp(-(x_i - mu_i)^2 / alpha_i^2) / (alpha_i sqrt(pi)), computed in logs so
    that narrow peaks in many dimensions neither overflow nor underflow early."""
    a = axis_tensor(alpha, x)
    z = (x - axis_tensor(mu, x)) / a
    return -(z * z).sum(dim=1) - torch.log(a * math.sqrt(math.pi)).sum()


class Gaussian(ToyIntegrand):
    """Normalised Gaussian peak in the cube (i-flow's f1), any dim; exact integral via erf.

    f(x) = prod_i exp(-(x_i - mu_i)^2 / alpha_i^2) / (alpha_i sqrt(pi)),
    the "Gaussian" test function of C. Gao, J. Isaacson, C. Krause, "i-flow: High-dimensional
    integration and sampling with normalizing flows", arXiv:2001.05486, eq. (15), with their
    default width alpha = 0.2 and centre mu = 0.5. ``alpha`` and ``mu`` are one number for all
    axes or one per axis (note alpha = sqrt(2) * standard deviation).

    Exact integral: prod_i [erf((1 - mu_i)/alpha_i) + erf(mu_i/alpha_i)] / 2, which is
    erf(1/(2 alpha))^dim at the defaults.
    """

    name = "gaussian"

    def __init__(
        self, *, dim: int, alpha: Any = 0.2, mu: Any = 0.5, device: str | torch.device = "cpu"
    ) -> None:
        super().__init__(check_dim(dim, self.name), device)
        self.alpha = per_axis("alpha", alpha, self.dim, gt=0.0)
        self.mu = per_axis("mu", mu, self.dim, ge=0.0, le=1.0)
        self.reference = _axis_mass(self.mu, self.alpha)

    def evaluate(self, x: torch.Tensor) -> torch.Tensor:
        return torch.exp(_log_gaussian(x, self.mu, self.alpha))

    def options(self) -> dict[str, Any]:
        return {"dim": self.dim, "alpha": compact(self.alpha), "mu": compact(self.mu)}


class Camel(ToyIntegrand):
    """Two Gaussian humps on the diagonal (i-flow's camel, f2), any dim; exact integral via erf.

    f(x) = [G(x; mu1) + G(x; mu2)] / 2 with G the normalised Gaussian of ``gaussian``:
    G(x; mu) = prod_i exp(-(x_i - mu_i)^2 / alpha_i^2) / (alpha_i sqrt(pi)).
    Definition and defaults (alpha = 0.2, humps at 1/3 and 2/3 on every axis) from C. Gao,
    J. Isaacson, C. Krause, arXiv:2001.05486, eq. (17); camels of this kind are also the
    standard benchmark of ZüNIS (arXiv:2401.09069) and MadNIS (arXiv:2212.06172). ``alpha``,
    ``mu1`` and ``mu2`` are one number for all axes or one per axis; alpha = sqrt(2) * standard
    deviation, so narrow camels (alpha = 0.1, 0.01) are a matter of this option.

    Exact integral: [M(mu1) + M(mu2)] / 2 with M(mu) = prod_i [erf((1 - mu_i)/alpha_i)
    + erf(mu_i/alpha_i)] / 2; at the defaults ((erf(1/(3 alpha)) + erf(2/(3 alpha))) / 2)^dim.
    """

    name = "camel"

    def __init__(
        self,
        *,
        dim: int,
        alpha: Any = 0.2,
        mu1: Any = 1.0 / 3.0,
        mu2: Any = 2.0 / 3.0,
        device: str | torch.device = "cpu",
    ) -> None:
        super().__init__(check_dim(dim, self.name), device)
        self.alpha = per_axis("alpha", alpha, self.dim, gt=0.0)
        self.mu1 = per_axis("mu1", mu1, self.dim, ge=0.0, le=1.0)
        self.mu2 = per_axis("mu2", mu2, self.dim, ge=0.0, le=1.0)
        self.reference = 0.5 * (_axis_mass(self.mu1, self.alpha) + _axis_mass(self.mu2, self.alpha))

    def evaluate(self, x: torch.Tensor) -> torch.Tensor:
        l1 = _log_gaussian(x, self.mu1, self.alpha)
        l2 = _log_gaussian(x, self.mu2, self.alpha)
        return 0.5 * (torch.exp(l1) + torch.exp(l2))

    def options(self) -> dict[str, Any]:
        return {
            "dim": self.dim,
            "alpha": compact(self.alpha),
            "mu1": compact(self.mu1),
            "mu2": compact(self.mu2),
        }


class Ridge(ToyIntegrand):
    """A ridge of n_peaks narrow Gaussians along the diagonal (``vegas`` docs), any dim.

    f(x) = (100/pi)^(dim/2) / N * sum_k exp(-100 sum_i (x_i - c_k)^2),
    c_k = linspace(0.4, 0.6, N): the "ridge" integrand of G. P. Lepage's ``vegas`` (tutorial,
    section "Multiple Processors", N = 10000; examples/ridge.py, N = 1000, dim = 4). Defaults
    N = 1000 and dim = 4 follow examples/ridge.py.

    Evaluation: every centre lies on the diagonal, so sum_i (x_i - c)^2 = sum_i (x_i - m)^2
    + dim (m - c)^2 with m the mean of x's coordinates, and the sum over centres is a
    one-dimensional sum of Gaussians in m. Where neighbouring peaks overlap strongly
    (gamma = 100 dim h^2 <= 1e-3, h the spacing of centres; true at the defaults) that sum is
    done by the Euler-Maclaurin formula through the B8 term, O(1) per point, and agrees with
    the direct sum to 1e-15 of the ridge's peak value (checked in the tests); otherwise it is
    summed directly, in blocks of at most ``max_block`` (point, centre) pairs to bound memory.

    Exact integral: (1/N) sum_k [(erf(10 (1 - c_k)) + erf(10 c_k)) / 2]^dim.
    """

    name = "ridge"
    a = 100.0  # exponent coefficient of every peak, as in the vegas documentation
    max_block = 1 << 22  # (point, centre) pairs per block of the direct sum: 32 MiB
    max_gamma = 1e-3  # Euler-Maclaurin below this overlap parameter, direct sum above

    def __init__(
        self, *, dim: int = 4, n_peaks: int = 1000, device: str | torch.device = "cpu"
    ) -> None:
        super().__init__(check_dim(dim, self.name), device)
        self.n_peaks = check_int("n_peaks", n_peaks, ge=1)
        self.centres = torch.linspace(0.4, 0.6, self.n_peaks, dtype=torch.float64)
        self.spacing = 0.2 / (self.n_peaks - 1) if self.n_peaks > 1 else math.inf
        s = math.sqrt(self.a)
        mass = [0.5 * (math.erf(s * (1.0 - c)) + math.erf(s * c)) for c in self.centres.tolist()]
        self.reference = math.fsum(m**self.dim for m in mass) / self.n_peaks

    def evaluate(self, x: torch.Tensor) -> torch.Tensor:
        m = x.mean(dim=1)
        across = ((x - m[:, None]) ** 2).sum(dim=1)  # squared distance from the diagonal
        gamma = self.a * self.dim * self.spacing**2
        if gamma <= self.max_gamma:
            along = _gaussian_comb_sum((m - 0.4) / self.spacing, self.n_peaks, gamma)
        else:
            along = self._direct_sum(m)
        log_norm = 0.5 * self.dim * math.log(self.a / math.pi) - math.log(self.n_peaks)
        return torch.exp(log_norm - self.a * across) * along

    def _direct_sum(self, m: torch.Tensor) -> torch.Tensor:
        c = self.centres.to(m.device)
        along = torch.empty_like(m)
        step = max(1, self.max_block // self.n_peaks)
        for i in range(0, len(m), step):  # blocks of points, each against all centres
            d2 = (m[i : i + step, None] - c) ** 2
            along[i : i + step] = torch.exp(-self.a * self.dim * d2).sum(dim=1)
        return along

    def options(self) -> dict[str, Any]:
        return {"dim": self.dim, "n_peaks": self.n_peaks}


# Euler-Maclaurin: B_2j / (2j)! for j = 1..4, and the odd Hermite polynomials H_1, H_3, H_5, H_7
# (physicists'), which give the odd derivatives of exp(-gamma (t - u)^2).
_EM_COEF = (1.0 / 12.0, -1.0 / 720.0, 1.0 / 30240.0, -1.0 / 1209600.0)
_HERMITE_ODD = (
    (0.0, 2.0),
    (0.0, -12.0, 0.0, 8.0),
    (0.0, 120.0, 0.0, -160.0, 0.0, 32.0),
    (0.0, -1680.0, 0.0, 3360.0, 0.0, -1344.0, 0.0, 128.0),
)


def _gaussian_comb_sum(u: torch.Tensor, n: int, gamma: float) -> torch.Tensor:
    """sum_{k=0}^{n-1} exp(-gamma (k - u)^2) by Euler-Maclaurin, for small gamma.

    Integral plus end corrections through the B8 term; the remainder is of relative order
    (gamma / 4 pi^2)^4. The integral uses erfc outside [0, n-1] so that it keeps its relative
    accuracy (and sign) far from the centres.
    """
    end = n - 1
    sg = math.sqrt(gamma)
    z_hi, z_lo = sg * (end - u), -sg * u  # the ends of the comb in units of the peak width
    inside = torch.erf(z_hi) - torch.erf(z_lo)
    below = torch.erfc(z_lo) - torch.erfc(z_hi)  # u < 0: both arguments positive
    above = torch.erfc(-z_hi) - torch.erfc(-z_lo)  # u > end: both arguments negative
    mass = torch.where(u < 0, below, torch.where(u > end, above, inside))
    total = 0.5 * math.sqrt(math.pi / gamma) * mass
    e_hi, e_lo = torch.exp(-z_hi * z_hi), torch.exp(-z_lo * z_lo)
    total = total + 0.5 * (e_hi + e_lo)
    # d^(2j-1)/dt^(2j-1) exp(-gamma (t - u)^2) = -gamma^((2j-1)/2) H_(2j-1)(z) exp(-z^2).
    for j, (coef, herm) in enumerate(zip(_EM_COEF, _HERMITE_ODD, strict=True), start=1):
        scale = -coef * gamma ** ((2 * j - 1) / 2)
        total = total + scale * (_poly(herm, z_hi) * e_hi - _poly(herm, z_lo) * e_lo)
    return total


def _poly(coefs: tuple[float, ...], z: torch.Tensor) -> torch.Tensor:
    out = torch.full_like(z, coefs[-1])
    for c in reversed(coefs[:-1]):
        out = out * z + c
    return out
