"""Renormalisation and factorisation scales of hadron-collider processes, and their 7-point
variations.

A scale choice maps the final-state momenta of a batch to a central scale mu0 (GeV); the
process multiplies it by ``mur_factor`` and ``muf_factor`` (MadGraph's ``scalefact`` split in
two). The dynamic choices follow MadGraph's ``dynamical_scale_choice``: "ht" = 2 (the sum of
the final-state transverse masses sqrt(m^2 + pT^2)), "ht/2" = 3, "shat" = 4 (sqrt of the
partonic s); "mll" is the invariant mass of the final state (the same as "shat" for a 2 -> 2
Drell-Yan). The 7-point set varies muR and muF by factors 2 and 1/2 around the
central values, leaving out the two opposite corners, as the scale-uncertainty convention does.
"""

from __future__ import annotations

import math

import torch

from hepflow.errors import HepflowError
from hepflow.physics.vectors import mass, mass2, pt

__all__ = [
    "SCALE_CHOICES",
    "SEVEN_POINT",
    "ScaleChoice",
    "ScaleError",
    "variation_id",
]

#: The named choices; "fixed" takes its value from the ``scale_value`` option.
SCALE_CHOICES = ("fixed", "mll", "shat", "ht", "ht/2")

#: (muR factor, muF factor) of the 7-point variation, central first.
SEVEN_POINT: tuple[tuple[float, float], ...] = (
    (1.0, 1.0),
    (2.0, 1.0),
    (0.5, 1.0),
    (1.0, 2.0),
    (1.0, 0.5),
    (2.0, 2.0),
    (0.5, 0.5),
)


class ScaleError(HepflowError, ValueError):
    """A scale option that makes no sense (unknown choice, non-positive value or factor)."""


def variation_id(mur: float, muf: float) -> str:
    """The weight id of one variation, e.g. ``muR=2.0_muF=1.0`` (LHE ``<weight id>``)."""
    return f"muR={float(mur)}_muF={float(muf)}"


def _positive(name: str, value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ScaleError(f"{name} must be a positive number, got {value!r}")
    return float(value)


class ScaleChoice:
    """The central scale mu0 of each event: ``choice`` in SCALE_CHOICES; ``value`` (GeV) is
    used by "fixed" only."""

    def __init__(self, choice: str, value: float | None = None) -> None:
        if choice not in SCALE_CHOICES:
            raise ScaleError(
                f"scale = {choice!r} is not a known scale choice; use one of "
                f"{', '.join(map(repr, SCALE_CHOICES))}"
            )
        self.choice = choice
        if choice == "fixed":
            if value is None:
                raise ScaleError('scale = "fixed" needs scale_value (GeV), e.g. 91.188')
            self.value: float | None = _positive("scale_value", value)
        else:
            self.value = None

    def __call__(self, final: torch.Tensor) -> torch.Tensor:
        """mu0 (n,) in GeV from the final-state momenta (n, k, 4)."""
        n = final.shape[0]
        if self.choice == "fixed":
            return torch.full((n,), self.value, dtype=torch.float64, device=final.device)
        if self.choice in ("mll", "shat"):
            return mass(final.sum(1))
        mt = torch.sqrt(torch.clamp(pt(final) ** 2 + mass2(final), min=0.0))  # (n, k)
        ht = mt.sum(1)
        return ht if self.choice == "ht" else ht / 2

    def __repr__(self) -> str:
        return f"ScaleChoice({self.choice!r}, {self.value!r})"
