"""Generator-level cuts with MadGraph run_card names and meanings, and their efficiency.

``Cuts(ptj=20, etaj=5, drjj=0.4, ...)`` builds a cut set; ``Cuts.mask(momenta, pdg)`` says which
events pass. Names and semantics follow MadGraph's run_card (``cuts.f``): jets are quarks and
gluons (|pdg| <= 5 or 21), leptons the charged leptons (11, 13, 15); minimum cuts at 0 and
maximum cuts at -1 mean "no cut"; pair cuts apply to every pair of the kind (``mmll`` only to
same-flavour opposite-charge pairs, as MadGraph does). Unlike MadGraph's run_card, every cut
defaults to off, so nothing is cut unless asked. Beyond MadGraph's names, ``ycut`` is the
lepton-collider jet resolution: every pair of coloured partons needs y_ij = m_ij^2 / s >= ycut,
with s the squared total momentum of the final state.

``CutEfficiency`` counts passed / total so an integrand can report ``cut_efficiency`` with its
binomial error.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import torch

from ..errors import HepflowError
from .vectors import delta_r, eta, mass2, pt

__all__ = ["CUT_NAMES", "CutEfficiency", "CutError", "Cuts", "is_jet", "is_lepton"]


class CutError(HepflowError):
    """An unknown cut name or a value a cut cannot take."""


#: name -> (what it cuts, default "off" value); maxima use -1 for "no cut" as in MadGraph
CUT_NAMES: dict[str, tuple[str, float]] = {
    "ptj": ("minimum jet pT (GeV)", 0.0),
    "ptl": ("minimum charged-lepton pT (GeV)", 0.0),
    "ptjmax": ("maximum jet pT (GeV), -1 = none", -1.0),
    "ptlmax": ("maximum charged-lepton pT (GeV), -1 = none", -1.0),
    "ej": ("minimum jet energy (GeV)", 0.0),
    "el": ("minimum charged-lepton energy (GeV)", 0.0),
    "etaj": ("maximum jet |eta|, -1 = none", -1.0),
    "etal": ("maximum charged-lepton |eta|, -1 = none", -1.0),
    "drjj": ("minimum Delta R between jets", 0.0),
    "drll": ("minimum Delta R between charged leptons", 0.0),
    "drjl": ("minimum Delta R between a jet and a charged lepton", 0.0),
    "mmjj": ("minimum jet-pair invariant mass (GeV)", 0.0),
    "mmjjmax": ("maximum jet-pair invariant mass (GeV), -1 = none", -1.0),
    "mmll": ("minimum same-flavour l+ l- invariant mass (GeV)", 0.0),
    "mmllmax": ("maximum same-flavour l+ l- invariant mass (GeV), -1 = none", -1.0),
    "ycut": ("minimum y_ij = m_ij^2 / s of every coloured-parton pair (e+e- jets)", 0.0),
}


def is_jet(pdg: int) -> bool:
    """Quarks u..b and gluons, MadGraph's jet definition (tops are not jets)."""
    return 1 <= abs(pdg) <= 5 or pdg == 21


def is_lepton(pdg: int) -> bool:
    """Charged leptons e, mu, tau (either charge)."""
    return abs(pdg) in (11, 13, 15)


class Cuts:
    """A set of cuts; ``mask`` applies them to a batch of final states. Options: ``CUT_NAMES``."""

    def __init__(self, **cuts: float) -> None:
        unknown = sorted(set(cuts) - set(CUT_NAMES))
        if unknown:
            known = ", ".join(f"{k} ({v[0]})" for k, v in CUT_NAMES.items())
            raise CutError(f"unknown cut(s) {unknown}; the known cuts are: {known}")
        self.values: dict[str, float] = {}
        for name, (_, default) in CUT_NAMES.items():
            value = cuts.get(name, default)
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or not math.isfinite(value)
            ):
                raise CutError(f"cut {name} = {value!r}: must be a finite number")
            value = float(value)
            is_max = name.endswith("max") or name.startswith("eta")
            if value < 0 and not (is_max and value == -1):
                allowed = "a number >= 0, or -1 for no cut" if is_max else "a number >= 0"
                raise CutError(f"cut {name} = {value!r}: must be {allowed}")
            self.values[name] = value

    def __getattr__(self, name: str) -> float:
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(name)

    @property
    def active(self) -> dict[str, float]:
        """The cuts that cut something (not at their 'off' value)."""
        return {k: v for k, v in self.values.items() if v != CUT_NAMES[k][1]}

    def __bool__(self) -> bool:
        return bool(self.active)

    def __repr__(self) -> str:
        return "Cuts(" + ", ".join(f"{k}={v!r}" for k, v in self.active.items()) + ")"

    def mask(self, momenta: torch.Tensor, pdg: Sequence[int]) -> torch.Tensor:
        """(n,) bool: which events pass every cut. ``momenta`` (n, k, 4) holds the final-state
        particles only, in the order of ``pdg`` (k ids)."""
        if momenta.ndim != 3 or momenta.shape[-1] != 4 or momenta.shape[1] != len(pdg):
            raise CutError(
                f"Cuts.mask takes momenta (n, {len(pdg)}, 4) for pdg {list(pdg)}, got "
                f"{tuple(momenta.shape)}; pass the final-state momenta only"
            )
        v = self.values
        ok = torch.ones(momenta.shape[0], dtype=torch.bool, device=momenta.device)
        jets = [i for i, k in enumerate(pdg) if is_jet(k)]
        leptons = [i for i, k in enumerate(pdg) if is_lepton(k)]
        ok = ok & self._single(momenta, jets, v["ptj"], v["ptjmax"], v["ej"], v["etaj"])
        ok = ok & self._single(momenta, leptons, v["ptl"], v["ptlmax"], v["el"], v["etal"])
        for i, j in combinations(jets, 2):
            pi, pj = momenta[:, i], momenta[:, j]
            if v["drjj"] > 0:
                ok = ok & (delta_r(pi, pj) >= v["drjj"])
            ok = ok & _window(mass2(pi + pj), v["mmjj"], v["mmjjmax"])
        for i, j in combinations(leptons, 2):
            pi, pj = momenta[:, i], momenta[:, j]
            if v["drll"] > 0:
                ok = ok & (delta_r(pi, pj) >= v["drll"])
            if pdg[i] == -pdg[j]:
                ok = ok & _window(mass2(pi + pj), v["mmll"], v["mmllmax"])
        if v["drjl"] > 0:
            for i in jets:
                for j in leptons:
                    ok = ok & (delta_r(momenta[:, i], momenta[:, j]) >= v["drjl"])
        if v["ycut"] > 0:
            coloured = [i for i, k in enumerate(pdg) if 1 <= abs(k) <= 6 or k == 21]
            s = mass2(momenta.sum(1))
            for i, j in combinations(coloured, 2):
                ok = ok & (mass2(momenta[:, i] + momenta[:, j]) >= v["ycut"] * s)
        return ok

    @staticmethod
    def _single(
        p: torch.Tensor,
        which: list[int],
        pt_min: float,
        pt_max: float,
        e_min: float,
        eta_max: float,
    ) -> torch.Tensor:
        ok = torch.ones(p.shape[0], dtype=torch.bool, device=p.device)
        for i in which:
            q = p[:, i]
            if pt_min > 0 or pt_max >= 0:
                ok = ok & (pt(q) >= pt_min)
                if pt_max >= 0:
                    ok = ok & (pt(q) <= pt_max)
            if e_min > 0:
                ok = ok & (q[:, 0] >= e_min)
            if eta_max >= 0:
                ok = ok & (eta(q).abs() <= eta_max)
        return ok


def _window(m2: torch.Tensor, m_min: float, m_max: float) -> torch.Tensor:
    """m_min <= m <= m_max (m_max = -1: no maximum), compared as squares."""
    ok = m2 >= m_min * m_min if m_min > 0 else torch.ones_like(m2, dtype=torch.bool)
    if m_max >= 0:
        ok = ok & (m2 <= m_max * m_max)
    return ok


@dataclass
class CutEfficiency:
    """Running count of events that passed the cuts out of those tried (integrand calls)."""

    passed: int = 0
    total: int = 0

    def update(self, mask: torch.Tensor) -> None:
        """Add one batch's pass/fail mask."""
        self.passed += int(mask.sum())
        self.total += int(mask.numel())

    def reset(self) -> None:
        self.passed = self.total = 0

    @property
    def value(self) -> float:
        """passed / total (nan before any event)."""
        return self.passed / self.total if self.total else math.nan

    @property
    def error(self) -> float:
        """Binomial standard error sqrt(eps (1 - eps) / total)."""
        if not self.total:
            return math.nan
        eps = self.value
        return math.sqrt(eps * (1 - eps) / self.total)

    def __str__(self) -> str:
        return f"{self.value:.4g} +- {self.error:.2g} ({self.passed}/{self.total})"
