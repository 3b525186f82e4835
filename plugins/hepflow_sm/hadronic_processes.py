"""The hadron-collider processes: p p -> e+ e- (Drell-Yan, photon and Z) and p p -> t t~.

Each sums the partonic channels of its proton content (``flavours``) in both beam
orientations; the partonic |M|^2 are the MadGraph-checked sm 2 -> 2 classes (for Drell-Yan
their closed form, ``DrellYanMatrixElement``, 16 times faster and equal to 1e-15). A charm
(or massless b) quark has the |M|^2 of the u (d) quark of the same charge and isospin, since
the sm model has no CKM mixing in neutral currents and these quarks are massless.
"""

from __future__ import annotations

from typing import Any

import torch

from hepflow.channels import Channel
from hepflow.physics.sm_parameters import FERMIONS, SMParameters
from hepflow.physics.vectors import dot

from .fermion_pairs import DDbarToEE, SChannelFermionPair, UUbarToEE, UUbarToTTbar
from .hadronic import (
    GLUON,
    HadronicOptionError,
    HadronicProcess,
    PartonChannel,
    _number,
    quark_antiquark_channels,
    z_or_photon_s_map,
)
from .top_pairs import GGToTTbar

__all__ = ["DrellYanMatrixElement", "PPToLL", "PPToTTbar"]

UP_TYPE = (2, 4)


class DrellYanMatrixElement:
    """|M|^2 of q q~ -> e+ e- (photon and Z, massless) in closed form, as a fast stand-in for
    the HELAS sum of ``UUbarToEE`` / ``DDbarToEE`` (same MadGraph normalisation; the tests
    check it against both at MadGraph's points). With A_ij = Q_q Q_e + g_i^q g_j^e s / (s - M^2
    + i M G) (couplings in units of e, i, j = L, R), t = (p_q - p_e+)^2, u = (p_q - p_e-)^2:
    sum |M|^2 = 4 e^4 N_c [(|A_LL|^2 + |A_RR|^2) t^2 + (|A_LR|^2 + |A_RL|^2) u^2] / s^2,
    divided by IDEN = 36. Particle order: q, q~, e+, e- (MadGraph's)."""

    def __init__(self, process: SChannelFermionPair) -> None:
        p = process.params
        self.process = process
        self.pdg = process.pdg
        self.colour_flows = process.colour_flows
        self.params = p
        q_q, t_q = FERMIONS[abs(process.pdg[0])]
        q_e, t_e = FERMIONS[abs(process.pdg[3])]
        norm = p.sw * p.cw
        self._qq = q_q * q_e
        self._gq = ((t_q - q_q * p.sw2) / norm, -q_q * p.sw2 / norm)
        self._ge = ((t_e - q_e * p.sw2) / norm, -q_e * p.sw2 / norm)
        self._mz2, self._mzwz = p.MZ**2, p.MZ * p.WZ
        self._norm = 4 * p.ee**4 * 3 / process.iden

    def matrix_element(self, momenta: torch.Tensor) -> torch.Tensor:
        p = momenta.to(torch.float64)
        s = 2 * dot(p[:, 0], p[:, 1])
        t = -2 * dot(p[:, 0], p[:, 2])
        u = -2 * dot(p[:, 0], p[:, 3])
        den = (s - self._mz2) ** 2 + self._mzwz**2
        chi_re = s * (s - self._mz2) / den
        chi_im = -s * self._mzwz / den

        def a2(gq: float, ge: float) -> torch.Tensor:
            c = gq * ge
            return (self._qq + c * chi_re) ** 2 + (c * chi_im) ** 2

        (ql, qr), (el, er) = self._gq, self._ge
        same = a2(ql, el) + a2(qr, er)
        opposite = a2(ql, er) + a2(qr, el)
        return self._norm * (same * t * t + opposite * u * u) / (s * s)

    # what the event record uses from the HELAS class (one colour flow)
    @property
    def _helicities(self):
        return self.process._helicities

    def _jamps(self, *args):
        return self.process._jamps(*args)


class PPToLL(HadronicProcess):
    """p p -> e+ e- through photon and Z (MadGraph: p p > e+ e-), mll_min < m(e+e-) < mll_max.

    Options beyond the base's: ``mll_min`` (GeV, > 0: the photon pole needs a cut; MadGraph's
    ``mmll``) and ``mll_max`` (GeV, -1 or None for none; ``mmllmax``). The scale defaults to
    fixed at MZ, as in MadGraph's run_card. The s_hat map mixes a Breit-Wigner around the Z
    and a 1/s map, half of the points each, weighted by the mixed density; the two maps are
    also the ``channels`` "z" and "a" for multi-channel samplers (``_map_s``).
    """

    name = "pp_ll"
    process = "p p > e+ e-"
    alpha_s_power = 0
    final = (-11, 11)

    def __init__(
        self, *, mll_min: float = 50.0, mll_max: float | None = -1.0, **options: Any
    ) -> None:
        self.mll_min = _number("mll_min", mll_min)
        if mll_max is None or mll_max == -1:
            self.mll_max: float | None = None
        else:
            self.mll_max = _number("mll_max", mll_max)
            if self.mll_max <= self.mll_min:
                raise HadronicOptionError(
                    f"mll_max = {mll_max!r} must be above mll_min = {mll_min!r} GeV "
                    "(or -1 for no upper limit)"
                )
        super().__init__(**options)
        #: the s maps of ``_map_s`` as channels for multi-channel samplers
        self.channels = [Channel("z", 1.0), Channel("a", 1.0)]

    def _setup(self, param_card: str | None) -> None:
        up_helas = UUbarToEE(sqrt_s=self.sqrt_s, param_card=param_card, device=self.device)
        down_helas = DDbarToEE(sqrt_s=self.sqrt_s, param_card=param_card, device=self.device)
        up, down = DrellYanMatrixElement(up_helas), DrellYanMatrixElement(down_helas)
        procs = {q: up if q in UP_TYPE else down for q in self._quarks()}
        self.channels_ = quark_antiquark_channels(self._quarks(), procs, self.final)
        self.final_masses = (0.0, 0.0)
        self.mz, self.wz = up.params.MZ, up.params.WZ

    def _default_scale(self) -> float:
        return self.mz

    def _s_window(self) -> tuple[float, float]:
        if self.mll_min >= self.sqrt_s:
            raise HadronicOptionError(
                f"{self.name}: sqrt_s = {self.sqrt_s} GeV is not above mll_min = "
                f"{self.mll_min} GeV; choose a larger sqrt_s or a smaller mll_min"
            )
        top = self.sqrt_s if self.mll_max is None else min(self.mll_max, self.sqrt_s)
        return (self.mll_min**2, top**2)

    def _map_s(
        self, u: torch.Tensor, channel: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """u -> s by a Breit-Wigner around the Z (channel "z") or flat in log s (channel "a",
        the photon pole). Without ``channel``: half of [0, 1] each (the mixed map, so plain
        VEGAS sees the peak), ds/du = 1 / the mixed density (g_z + g_a) / 2. With it: the
        point's own map over all of [0, 1] times its channel weight alpha_c = g_c / (g_z + g_a),
        i.e. ds/du alpha_c = 1 / (g_z + g_a); the two channel terms add up to the total."""
        if channel is None:
            by_z = u < 0.5
            v = torch.where(by_z, 2 * u, 2 * u - 1)
        else:
            by_z, v = channel == 0, u
        s, g_z, g_a = z_or_photon_s_map(v, by_z, self.s_min, self.s_max, self.mz, self.wz)
        density = g_z + g_a if channel is not None else 0.5 * g_z + 0.5 * g_a
        return s, 1 / density

    def options(self) -> dict[str, Any]:
        mll_max = -1.0 if self.mll_max is None else self.mll_max
        return {**super().options(), "mll_min": self.mll_min, "mll_max": mll_max}


class PPToTTbar(HadronicProcess):
    """p p -> t t~ at tree level (MadGraph: p p > t t~): g g and q q~ (both orientations, every
    light flavour of the proton), undecayed tops. The scale defaults to fixed at MT; alpha_s
    is the PDF set's at muR."""

    name = "pp_tt"
    process = "p p > t t~"
    alpha_s_power = 2
    final = (6, -6)

    def _setup(self, param_card: str | None) -> None:
        mt = SMParameters.from_card(param_card).MT
        if self.sqrt_s <= 2 * mt:
            raise HadronicOptionError(
                f"{self.name}: sqrt_s = {self.sqrt_s} GeV is below the t t~ threshold "
                f"2 MT = {2 * mt} GeV; choose a larger sqrt_s"
            )
        gg = GGToTTbar(sqrt_s=self.sqrt_s, param_card=param_card, device=self.device)
        qq = UUbarToTTbar(sqrt_s=self.sqrt_s, param_card=param_card, device=self.device)
        channels = [PartonChannel(GLUON, GLUON, gg, False, self.final)]
        quarks = self._quarks()
        channels += quark_antiquark_channels(quarks, dict.fromkeys(quarks, qq), self.final)
        self.channels_ = channels
        self.final_masses = (gg.params.MT, gg.params.MT)

    def _default_scale(self) -> float:
        return self.final_masses[0]
