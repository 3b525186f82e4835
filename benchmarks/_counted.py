"""The integrand wrapper the comparison benchmarks share: it counts evaluations, so that every
method can be held to the same budget and checked against it."""

from __future__ import annotations

import torch


class Counted:
    """The integrand, counting evaluations (the same wrapper for every method)."""

    def __init__(self, f) -> None:
        self.f, self.dim, self.reference, self.n = f, f.dim, f.reference, 0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self.n += x.shape[0]
        return self.f(x)
