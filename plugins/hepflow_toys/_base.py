"""What every toy shares: the Integrand attributes, input checks, and option validation.

Option checks raise ValueError naming the option, the value given and what is allowed;
``hepflow.create`` turns that into a ComponentError that also names the component.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, ClassVar

import torch

__all__ = [
    "ToyIntegrand",
    "axis_tensor",
    "check_device",
    "check_dim",
    "check_int",
    "check_real",
    "compact",
    "per_axis",
]


class ToyIntegrand:
    """Base class: ``dim``, ``device``, ``reference`` (the exact integral) and ``unit``.

    ``reference_error`` is the estimated absolute error of ``reference``: 0 for closed forms
    (float64 rounding only), the quadrature's estimate otherwise. ``device`` is where the
    pipeline should put points; ``__call__`` evaluates on whatever device its input is on.
    Subclasses implement ``evaluate(x)`` for a checked (n, dim) float64 tensor and return (n,)
    float64 values on the same device.
    """

    name: ClassVar[str] = "toy"
    unit: str = ""

    def __init__(self, dim: int, device: str | torch.device) -> None:
        self.dim = dim
        self.device = check_device(device)
        self.reference = math.nan
        self.reference_error = 0.0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != self.dim:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"{self.name} takes points as an (n, {self.dim}) tensor, got {got}")
        return self.evaluate(x.to(torch.float64))

    def evaluate(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def options(self) -> dict[str, Any]:
        """The options this instance was built with (for repr and run summaries)."""
        return {"dim": self.dim}

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{type(self).__name__}({opts})"


def check_device(device: str | torch.device) -> torch.device:
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a torch device; use e.g. 'cpu', 'cuda' or 'cuda:1'"
        ) from exc


def check_dim(dim: Any, name: str, allowed: Sequence[int] | None = None) -> int:
    """A positive integer dimension, and one of ``allowed`` when the function has fixed dims."""
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral) or dim < 1:
        raise ValueError(f"dim must be a positive integer, got {dim!r}")
    if allowed is not None and dim not in allowed:
        dims = " or ".join(f"dim={d}" for d in allowed)
        raise ValueError(f"dim={dim} is not allowed: {name} is defined for {dims} only")
    return int(dim)


def check_int(option: str, value: Any, *, ge: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < ge:
        raise ValueError(f"{option} must be an integer >= {ge}, got {value!r}")
    return int(value)


def check_real(
    option: str,
    value: Any,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
) -> float:
    """A finite real number within the given bounds, as a float."""
    bounds = [
        f"{op} {bound:g}"
        for op, bound in ((">", gt), (">=", ge), ("<", lt), ("<=", le))
        if bound is not None
    ]
    need = "a finite real number" + (" " + " and ".join(bounds) if bounds else "")
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        v = float(value)
        ok = (
            math.isfinite(v)
            and (gt is None or v > gt)
            and (ge is None or v >= ge)
            and (lt is None or v < lt)
            and (le is None or v <= le)
        )
    if not ok:
        raise ValueError(f"{option} must be {need}, got {value!r}")
    return float(value)


def per_axis(option: str, value: Any, dim: int, **bounds: float) -> tuple[float, ...]:
    """A number for every axis: one number (the same on all axes) or a sequence of ``dim``."""
    if not isinstance(value, (numbers.Real, str)) and hasattr(value, "tolist"):
        value = value.tolist()  # torch tensors and numpy arrays
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return (check_real(option, value, **bounds),) * dim
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != dim:
            raise ValueError(
                f"{option} must be one number or a sequence of dim={dim} numbers (one per "
                f"axis), got a sequence of {len(value)}: {list(value)!r}"
            )
        return tuple(check_real(f"{option}[{i}]", v, **bounds) for i, v in enumerate(value))
    raise ValueError(
        f"{option} must be one number or a sequence of dim={dim} numbers (one per axis), "
        f"got {value!r}"
    )


def axis_tensor(values: tuple[float, ...], x: torch.Tensor) -> torch.Tensor:
    """Per-axis constants as a float64 tensor on x's device."""
    return torch.tensor(values, dtype=torch.float64, device=x.device)


def compact(values: tuple[float, ...]) -> float | tuple[float, ...]:
    """One number when all axes agree (for repr), else the tuple."""
    return values[0] if len(set(values)) == 1 else values
