"""QCD 2 -> 2 processes of massless partons at tree level (the parts of p p > j j).

g g -> g g, u u~ -> g g, u g -> u g and u d -> u d are checked point by point against
MadGraph 3.5.7; g g -> u u~, u u~ -> d d~, u u > u u and u u~ > u u~ against the
Ellis-Stirling-Webber closed forms. Massless quarks make |M|^2 flavour blind: u d -> u d
serves for any q q' (q != q'), u u~ -> d d~ for any q q~ -> q' q~'.

All but q q~ -> q' q~' have a t- or u-channel pole: at fixed sqrt_s the cross section over the
full angle diverges (like 1 / (1 - cos theta)^2), so those processes require a cut ``ptj``, the
minimum transverse momentum of the outgoing partons in GeV, i.e. |cos theta| <= sqrt(1 - 4
ptj^2 / s). The map x0 -> cos theta then covers only the allowed range (no point is wasted),
and ``matrix_element`` does not depend on it. An integral that cannot converge is refused
rather than returned as a number with a meaningless error.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, ClassVar

import torch

from hepflow.errors import HepflowError
from hepflow.physics import helas
from hepflow.physics.units import GEV2_TO_PB

from ._two_to_two import TwoToTwoProcess
from .qcd_amplitudes import gluon_exchange, gluon_jamps, quark_line_jamps
from .qcd_colour import (
    GLUON_TRACE_MATRIX,
    GLUON_TRACES,
    QUARK_LINE_MATRIX,
    TWO_LINE_MATRIX,
    lhe_colours,
)

__all__ = [
    "GGToGG",
    "GGToUUbar",
    "QCDCutError",
    "QCDTwoToTwo",
    "UDToUD",
    "UGToUG",
    "UUToUU",
    "UUbarToDDbar",
    "UUbarToGG",
    "UUbarToUUbar",
]


class QCDCutError(HepflowError, ValueError):
    """A missing or impossible ``ptj`` cut."""


class QCDTwoToTwo(TwoToTwoProcess):
    """Massless QCD 2 -> 2 with an optional (required where ``pole``) ``ptj`` cut in GeV."""

    #: True where a t- or u-channel pole makes the uncut cross section infinite
    pole: ClassVar[bool] = True

    def __init__(
        self,
        *,
        sqrt_s: float,
        ptj: float | None = None,
        param_card: str | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        if ptj is not None and (
            isinstance(ptj, bool)
            or not isinstance(ptj, numbers.Real)
            or not math.isfinite(ptj)
            or ptj < 0
        ):
            raise QCDCutError(
                f"{self.name}: ptj must be a transverse momentum >= 0 GeV, got {ptj!r}"
            )
        self.ptj = None if ptj is None else float(ptj)
        super().__init__(sqrt_s=sqrt_s, param_card=param_card, device=device)

    def _setup(self) -> None:
        if self.pole and not self.ptj:
            raise QCDCutError(
                f"{self.name} ({self.process}) needs a cut: its t-/u-channel pole makes the "
                f"cross section over the full angle infinite; give ptj > 0 (GeV), the minimum "
                f"transverse momentum of the outgoing partons, e.g. ptj=20"
            )
        ptj = self.ptj or 0.0
        if 2 * ptj >= self.sqrt_s:
            raise QCDCutError(
                f"{self.name}: ptj = {ptj} GeV leaves no phase space at sqrt_s = {self.sqrt_s} "
                f"GeV (pT <= sqrt_s / 2); choose ptj < {self.sqrt_s / 2}"
            )
        #: the largest |cos theta| the cut allows
        self.cos_max = math.sqrt(1.0 - (2 * ptj / self.sqrt_s) ** 2)
        self._setup_colour()

    def _setup_colour(self) -> None:
        raise NotImplementedError

    def momenta(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """As the base class, with cos theta = cos_max (2 x0 - 1): the cut region only."""
        if self.cos_max == 1.0:
            return super().momenta(x)
        x = x.to(torch.float64)
        squeezed = torch.stack([0.5 + self.cos_max * (x[:, 0] - 0.5), x[:, 1]], dim=-1)
        p, weight = super().momenta(squeezed)
        return p, weight * self.cos_max

    def _wave(self, p: torch.Tensor, i: int, hel: int, cache: dict) -> torch.Tensor:
        """External wave function of leg i (0-based, 0 and 1 incoming) for helicity hel."""
        key = ("w", i, hel)
        if key not in cache:
            pdg, incoming = self.pdg[i], i < 2
            if pdg == 21:
                cache[key] = helas.vxxxxx(p[:, i], 0.0, hel, -1 if incoming else 1)
            elif (pdg > 0) == incoming:  # flowing in: incoming quark, outgoing antiquark
                cache[key] = helas.ixxxxx(p[:, i], 0.0, hel, 1 if pdg > 0 else -1)
            else:
                cache[key] = helas.oxxxxx(p[:, i], 0.0, hel, 1 if pdg > 0 else -1)
        return cache[key]

    def _waves(self, p: torch.Tensor, hel: tuple[int, ...], cache: dict) -> list[torch.Tensor]:
        return [self._wave(p, i, h, cache) for i, h in enumerate(hel)]

    def options(self) -> dict[str, Any]:
        return {**super().options(), "ptj": self.ptj}


class GGToGG(QCDTwoToTwo):
    """g g -> g g (MadGraph: g g > g g): s, t, u gluon exchange and the four-gluon vertex,
    six JAMPs (the single traces); IDEN = 4 x 64 x 2 (identical gluons)."""

    name = "gg_gg"
    process = "g g > g g"
    pdg = (21, 21, 21, 21)

    def _setup_colour(self) -> None:
        self.colour_matrix = GLUON_TRACE_MATRIX
        self.iden = 512
        self.colour_flows = [
            lhe_colours([([leg - 1 for leg in order], True)]) for order in GLUON_TRACES
        ]

    def _jamps(self, p: torch.Tensor, hel: tuple[int, ...], cache: dict) -> list[torch.Tensor]:
        return gluon_jamps(*self._waves(p, hel, cache), self.params.gs)


class _QuarkLineTwoGluons(QCDTwoToTwo):
    """One quark line (legs ``line`` = (fo, fi)) and two gluons (``gluons`` = (a, b))."""

    line: ClassVar[tuple[int, int]]
    gluons: ClassVar[tuple[int, int]]

    def _setup_colour(self) -> None:
        self.colour_matrix = QUARK_LINE_MATRIX
        (fo, fi), (a, b) = self.line, self.gluons
        self.colour_flows = [
            lhe_colours([([fo, a, b, fi], False)]),
            lhe_colours([([fo, b, a, fi], False)]),
        ]

    def _jamps(self, p: torch.Tensor, hel: tuple[int, ...], cache: dict) -> list[torch.Tensor]:
        w = self._waves(p, hel, cache)
        (fo, fi), (a, b) = self.line, self.gluons
        return quark_line_jamps(w[fi], w[fo], w[a], w[b], self.params.gs)


class UUbarToGG(_QuarkLineTwoGluons):
    """u u~ -> g g (MadGraph: u u~ > g g); IDEN = 4 x 9 x 2 (identical gluons)."""

    name = "uux_gg"
    process = "u u~ > g g"
    pdg = (2, -2, 21, 21)
    line = (1, 0)
    gluons = (2, 3)

    def _setup_colour(self) -> None:
        super()._setup_colour()
        self.iden = 72


class UGToUG(_QuarkLineTwoGluons):
    """u g -> u g (MadGraph: u g > u g): t-channel gluon, s- and u-channel quark; IDEN 4 x 24."""

    name = "ug_ug"
    process = "u g > u g"
    pdg = (2, 21, 2, 21)
    line = (2, 0)
    gluons = (1, 3)

    def _setup_colour(self) -> None:
        super()._setup_colour()
        self.iden = 96


class GGToUUbar(_QuarkLineTwoGluons):
    """g g -> u u~ (MadGraph: g g > u u~), massless: g g -> t t~ at MT = 0; IDEN = 4 x 64."""

    name = "gg_uux"
    process = "g g > u u~"
    pdg = (21, 21, 2, -2)
    line = (2, 3)
    gluons = (0, 1)

    def _setup_colour(self) -> None:
        super()._setup_colour()
        self.iden = 256


class UDToUD(QCDTwoToTwo):
    """u d -> u d (MadGraph: u d > u d): one t-channel gluon, one JAMP with colour sum
    |T^c_{31} T^c_{42}|^2 = 2; the event colour flow is the leading one (colours exchanged)."""

    name = "ud_ud"
    process = "u d > u d"
    pdg = (2, 1, 2, 1)

    def _setup_colour(self) -> None:
        self.colour_matrix = [[2.0]]
        self.iden = 36
        self.colour_flows = [lhe_colours([([2, 1], False), ([3, 0], False)])]

    def _jamps(self, p: torch.Tensor, hel: tuple[int, ...], cache: dict) -> list[torch.Tensor]:
        w = self._waves(p, hel, cache)
        return [gluon_exchange(w[0], w[2], w[1], w[3], self.params.gs)]


class UUbarToDDbar(QCDTwoToTwo):
    """u u~ -> d d~ (MadGraph: u u~ > d d~): one s-channel gluon, no pole, so no cut needed;
    ``reference`` is the exact cross section, 2 pi alpha_s^2 / (9 s) (c + c^3 / 3) with
    c = cos_max (8 pi alpha_s^2 / (27 s) uncut)."""

    name = "uux_ddx"
    process = "u u~ > d d~"
    pdg = (2, -2, 1, -1)
    pole = False

    def _setup_colour(self) -> None:
        self.colour_matrix = [[2.0]]
        self.iden = 36
        self.colour_flows = [lhe_colours([([2, 0], False), ([1, 3], False)])]

    def _jamps(self, p: torch.Tensor, hel: tuple[int, ...], cache: dict) -> list[torch.Tensor]:
        w = self._waves(p, hel, cache)
        return [gluon_exchange(w[0], w[1], w[3], w[2], self.params.gs)]

    def _exact_cross_section(self) -> float:
        c, s = self.cos_max, self.sqrt_s**2
        return 2 * math.pi * self.params.aS**2 / (9 * s) * (c + c**3 / 3) * GEV2_TO_PB


class _TwoDiagramFourQuark(QCDTwoToTwo):
    """Identical-flavour four-quark processes: two gluon exchanges A (colour flow
    ``flows[0]`` at leading colour) and B (``flows[1]``) with a relative Fermi minus sign,
    M = A - B; Fierz gives JAMP_1 = A/2 + B/6 and JAMP_2 = -A/6 - B/2."""

    #: (fo_a, fi_a, fo_b, fi_b) of the diagrams A and B, legs 0-based
    diagrams: ClassVar[tuple[tuple[int, int, int, int], tuple[int, int, int, int]]]

    def _setup_colour(self) -> None:
        self.colour_matrix = TWO_LINE_MATRIX
        self.colour_flows = [
            lhe_colours([([fo_a, fi_b], False), ([fo_b, fi_a], False)])
            for fo_a, fi_a, fo_b, fi_b in self.diagrams
        ]

    def _jamps(self, p: torch.Tensor, hel: tuple[int, ...], cache: dict) -> list[torch.Tensor]:
        w = self._waves(p, hel, cache)
        gs = self.params.gs
        a, b = (
            gluon_exchange(w[fi_a], w[fo_a], w[fi_b], w[fo_b], gs)
            for fo_a, fi_a, fo_b, fi_b in self.diagrams
        )
        return [a / 2 + b / 6, -a / 6 - b / 2]


class UUToUU(_TwoDiagramFourQuark):
    """u u -> u u (MadGraph: u u > u u): t- and u-channel gluons; IDEN = 4 x 9 x 2."""

    name = "uu_uu"
    process = "u u > u u"
    pdg = (2, 2, 2, 2)
    diagrams = ((2, 0, 3, 1), (3, 0, 2, 1))

    def _setup_colour(self) -> None:
        super()._setup_colour()
        self.iden = 72


class UUbarToUUbar(_TwoDiagramFourQuark):
    """u u~ -> u u~ (MadGraph: u u~ > u u~): t- and s-channel gluons; IDEN = 4 x 9."""

    name = "uux_uux"
    process = "u u~ > u u~"
    pdg = (2, -2, 2, -2)
    diagrams = ((2, 0, 1, 3), (1, 0, 2, 3))

    def _setup_colour(self) -> None:
        super()._setup_colour()
        self.iden = 36
