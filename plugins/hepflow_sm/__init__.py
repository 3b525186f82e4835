"""The ``sm`` plugin: Standard-Model processes at tree level, checked against MadGraph 3.5.7.

Each partonic process is an integrand over [0,1]^dim returning d(sigma) in pb at a fixed
(partonic) centre-of-mass energy, with ``matrix_element(momenta)`` (|M|^2 averaged and summed as
MadGraph's SMATRIX does) and ``events(x)`` for the event record. The hadron-collider processes
(``pp_ll``, ``pp_tt``, ``pp_jj``) fold them with PDFs (``hadronic``). Every registered |M|^2 is checked
point by point against MadGraph's own values, or where MadGraph has none against closed forms:
the analytic Born cross section with photon and Z (``ee_qq``, ``ee_tt``) or the
Ellis-Stirling-Webber QCD 2 -> 2 formulae (``gg_uux``, ``uux_ddx``, ``uu_uu``, ``uux_uux``).
"""

from __future__ import annotations

import hepflow

from .fermion_pairs import (
    DDbarToEE,
    EEToMuMu,
    EEToQQbar,
    EEToTTbar,
    FourFermionProcess,
    SChannelFermionPair,
    UUbarToEE,
    UUbarToTTbar,
)
from .hadronic import HadronicProcess
from .hadronic_jets import PPToJJ
from .hadronic_lljet import PPToLLJ
from .hadronic_processes import PPToLL, PPToTTbar
from .qcd import (
    GGToGG,
    GGToUUbar,
    QCDCutError,
    QCDTwoToTwo,
    UDToUD,
    UGToUG,
    UUbarToDDbar,
    UUbarToGG,
    UUbarToUUbar,
    UUToUU,
)
from .three_body import EEToDDbarG, EEToUUbarG, UGToEEU, UUbarToEEG
from .top_pairs import GGToTTbar

__all__ = [
    "PROCESSES",
    "DDbarToEE",
    "EEToDDbarG",
    "EEToMuMu",
    "EEToQQbar",
    "EEToTTbar",
    "EEToUUbarG",
    "FourFermionProcess",
    "GGToGG",
    "GGToTTbar",
    "GGToUUbar",
    "HadronicProcess",
    "PPToJJ",
    "PPToLL",
    "PPToLLJ",
    "PPToTTbar",
    "QCDCutError",
    "QCDTwoToTwo",
    "SChannelFermionPair",
    "UDToUD",
    "UGToEEU",
    "UGToUG",
    "UUToUU",
    "UUbarToDDbar",
    "UUbarToEE",
    "UUbarToEEG",
    "UUbarToGG",
    "UUbarToTTbar",
    "UUbarToUUbar",
]

PROCESSES = {
    cls.name: cls
    for cls in (
        GGToGG,
        UUbarToGG,
        UGToUG,
        UDToUD,
        GGToUUbar,
        UUbarToDDbar,
        UUToUU,
        UUbarToUUbar,
        EEToQQbar,
        EEToTTbar,
        EEToUUbarG,
        EEToDDbarG,
        UUbarToEEG,
        UGToEEU,
        EEToMuMu,
        UUbarToEE,
        DDbarToEE,
        UUbarToTTbar,
        GGToTTbar,
        PPToLL,
        PPToTTbar,
        PPToJJ,
        PPToLLJ,
    )
}


@hepflow.hookimpl
def hepflow_integrands():
    """The sm processes by name; each class is its own factory (its keyword options)."""
    return dict(PROCESSES)
