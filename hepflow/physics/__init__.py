"""Physics building blocks shared by process plugins: four-vectors, phase space, parameter
cards, cuts, Standard-Model parameters, helicity amplitudes and units. No process lives here."""

from __future__ import annotations

from . import cuts, dalitz_triangle, helas, phase_space, slha, sm_parameters, units, vectors
from .cuts import CutEfficiency, Cuts
from .dalitz_triangle import LogDalitzTriangle
from .phase_space import breit_wigner, massless_volume, rambo, two_body
from .slha import SLHA, SLHAError, parse_slha, read_slha
from .sm_parameters import SMParameters
from .units import GEV2_TO_PB

__all__ = [
    "GEV2_TO_PB",
    "SLHA",
    "CutEfficiency",
    "Cuts",
    "LogDalitzTriangle",
    "SLHAError",
    "SMParameters",
    "breit_wigner",
    "cuts",
    "dalitz_triangle",
    "helas",
    "massless_volume",
    "parse_slha",
    "phase_space",
    "rambo",
    "read_slha",
    "slha",
    "sm_parameters",
    "two_body",
    "units",
    "vectors",
]
