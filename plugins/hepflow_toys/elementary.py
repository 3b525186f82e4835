"""Smooth elementary integrands with integrals in closed form: polynomial, product, sinusoidal."""

from __future__ import annotations

import math
from typing import Any

import torch

from ._base import ToyIntegrand, check_dim, check_real

__all__ = ["Polynomial", "Product", "Sinusoidal"]


class Polynomial(ToyIntegrand):
    """sum_i (x_i - x_i^2), i-flow's polynomial f4, any dim; exact integral dim/6.

    C. Gao, J. Isaacson, C. Krause, arXiv:2001.05486, eq. (22): a smooth function whose mass is
    spread over the whole cube, the case where importance sampling gains least; used there
    unscaled, as here.
    """

    name = "polynomial"

    def __init__(self, *, dim: int, device: str | torch.device = "cpu") -> None:
        super().__init__(check_dim(dim, self.name), device)
        self.reference = self.dim / 6.0

    def evaluate(self, x: torch.Tensor) -> torch.Tensor:
        return (x - x * x).sum(dim=1)


class Product(ToyIntegrand):
    """prod_i 2 x_i, the MadNIS first-steps integrand, any dim; exact integral 1.

    From the MadNIS documentation ("First steps", madgraph-ml/madnis): f(x) = prod_i 2 x_i,
    whose integral over the unit hypercube is 1 in every dimension.
    """

    name = "product"

    def __init__(self, *, dim: int, device: str | torch.device = "cpu") -> None:
        super().__init__(check_dim(dim, self.name), device)
        self.reference = 1.0

    def evaluate(self, x: torch.Tensor) -> torch.Tensor:
        return (2.0 * x).prod(dim=1)


class Sinusoidal(ToyIntegrand):
    """offset + cos^2(freq * sum_i x_i), ZüNIS's sinusoidal, any dim; exact closed form.

    The "sinusoidal function with a wave vector along the maximal hyperdiagonal" of ZüNIS
    (N. Deutschmann, N. Götz, arXiv:2401.09069; class SineIntegrand in
    experiments/benchmarks/utils/integrands/pretty.py of github.com/ndeutschmann/zunis), with
    the parameters of their benchmark script benchmark_cos.py, freq = 20 and offset = 0.1. Its
    oscillations run across every axis at once, so no product of one-dimensional grids (VEGAS)
    can follow them.

    Exact integral: offset + 1/2 + cos(dim * freq) * (sin(freq) / freq)^dim / 2
    (from cos^2 u = (1 + cos 2u) / 2 and the integral of exp(2 i freq x) over [0, 1]).
    """

    name = "sinusoidal"

    def __init__(
        self,
        *,
        dim: int,
        freq: float = 20.0,
        offset: float = 0.1,
        device: str | torch.device = "cpu",
    ) -> None:
        super().__init__(check_dim(dim, self.name), device)
        self.freq = check_real("freq", freq)
        self.offset = check_real("offset", offset, ge=0.0)
        sinc = math.sin(self.freq) / self.freq if self.freq else 1.0
        self.reference = self.offset + 0.5 + 0.5 * math.cos(self.dim * self.freq) * sinc**self.dim

    def evaluate(self, x: torch.Tensor) -> torch.Tensor:
        return self.offset + torch.cos(self.freq * x.sum(dim=1)) ** 2

    def options(self) -> dict[str, Any]:
        return {"dim": self.dim, "freq": self.freq, "offset": self.offset}
