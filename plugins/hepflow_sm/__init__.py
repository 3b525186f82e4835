"""The ``sm`` plugin: Standard-Model processes at tree level, checked against MadGraph 3.5.7.

Each process is an integrand over [0,1]^dim returning d(sigma) in pb at a fixed (partonic)
centre-of-mass energy, with ``matrix_element(momenta)`` (|M|^2 averaged and summed as
MadGraph's SMATRIX does) and ``events(x)`` for the event record. Only processes whose |M|^2
is checked point by point against MadGraph's own values are registered here.
"""

from __future__ import annotations

import hepflow

from .fermion_pairs import (
    DDbarToEE,
    EEToMuMu,
    FourFermionProcess,
    SChannelFermionPair,
    UUbarToEE,
    UUbarToTTbar,
)
from .top_pairs import GGToTTbar

__all__ = [
    "PROCESSES",
    "DDbarToEE",
    "EEToMuMu",
    "FourFermionProcess",
    "GGToTTbar",
    "SChannelFermionPair",
    "UUbarToEE",
    "UUbarToTTbar",
]

PROCESSES = {cls.name: cls for cls in (EEToMuMu, UUbarToEE, DDbarToEE, UUbarToTTbar, GGToTTbar)}


@hepflow.hookimpl
def hepflow_integrands():
    """The sm processes by name; each class is its own factory (its keyword options)."""
    return dict(PROCESSES)
