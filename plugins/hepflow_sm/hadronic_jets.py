"""p p -> j j at tree level (MadGraph: p p > j j, j = p = g and the light quarks): every
partonic channel of the proton, from the QCD 2 -> 2 classes of ``qcd``.

Massless QCD is flavour blind and C invariant, so eight |M|^2 cover all channels: g g -> g g,
g g -> q q~ (each final flavour), q q~ -> g g, q q~ -> q q~, q q~ -> q' q~' (each q' != q),
q g -> q g, q q' -> q q', q q -> q q; antiquark versions (q~ g, q~ q~', q~ q~) are the C
conjugates (same |M|^2, colour and anticolour swapped), and q q~' -> q q~' (q' != q) is the
same function of the momenta as q q' -> q q' (the t-channel (s^2 + u^2) / t^2 is symmetric
under the crossing s <-> u), with the leading colour flow joining the two incoming and the two
outgoing partons. Each channel's final state is integrated over the full solid angle of
particle 3 once (MadGraph's identical-particle factors 1/2 are inside its IDEN). MadGraph's
default cuts: ptj = 20 GeV, etaj = 5, drjj = 0.4; its default scale (dynamical_scale_choice
-1) is, for a massless 2 -> 2, the jet pT, which is "ht/2" here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from hepflow.physics.vectors import dot

from .hadronic import GLUON, HadronicOptionError, HadronicProcess, PartonChannel
from .qcd import GGToGG, GGToUUbar, UDToUD, UGToUG, UUbarToDDbar, UUbarToGG, UUbarToUUbar, UUToUU

__all__ = ["ESW_FORMULAS", "AnalyticQCD", "PPToJJ"]

Formula = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]

#: sum |M|^2 / (g_s^4 x initial spins and colours), massless, by MadGraph process name
#: (Ellis, Stirling, Webber, "QCD and collider physics", table 7.1); t = (p1 - p3)^2
ESW_FORMULAS: dict[str, Formula] = {
    "ud_ud": lambda s, t, u: 4 / 9 * (s * s + u * u) / (t * t),
    "uu_uu": lambda s, t, u: (
        4 / 9 * ((s * s + u * u) / (t * t) + (s * s + t * t) / (u * u)) - 8 / 27 * s * s / (u * t)
    ),
    "uux_ddx": lambda s, t, u: 4 / 9 * (t * t + u * u) / (s * s),
    "uux_uux": lambda s, t, u: (
        4 / 9 * ((s * s + u * u) / (t * t) + (t * t + u * u) / (s * s)) - 8 / 27 * u * u / (s * t)
    ),
    "uux_gg": lambda s, t, u: (
        32 / 27 * (t * t + u * u) / (t * u) - 8 / 3 * (t * t + u * u) / (s * s)
    ),
    "gg_uux": lambda s, t, u: 1 / 6 * (t * t + u * u) / (t * u) - 3 / 8 * (t * t + u * u) / (s * s),
    "ug_ug": lambda s, t, u: -4 / 9 * (s * s + u * u) / (s * u) + (u * u + s * s) / (t * t),
    "gg_gg": lambda s, t, u: 9 / 2 * (3 - t * u / (s * s) - s * u / (t * t) - s * t / (u * u)),
}


class AnalyticQCD:
    """The closed-form |M|^2 of a massless QCD 2 -> 2 (``ESW_FORMULAS``) in MadGraph's
    normalisation: g_s^4 (the param_card's aS) times the formula, halved for identical final
    particles (MadGraph's IDEN). A fast stand-in for the HELAS sum of ``process`` (a ``qcd``
    class; the tests check the two agree), whose colour flows and amplitudes the event record
    still uses."""

    def __init__(self, process: Any) -> None:
        self.process = process
        self.name, self.pdg, self.params = process.name, process.pdg, process.params
        self.colour_flows = process.colour_flows
        self._formula = ESW_FORMULAS[process.name]
        identical = 2 if process.pdg[2] == process.pdg[3] else 1
        self._norm = process.params.gs**4 / identical

    def matrix_element(self, momenta: torch.Tensor) -> torch.Tensor:
        p = momenta.to(torch.float64)
        s = 2 * dot(p[:, 0], p[:, 1])
        t = -2 * dot(p[:, 0], p[:, 2])
        u = -2 * dot(p[:, 0], p[:, 3])
        return self._norm * self._formula(s, t, u)

    @property
    def _helicities(self):
        return self.process._helicities

    def _jamps(self, *args):
        return self.process._jamps(*args)


#: LHE colour tags of q q~' -> q q~' (q' != q), t-channel gluon at leading colour
CROSSED_FLOW = ((501, 0), (0, 501), (502, 0), (0, 502))


class PPToJJ(HadronicProcess):
    """p p -> j j, all partonic channels (MadGraph: p p > j j), with MadGraph's default jet
    cuts ``ptj`` (GeV, > 0: the t-channel poles need it), ``etaj`` (-1: none) and ``drjj``,
    and any further ``cuts``. Scale default: "ht/2" (= the jet pT)."""

    name = "pp_jj"
    process = "p p > j j"
    alpha_s_power = 2

    def __init__(
        self,
        *,
        ptj: float = 20.0,
        etaj: float = 5.0,
        drjj: float = 0.4,
        scale: str = "ht/2",
        cuts: dict[str, float] | None = None,
        **options: Any,
    ) -> None:
        if isinstance(ptj, bool) or not isinstance(ptj, int | float) or not ptj > 0:
            raise HadronicOptionError(
                f"ptj = {ptj!r}: p p > j j needs a minimum jet pT > 0 GeV (its t-channel "
                "poles make the uncut cross section infinite), e.g. ptj = 20"
            )
        self.ptj = float(ptj)
        merged = {"ptj": self.ptj, "etaj": etaj, "drjj": drjj, **(cuts or {})}
        super().__init__(scale=scale, cuts=merged, **options)

    def _setup(self, param_card: str | None) -> None:
        if 2 * self.ptj >= self.sqrt_s:
            raise HadronicOptionError(
                f"{self.name}: ptj = {self.ptj} GeV leaves no phase space at sqrt_s = "
                f"{self.sqrt_s} GeV; choose ptj < sqrt_s / 2"
            )
        opts = {"sqrt_s": self.sqrt_s, "ptj": self.ptj, "param_card": param_card}
        opts["device"] = self.device
        helas = (GGToGG, GGToUUbar, UUbarToGG, UUbarToUUbar, UUbarToDDbar, UGToUG, UDToUD, UUToUU)
        me = [AnalyticQCD(cls(**opts)) for cls in helas]
        gggg, ggqq, qqgg, qqqq_same, qqqq_other, qgqg, qq_diff, qq_same = me
        quarks = self._quarks()
        g = GLUON
        ch: list[PartonChannel] = [PartonChannel(g, g, gggg, False, (g, g))]
        ch += [PartonChannel(g, g, ggqq, False, (q, -q)) for q in quarks]
        for q in quarks:
            for sign in (1, -1):  # quark from beam 1 (sign 1) or beam 2
                a, b, swap = (q, -q, False) if sign == 1 else (-q, q, True)
                ch.append(PartonChannel(a, b, qqgg, swap, (g, g)))
                ch.append(PartonChannel(a, b, qqqq_same, swap, (q, -q)))
                ch += [PartonChannel(a, b, qqqq_other, swap, (r, -r)) for r in quarks if r != q]
            for f in (q, -q):  # q g -> q g and its C conjugate, both orientations
                conj = f < 0
                ch.append(PartonChannel(f, g, qgqg, False, (f, g), conjugate=conj))
                ch.append(PartonChannel(g, f, qgqg, True, (f, g), conjugate=conj))
        partons = [*quarks, *(-q for q in quarks)]
        for a in partons:
            for b in partons:
                if a == b:  # q q -> q q, q~ q~ -> q~ q~
                    ch.append(PartonChannel(a, a, qq_same, False, (a, a), conjugate=a < 0))
                elif abs(a) != abs(b) and (a > 0) == (b > 0):  # q q' or q~ q~'
                    ch.append(PartonChannel(a, b, qq_diff, False, (a, b), conjugate=a < 0))
                elif abs(a) != abs(b):  # q q~' -> q q~'
                    ch.append(
                        PartonChannel(
                            a, b, qq_diff, False, (a, b), conjugate=a < 0, flows=CROSSED_FLOW
                        )
                    )
        self.channels_ = ch
        self.final_masses = (0.0, 0.0)

    def _s_window(self) -> tuple[float, float]:
        return ((2 * self.ptj) ** 2, self.sqrt_s**2)

    def options(self) -> dict[str, Any]:
        opts = super().options()
        return {**opts, "ptj": self.ptj}
