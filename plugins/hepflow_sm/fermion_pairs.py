"""f f~ -> f' f'~ through one s-channel vector: e+e- -> mu+mu-, u u~ / d d~ -> e+e- (photon and
Z) and u u~ -> t t~ (gluon).

The diagrams (photon, Z with fixed width in unitary gauge; or the gluon) are built from HELAS
wave functions, exactly as MadGraph's standalone ``matrix.f`` builds them, summed over the
helicities (the 16 combinations, less those found identically zero, as MadGraph's helicity
filter does) and averaged as SMATRIX does: me2 = colour sum * sum_hel |M|^2 / IDEN, IDEN = 4 x
(initial colour states). Phase space, cross section and events: ``_two_to_two``.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from hepflow.physics import helas
from hepflow.physics.units import GEV2_TO_PB

from ._two_to_two import TwoToTwoProcess

__all__ = [
    "DDbarToEE",
    "EEToMuMu",
    "EEToQQbar",
    "EEToTTbar",
    "FourFermionProcess",
    "SChannelFermionPair",
    "UUbarToEE",
    "UUbarToTTbar",
]


def _is_quark(pdg: int) -> bool:
    return 1 <= abs(pdg) <= 6


class FourFermionProcess(TwoToTwoProcess):
    """f1 f2 -> f3 f4 with the fermion lines (1, 2) and (3, 4) joined by s-channel vectors;
    a subclass gives ``_exchanges`` (the vectors and their couplings), ``_colour_factors``
    and ``colours``. One colour structure, so one JAMP."""

    def _setup(self) -> None:
        self._bosons = self._exchanges()
        colour_sum, self.iden = self._colour_factors()
        self.colour_sum = colour_sum
        self.colour_matrix = [[colour_sum]]
        self.colour_flows = [self.colours()]

    def _exchanges(
        self,
    ) -> list[tuple[tuple[complex, complex], tuple[complex, complex], float, float]]:
        """[((g_L, g_R) at the (1, 2) vertex, (g_L, g_R) at the (3, 4) vertex, mass, width)]."""
        raise NotImplementedError

    def _colour_factors(self) -> tuple[float, int]:
        """(sum over colours of the colour factor squared, IDEN = 4 x initial colour states)."""
        raise NotImplementedError

    def colours(self) -> list[tuple[int, int]]:
        """LHE colour tags (ICOLUP) of the four particles."""
        raise NotImplementedError

    def _jamps(self, p: torch.Tensor, hel: tuple[int, ...], cache: dict) -> list[torch.Tensor]:
        def wave(i: int) -> torch.Tensor:
            key = ("w", i, hel[i])
            if key not in cache:
                pdg = self.pdg[i]
                # flowing-in lines (ixxxxx): incoming fermions and outgoing antifermions
                routine = helas.ixxxxx if (pdg > 0) == (i < 2) else helas.oxxxxx
                cache[key] = routine(p[:, i], self.masses[i], hel[i], 1 if pdg > 0 else -1)
            return cache[key]

        def pair(a: int, b: int) -> tuple[int, int]:
            """(ixxxxx line, oxxxxx line) of the fermion pair a, b."""
            return (a, b) if (self.pdg[a] > 0) == (a < 2) else (b, a)

        (i_in, o_in), (i_out, o_out) = pair(0, 1), pair(2, 3)
        key = ("j", hel[i_in], hel[o_in])
        if key not in cache:
            fi, fo = wave(i_in), wave(o_in)
            cache[key] = [helas.ffv_current(fi, fo, *c, m, w) for c, _, m, w in self._bosons]
        fi, fo = wave(i_out), wave(o_out)
        amp = sum(
            helas.ffv_amplitude(fi, fo, j, *c)
            for j, (_, c, _, _) in zip(cache[key], self._bosons, strict=True)
        )
        return [amp]


class SChannelFermionPair(FourFermionProcess):
    """Photon and Z exchange; the option ``z_boson=False`` leaves the photon only (QED)."""

    def __init__(
        self,
        *,
        sqrt_s: float,
        z_boson: bool = True,
        param_card: str | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        if not isinstance(z_boson, bool):
            raise ValueError(f"z_boson must be true or false, got {z_boson!r}")
        self.z_boson = z_boson
        super().__init__(sqrt_s=sqrt_s, param_card=param_card, device=device)

    def _exchanges(self):
        f_in, f_out = abs(self.pdg[0]), abs(self.pdg[2])
        p = self.params
        a_in, a_out = p.photon_coupling(f_in), p.photon_coupling(f_out)
        bosons = [((a_in, a_in), (a_out, a_out), 0.0, 0.0)]
        if self.z_boson:
            bosons.append((p.z_couplings(f_in), p.z_couplings(f_out), p.MZ, p.WZ))
        return bosons

    def _colour_factors(self) -> tuple[float, int]:
        quarks = [_is_quark(i) for i in self.pdg]
        return (3.0 if any(quarks) else 1.0), 4 * (9 if quarks[0] and quarks[1] else 1)

    def _exact_cross_section(self) -> float:
        """sigma = pi alpha^2 / (3 s) * c * sum_ij |c_ij|^2 (massless, tree level), with the
        helicity amplitudes c_ij of ``SMParameters.neutral_current_amplitudes``; c = colour
        sum / initial colours."""
        p, s = self.params, self.sqrt_s**2
        amplitudes = p.neutral_current_amplitudes(self.pdg[0], self.pdg[2], s, self.z_boson)
        total = sum(abs(c) ** 2 for row in amplitudes for c in row)
        colour = self.colour_sum / (self.iden / 4)
        return math.pi * p.aEW**2 / (3 * s) * colour * total * GEV2_TO_PB

    def colours(self) -> list[tuple[int, int]]:
        """One line 501 joins the quark pair (quark (501, 0), antiquark (0, 501), incoming or
        outgoing alike); leptons carry none."""
        return [
            ((501, 0) if pdg > 0 else (0, 501)) if _is_quark(pdg) else (0, 0) for pdg in self.pdg
        ]

    def options(self) -> dict[str, Any]:
        return {**super().options(), "z_boson": self.z_boson}


class EEToMuMu(SChannelFermionPair):
    """e+ e- -> mu+ mu- through photon and Z at fixed sqrt_s (MadGraph: e+ e- > mu+ mu-)."""

    name = "ee_mumu"
    process = "e+ e- > mu+ mu-"
    pdg = (-11, 11, -13, 13)


class UUbarToEE(SChannelFermionPair):
    """u u~ -> e+ e- through photon and Z at fixed partonic sqrt_s (MadGraph: u u~ > e+ e-)."""

    name = "uu_ee"
    process = "u u~ > e+ e-"
    pdg = (2, -2, -11, 11)


class DDbarToEE(SChannelFermionPair):
    """d d~ -> e+ e- through photon and Z at fixed partonic sqrt_s (MadGraph: d d~ > e+ e-)."""

    name = "dd_ee"
    process = "d d~ > e+ e-"
    pdg = (1, -1, -11, 11)


class UUbarToTTbar(FourFermionProcess):
    """u u~ -> t t~ through an s-channel gluon at fixed partonic sqrt_s (MadGraph: u u~ > t t~).

    QCD only, as MadGraph generates it at its default coupling orders (no photon or Z);
    massive, undecayed tops with MT from the param_card."""

    name = "uu_tt"
    process = "u u~ > t t~"
    pdg = (2, -2, 6, -6)

    def _exchanges(self):
        g = 1j * self.params.gs  # UFO sm GC_11 = i gs, with the colour matrix T^a apart
        return [((g, g), (g, g), 0.0, 0.0)]

    def _colour_factors(self) -> tuple[float, int]:
        # sum over colours |T^a_ij T^a_kl|^2 = Tr(T^a T^b) Tr(T^a T^b) = (N^2 - 1) / 4 = 2
        return 2.0, 36

    def _exact_cross_section(self) -> float:
        """sigma = 8 pi alpha_s^2 / (27 s) beta (1 + rho / 2), rho = 4 MT^2 / s, beta^2 = 1 - rho
        (Ellis, Stirling, Webber, "QCD and collider physics", eq. (10.12) integrated)."""
        s = self.sqrt_s**2
        rho = 4 * self.masses[2] ** 2 / s
        beta = math.sqrt(1 - rho)
        alpha_s = self.params.aS
        return 8 * math.pi * alpha_s**2 / (27 * s) * beta * (1 + rho / 2) * GEV2_TO_PB

    def colours(self) -> list[tuple[int, int]]:
        """Colour flows from the u to the t, anticolour from the u~ to the t~."""
        return [(501, 0), (0, 502), (501, 0), (0, 502)]


class EEToQQbar(SChannelFermionPair):
    """e+ e- -> q q~ through photon and Z at fixed sqrt_s (MadGraph: e+ e- > q q~), for the
    quark ``flavour`` 1-5 (d u s c b; b massive with the card's MB), colour factor 3, with
    the exact Born ``reference`` (massive formula)."""

    name = "ee_qq"
    process = "e+ e- > q q~"

    def __init__(
        self,
        *,
        sqrt_s: float,
        flavour: int = 2,
        z_boson: bool = True,
        param_card: str | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        if isinstance(flavour, bool) or flavour not in (1, 2, 3, 4, 5):
            raise ValueError(
                f"flavour must be a quark PDG id 1-5 (d u s c b), got {flavour!r}; "
                "for top pairs use ee_tt"
            )
        self.flavour = int(flavour)
        self.pdg = (-11, 11, self.flavour, -self.flavour)
        self.process = f"e+ e- > {_QUARK_NAMES[self.flavour]} {_QUARK_NAMES[self.flavour]}~"
        super().__init__(sqrt_s=sqrt_s, z_boson=z_boson, param_card=param_card, device=device)

    def _exact_cross_section(self) -> float:
        return _massive_born(self)

    def options(self) -> dict[str, Any]:
        return {**super().options(), "flavour": self.flavour}


_QUARK_NAMES = {1: "d", 2: "u", 3: "s", 4: "c", 5: "b"}


class EEToTTbar(SChannelFermionPair):
    """e+ e- -> t t~ through photon and Z at fixed sqrt_s (MadGraph: e+ e- > t t~), massive
    undecayed tops (MT from the card), colour factor 3, with the exact Born ``reference``."""

    name = "ee_tt"
    process = "e+ e- > t t~"
    pdg = (-11, 11, 6, -6)

    def _exact_cross_section(self) -> float:
        return _massive_born(self)


def _massive_born(proc: SChannelFermionPair) -> float:
    """sigma(e+e- -> Q Q~), tree level, photon (+ Z), massive Q: N_c 2 pi alpha^2 / (3 s) beta
    sum_{i = L, R} [(3 - beta^2) / 2 |V_i|^2 + beta^2 |A_i|^2], where for electron helicity i
    V_i, A_i = (c_iR +- c_iL) / 2 with the helicity amplitudes c_ij of
    ``SMParameters.neutral_current_amplitudes`` (the vector part goes as beta (3 - beta^2)
    / 2, the axial part as beta^3; at beta = 1 the two formulas agree)."""
    p, s = proc.params, proc.sqrt_s**2
    beta = math.sqrt(1 - 4 * proc.masses[2] ** 2 / s)
    total = 0.0
    for c_l, c_r in p.neutral_current_amplitudes(proc.pdg[0], proc.pdg[2], s, proc.z_boson):
        vector, axial = (c_r + c_l) / 2, (c_r - c_l) / 2
        total += (3 - beta**2) / 2 * abs(vector) ** 2 + beta**2 * abs(axial) ** 2
    colour = proc.colour_sum / (proc.iden / 4)
    return 2 * math.pi * p.aEW**2 / (3 * s) * colour * beta * total * GEV2_TO_PB
