"""Standard-Model parameters as MadGraph's ``sm`` model derives them from its param_card.

The default card is MG5_aMC 3.5.7's ``sm`` with ``restrict_default.dat`` (values as listed in
the MadGraph reference README shipped with the tests). The electroweak scheme is MadGraph's
(alpha_EW(MZ), G_F, MZ): MW, sin^2(theta_W) and e are derived, as in the model's
``parameters.py``. Couplings are the vertex factors in MadGraph's convention (the UFO ``GC_``
values): the photon couples as i e Q gamma^mu, the Z as i gamma^mu (g_L P_L + g_R P_R).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from .slha import SLHA, SLHAError, parse_slha, read_slha

__all__ = ["FERMIONS", "SM_PARAM_CARD", "SMParameters"]

#: MG5_aMC 3.5.7 ``sm`` (restrict_default) external parameters, in SLHA form.
SM_PARAM_CARD = """\
######################################################################
## PARAM_CARD of MadGraph5_aMC@NLO 3.5.7, model sm (restrict_default)
######################################################################
BLOCK MASS #
      5 4.700000e+00 # mb
      6 1.730000e+02 # mt
      15 1.777000e+00 # mta
      23 9.118800e+01 # mz
      25 1.250000e+02 # mh
BLOCK SMINPUTS #
      1 1.325070e+02 # aewm1
      2 1.166390e-05 # gf
      3 1.180000e-01 # as (note that parameter not used if you use a pdf set)
BLOCK YUKAWA #
      5 4.700000e+00 # ymb
      6 1.730000e+02 # ymt
      15 1.777000e+00 # ymtau
DECAY 6 1.491500e+00 # wt
DECAY 23 2.441404e+00 # wz
DECAY 24 2.047600e+00 # ww
DECAY 25 6.382339e-03 # wh
"""

#: Electric charge Q and weak isospin T3 of the left-handed fermion, by PDG id (particles).
FERMIONS: dict[int, tuple[float, float]] = {
    1: (-1 / 3, -0.5),
    2: (2 / 3, 0.5),
    3: (-1 / 3, -0.5),
    4: (2 / 3, 0.5),
    5: (-1 / 3, -0.5),
    6: (2 / 3, 0.5),
    11: (-1.0, -0.5),
    12: (0.0, 0.5),
    13: (-1.0, -0.5),
    14: (0.0, 0.5),
    15: (-1.0, -0.5),
    16: (0.0, 0.5),
}


@dataclass(frozen=True)
class SMParameters:
    """External inputs of the ``sm`` model and the quantities MadGraph derives from them."""

    aEWM1: float = 132.507
    Gf: float = 1.16639e-05
    aS: float = 0.118
    MZ: float = 91.188
    MT: float = 173.0
    MB: float = 4.7
    MH: float = 125.0
    MTA: float = 1.777
    ymb: float = 4.7
    ymt: float = 173.0
    ymtau: float = 1.777
    WZ: float = 2.441404
    WW: float = 2.0476
    WT: float = 1.4915
    WH: float = 6.382339e-03

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def from_slha(cls, card: SLHA) -> SMParameters:
        """Read the external parameters from a parsed card; a missing entry names itself."""
        try:
            return cls(
                aEWM1=card.value("SMINPUTS", 1),
                Gf=card.value("SMINPUTS", 2),
                aS=card.value("SMINPUTS", 3),
                MZ=card.value("MASS", 23),
                MT=card.value("MASS", 6),
                MB=card.value("MASS", 5),
                MH=card.value("MASS", 25),
                MTA=card.value("MASS", 15),
                ymb=card.value("YUKAWA", 5),
                ymt=card.value("YUKAWA", 6),
                ymtau=card.value("YUKAWA", 15),
                WZ=card.width(23),
                WW=card.width(24),
                WT=card.width(6),
                WH=card.width(25),
            )
        except SLHAError as exc:
            raise SLHAError(f"{exc} (needed by the sm model)") from None

    @classmethod
    def from_card(cls, path: str | Path | None = None) -> SMParameters:
        """From a param_card file, or the shipped MadGraph default when ``path`` is None."""
        if path is None:
            return cls.from_slha(parse_slha(SM_PARAM_CARD, source="<sm default param_card>"))
        return cls.from_slha(read_slha(path))

    # -- derived (MadGraph sm parameters.py) ------------------------------------------------
    @property
    def aEW(self) -> float:
        return 1.0 / self.aEWM1

    @property
    def MW(self) -> float:
        """sqrt(MZ^2/2 + sqrt(MZ^4/4 - pi aEW MZ^2 / (Gf sqrt 2)))."""
        mz2 = self.MZ**2
        return math.sqrt(
            mz2 / 2.0
            + math.sqrt(mz2**2 / 4.0 - (self.aEW * math.pi * mz2) / (self.Gf * math.sqrt(2.0)))
        )

    @property
    def sw2(self) -> float:
        return 1.0 - self.MW**2 / self.MZ**2

    @property
    def cw(self) -> float:
        return self.MW / self.MZ

    @property
    def sw(self) -> float:
        return math.sqrt(self.sw2)

    @property
    def ee(self) -> float:
        """Electric charge 2 sqrt(pi aEW)."""
        return 2.0 * math.sqrt(self.aEW) * math.sqrt(math.pi)

    @property
    def g1(self) -> float:
        return self.ee / self.cw

    @property
    def gw(self) -> float:
        return self.ee / self.sw

    @property
    def vev(self) -> float:
        return 2.0 * self.MW * self.sw / self.ee

    @property
    def yt(self) -> float:
        return self.ymt * math.sqrt(2.0) / self.vev

    @property
    def gs(self) -> float:
        """Strong coupling 2 sqrt(pi aS)."""
        return 2.0 * math.sqrt(self.aS) * math.sqrt(math.pi)

    # -- couplings -------------------------------------------------------------------------
    def photon_coupling(self, pdg: int) -> complex:
        """i e Q of fermion ``pdg`` (MadGraph GC_1/2/3: -i e/3, 2i e/3, -i e for d, u, e)."""
        q, _ = _fermion(pdg)
        return 1j * self.ee * q

    def z_couplings(self, pdg: int) -> tuple[complex, complex]:
        """(g_L, g_R) = i e / (sw cw) * (T3 - Q sw2, -Q sw2) for fermion ``pdg``."""
        return tuple(1j * self.ee * g for g in self._z_charges(pdg))

    def _z_charges(self, pdg: int) -> tuple[float, float]:
        """(g_L, g_R) in units of e."""
        q, t3 = _fermion(pdg)
        return (t3 - q * self.sw2) / (self.sw * self.cw), -q * self.sw2 / (self.sw * self.cw)

    def neutral_current_amplitudes(
        self, f_in: int, f_out: int, s: float, z_boson: bool = True
    ) -> tuple[tuple[complex, complex], tuple[complex, complex]]:
        """c[i][j] = Q Q' + g_i g'_j s / (s - MZ^2 + i MZ WZ) for helicities i, j = L, R of
        f_in and f_out: the photon (+ Z) helicity amplitudes of f f~ -> f' f'~ in units of
        e^2 / s. Massless, |M|^2 goes as |c_ij|^2 (1 +- cos theta)^2 (+ for i = j)."""
        q_in, q_out = _fermion(f_in)[0], _fermion(f_out)[0]
        chi = s / complex(s - self.MZ**2, self.MZ * self.WZ) if z_boson else 0.0
        g_in, g_out = self._z_charges(f_in), self._z_charges(f_out)
        return tuple(tuple(q_in * q_out + a * b * chi for b in g_out) for a in g_in)

    def mass(self, pdg: int) -> float:
        """Pole mass by |PDG id|; the particles massless in ``sm`` give 0."""
        return {5: self.MB, 6: self.MT, 15: self.MTA, 23: self.MZ, 24: self.MW, 25: self.MH}.get(
            abs(pdg), 0.0
        )

    def width(self, pdg: int) -> float:
        return {6: self.WT, 23: self.WZ, 24: self.WW, 25: self.WH}.get(abs(pdg), 0.0)


def _fermion(pdg: int) -> tuple[float, float]:
    if abs(pdg) not in FERMIONS:
        raise ValueError(f"PDG id {pdg} is not an sm fermion (known: {sorted(FERMIONS)})")
    return FERMIONS[abs(pdg)]
