"""Registry of the element-wise [0, 1] -> [0, 1] maps that couplings and MADE layers use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor

from .errors import FlowError, check_choice
from .piecewise import piecewise_linear, piecewise_quadratic
from .spline_kernels import fused_rational_quadratic, use_kernels
from .splines import rational_quadratic

__all__ = ["TRANSFORMS", "ElementwiseTransform", "make_transform"]


@dataclass(frozen=True)
class ElementwiseTransform:
    """A monotone bijection of [0, 1] with ``n_params`` network outputs per dimension.

    ``apply(x, params, inverse)`` returns ``(y, log|dy/dx|)`` element-wise in float64; the
    ``params`` keep the network's precision (float32) until they are normalised. Zero
    parameters give the identity. ``fused``, where a map has one, does the same in fused CPU
    kernels (``spline_kernels``) and takes the calls that ``use_kernels`` allows; it wants
    ``params`` point-major (each element's parameters contiguous).
    """

    name: str
    bins: int
    n_params: int
    apply: Callable[[Tensor, Tensor, bool], tuple[Tensor, Tensor]]
    fused: Callable[[Tensor, Tensor, bool], tuple[Tensor, Tensor]] | None = None

    def fuses(self, *tensors: Tensor) -> bool:
        """Whether a call on these tensors goes to the fused kernels."""
        return self.fused is not None and use_kernels(*tensors)

    def __call__(self, x: Tensor, params: Tensor, inverse: bool = False) -> tuple[Tensor, Tensor]:
        if self.fuses(x, params):
            return self.fused(x, params, inverse)
        return self.apply(x, params, inverse)


# name -> (parameters per dimension as a function of the number of bins, implementation,
# fused CPU implementation or None)
TRANSFORMS: dict[str, tuple[Callable[[int], int], Callable, Callable | None]] = {
    "rqs": (lambda k: 3 * k + 1, rational_quadratic, fused_rational_quadratic),
    "linear": (lambda k: k, piecewise_linear, None),
    "quadratic": (lambda k: 2 * k + 1, piecewise_quadratic, None),
}


def make_transform(name: str, bins: int) -> ElementwiseTransform:
    """Look up ``name`` in ``TRANSFORMS``; bad names or bin counts raise FlowError."""
    check_choice("transform", name, tuple(TRANSFORMS))
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise FlowError(f"bins={bins!r} must be a positive integer (e.g. bins=10)")
    n_params, apply, fused = TRANSFORMS[name]
    return ElementwiseTransform(name, bins, n_params(bins), apply, fused)
