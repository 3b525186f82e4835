"""The error flows raise for bad arguments: a ValueError that the command line also reports."""

from __future__ import annotations

from ..errors import HepflowError

__all__ = ["FlowError", "check_choice"]


class FlowError(HepflowError, ValueError):
    """A flow built or called with a bad argument; the message names it and the fix."""


def check_choice(argument: str, value: object, allowed: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise naming the argument and options."""
    if value not in allowed:
        raise FlowError(f"{argument}={value!r} is not known; allowed values: {', '.join(allowed)}")
    return value  # type: ignore[return-value]
