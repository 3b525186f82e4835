"""Colour-ordered QCD 2 -> 2 amplitudes (MadGraph's JAMPs) from HELAS wave functions.

Each function takes the external wave functions (any of them incoming or outgoing: the
crossing is in the wave functions and their momentum flows) and returns the JAMPs of one
helicity combination in the basis of ``qcd_colour``. Feynman rules with D = d - i g_s T^a A^a
(Peskin-Schroeder, MadGraph's sm model): quark-gluon vertex i g_s gamma^mu T^a (GC_11 = i g_s),
triple-gluon vertex g_s f^{abc} V^{mu nu rho}, four-gluon vertex i g_s^2 (GC_12) times
VVVV1 f^{12e} f^{34e} + VVVV3 f^{13e} f^{24e} + VVVV4 f^{14e} f^{23e}, gluon propagator
-i g^{mu nu} / q^2 (Feynman gauge). Being plain functions of wave functions, they can be fed a
gluon whose polarisation is replaced by its momentum: the gauge-invariance test.
"""

from __future__ import annotations

import torch

from hepflow.physics import helas

from .qcd_colour import GLUON_TRACES, ff_traces

__all__ = ["gluon_exchange", "gluon_jamps", "quark_line_jamps"]

#: the three ways to split four gluons into two pairs, with the four-gluon vertex's Lorentz
#: structure that carries the same colour factor f^{abe} f^{cde}
_PAIRINGS = (((1, 2, 3, 4), "VVVV1"), ((1, 3, 2, 4), "VVVV3"), ((1, 4, 2, 3), "VVVV4"))


def gluon_jamps(
    w1: torch.Tensor, w2: torch.Tensor, w3: torch.Tensor, w4: torch.Tensor, gs: float
) -> list[torch.Tensor]:
    """g g -> g g (any crossing): the six JAMPs of the traces ``GLUON_TRACES``.

    For each pairing (a b)(c d): the gluon-exchange diagram (current of a, b into the vertex
    with c, d) plus the matching part of the contact vertex, times f^{abe} f^{cde}."""
    w = {1: w1, 2: w2, 3: w3, 4: w4}
    jamps = {order: torch.zeros_like(w1[:, 0]) for order in GLUON_TRACES}
    for (a, b, c, d), lorentz in _PAIRINGS:
        current = helas.vvv_current(w[a], w[b], gs)
        amp = helas.vvv_amplitude(current, w[c], w[d], gs)
        amp = amp + helas.vvvv_amplitude(w1, w2, w3, w4, 1j * gs * gs, lorentz)
        for order, coef in ff_traces(a, b, c, d).items():
            jamps[order] = jamps[order] + coef * amp
    return [jamps[order] for order in GLUON_TRACES]


def quark_line_jamps(
    fi: torch.Tensor,
    fo: torch.Tensor,
    wa: torch.Tensor,
    wb: torch.Tensor,
    gs: float,
    mass: float = 0.0,
    width: float = 0.0,
) -> list[torch.Tensor]:
    """A quark line fo ... fi with two gluons a, b (q q~ -> g g and its crossings): JAMPs of
    (T^a T^b)_{fo fi} (gluon a next to fo) and (T^b T^a)_{fo fi}. The s-channel diagram's
    f^{abc} T^c = -i [T^a, T^b] goes to both."""
    g = 1j * gs
    d_ab = helas.ffv_amplitude(helas.fvi_current(fi, wb, g, g, mass, width), fo, wa, g, g)
    d_ba = helas.ffv_amplitude(helas.fvi_current(fi, wa, g, g, mass, width), fo, wb, g, g)
    d_s = helas.ffv_amplitude(fi, fo, helas.vvv_current(wa, wb, gs), g, g)
    return [d_ab - 1j * d_s, d_ba + 1j * d_s]


def gluon_exchange(
    fi_a: torch.Tensor, fo_a: torch.Tensor, fi_b: torch.Tensor, fo_b: torch.Tensor, gs: float
) -> torch.Tensor:
    """One gluon exchanged between the quark lines fo_a ... fi_a and fo_b ... fi_b, colour
    stripped (the colour is T^c_{fo_a fi_a} T^c_{fo_b fi_b}). Returns (N,) complex128."""
    g = 1j * gs
    current = helas.ffv_current(fi_a, fo_a, g, g, 0.0, 0.0)
    return helas.ffv_amplitude(fi_b, fo_b, current, g, g)
