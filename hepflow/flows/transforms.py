"""Registry of the element-wise [0, 1] -> [0, 1] maps that couplings and MADE layers use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor

from .errors import FlowError, check_choice
from .piecewise import piecewise_linear, piecewise_quadratic
from .splines import rational_quadratic

__all__ = ["TRANSFORMS", "ElementwiseTransform", "make_transform"]


@dataclass(frozen=True)
class ElementwiseTransform:
    """A monotone bijection of [0, 1] with ``n_params`` network outputs per dimension.

    ``apply(x, params, inverse)`` returns ``(y, log|dy/dx|)`` element-wise in float64; the
    ``params`` keep the network's precision (float32) until they are normalised. Zero
    parameters give the identity.
    """

    name: str
    bins: int
    n_params: int
    apply: Callable[[Tensor, Tensor, bool], tuple[Tensor, Tensor]]

    def __call__(self, x: Tensor, params: Tensor, inverse: bool = False) -> tuple[Tensor, Tensor]:
        return self.apply(x, params, inverse)


# name -> (parameters per dimension as a function of the number of bins, implementation)
TRANSFORMS: dict[str, tuple[Callable[[int], int], Callable]] = {
    "rqs": (lambda k: 3 * k + 1, rational_quadratic),
    "linear": (lambda k: k, piecewise_linear),
    "quadratic": (lambda k: 2 * k + 1, piecewise_quadratic),
}


def make_transform(name: str, bins: int) -> ElementwiseTransform:
    """Look up ``name`` in ``TRANSFORMS``; bad names or bin counts raise FlowError."""
    check_choice("transform", name, tuple(TRANSFORMS))
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise FlowError(f"bins={bins!r} must be a positive integer (e.g. bins=10)")
    n_params, apply = TRANSFORMS[name]
    return ElementwiseTransform(name, bins, n_params(bins), apply)
