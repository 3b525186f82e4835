"""One quark line, one gluon and a lepton pair joined by a photon or Z: e+ e- -> u u~ g,
u u~ -> e+ e- g and u g -> e+ e- u, at tree level, checked point by point against MadGraph.

Four diagrams each: the photon or Z (fixed width, unitary gauge) on the lepton line, the gluon
on either side of the vector on the quark line, built from HELAS wave functions as MadGraph's
``matrix.f`` does. One colour structure T^a_ij: colour matrix [[4]] = Tr(T^a T^a), IDEN = 4 x
initial colours. Phase space, channels, cuts and events: ``_two_to_three``.

e+ e- -> q q~ g: every map draws the pair (y_qg, y_q~g) (y_ij = m_ij^2 / s) with density
1 / (y_qg y_q~g) on exactly the region the cut ycut leaves (``LogDalitzTriangle``), which
takes out the soft and collinear poles. What is left is a sum of a quark term and an antiquark
term (|M|^2 keeps the Born's helicity structure; tests/physics/test_three_body.py), and the
two channels split along it: ``quark`` has the weight of the quark term, draws y_q~g first (so
the quark's energy fraction x_q = 1 - y_q~g is one coordinate) and orients the event by the
quark, so its integrand is a product of a function of x_q and one of the quark's polar angle;
``antiquark`` likewise. The default single mapping ``q`` (y_qg first, the event oriented by
the quark) and ``qbar`` (y_q~g first: the map of channel ``quark``) are kept by name.
``dalitz`` (both invariants as 1 / y over [ycut, 1 - 2 ycut], the corner beyond the cut
wasted) is kept for cross-checks: VEGAS's rel. std per point on it is 2.8x that on ``q``.
The qq~ -> l l g and qg -> l l q channels are (photon, Z) x (quark propagators): m_ll^2 drawn
as 1 / s (photon) or as a Breit-Wigner (Z); the gluon direction flat (s-channel quark) or along
a t-channel quark propagator t = (p_a - p_j)^2 drawn as 1 / (-t + ptj^2).
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch

from hepflow.physics import helas
from hepflow.physics.dalitz_triangle import LogDalitzTriangle
from hepflow.physics.phase_space import (
    breit_wigner,
    massless_propagator,
    massless_three_body,
    sequential_three_body,
    two_body,
    two_body_t_channel,
)
from hepflow.physics.vectors import dot, mass2

from ._two_to_three import Mapping, TwoToThreeProcess

__all__ = ["EEToUUbarG", "QuarkGluonVectorProcess", "UGToEEU", "UUbarToEEG"]


class QuarkGluonVectorProcess(TwoToThreeProcess):
    """The shared amplitude: lepton line -> photon/Z current -> quark line with a gluon."""

    colour_matrix = ((4.0,),)

    def _setup(self) -> None:
        quark = next(abs(k) for k in self.pdg if 1 <= abs(k) <= 6)
        lepton = next(abs(k) for k in self.pdg if abs(k) in (11, 13, 15))
        p = self.params
        a_l, a_q = p.photon_coupling(lepton), p.photon_coupling(quark)
        self._bosons = [
            ((a_l, a_l), (a_q, a_q), 0.0, 0.0),
            (p.z_couplings(lepton), p.z_couplings(quark), p.MZ, p.WZ),
        ]
        self._gq = 1j * p.gs  # UFO sm GC_11, the colour matrix T^a apart
        self._gluon = self.pdg.index(21)
        fermions = [i for i in range(5) if i != self._gluon]
        quarks = [i for i in fermions if 1 <= abs(self.pdg[i]) <= 6]
        leptons = [i for i in fermions if i not in quarks]
        self._quark_lines = self._pair(*quarks)
        self._lepton_lines = self._pair(*leptons)

    def _pair(self, a: int, b: int) -> tuple[int, int]:
        """(flowing-in line, flowing-out line): ixxxxx for incoming fermions and outgoing
        antifermions, oxxxxx for the others."""
        return (a, b) if (self.pdg[a] > 0) == (a < 2) else (b, a)

    def _wave(self, p: torch.Tensor, i: int, hel: int, cache: dict) -> torch.Tensor:
        key = ("w", i, hel)
        if key not in cache:
            pdg = self.pdg[i]
            if pdg == 21:
                cache[key] = helas.vxxxxx(p[:, i], 0.0, hel, -1 if i < 2 else 1)
            else:
                routine = helas.ixxxxx if (pdg > 0) == (i < 2) else helas.oxxxxx
                cache[key] = routine(p[:, i], 0.0, hel, 1 if pdg > 0 else -1)
        return cache[key]

    def _jamps(self, p: torch.Tensor, hel: tuple[int, ...], cache: dict) -> list[torch.Tensor]:
        (li, lo), (qi, qo), g = self._lepton_lines, self._quark_lines, self._gluon
        key_l = ("J", hel[li], hel[lo])
        if key_l not in cache:
            fi, fo = self._wave(p, li, hel[li], cache), self._wave(p, lo, hel[lo], cache)
            cache[key_l] = [helas.ffv_current(fi, fo, *c, m, w) for c, _, m, w in self._bosons]
        fi, fo = self._wave(p, qi, hel[qi], cache), self._wave(p, qo, hel[qo], cache)
        eps = self._wave(p, g, hel[g], cache)
        gq = self._gq
        key_i, key_o = ("fvi", hel[qi], hel[g]), ("fvo", hel[qo], hel[g])
        if key_i not in cache:
            cache[key_i] = helas.fvi_current(fi, eps, gq, gq, 0.0, 0.0)
        if key_o not in cache:
            cache[key_o] = helas.fvo_current(fo, eps, gq, gq, 0.0, 0.0)
        amp = 0
        for current, (_, cq, _, _) in zip(cache[key_l], self._bosons, strict=True):
            amp = amp + helas.ffv_amplitude(cache[key_i], fo, current, *cq)
            amp = amp + helas.ffv_amplitude(fi, cache[key_o], current, *cq)
        return [amp]


class EEToUUbarG(QuarkGluonVectorProcess):
    """e+ e- -> u u~ g through photon and Z at fixed sqrt_s (MadGraph: e+ e- > u u~ g), with
    the e+e- jet cut ``ycut`` (every parton pair has m_ij^2 >= ycut s; default 0.01)."""

    name = "ee_uuxg"
    process = "e+ e- > u u~ g"
    pdg = (-11, 11, 2, -2, 21)
    iden = 4
    colour_flows = (((0, 0), (0, 0), (501, 0), (0, 502), (502, 501)),)
    default_cuts: ClassVar[dict[str, float]] = {"ycut": 0.01}
    required_cuts = ("ycut",)
    channel_names = ("quark", "antiquark")
    default_mapping = "q"

    def _setup(self) -> None:
        super()._setup()

        # the Born's helicity weights at this s: lepton and quark helicities opposite (LR + RL)
        # weigh (e-.q)^2 and (e+.q~)^2, equal (LL + RR) weigh (e+.q)^2 and (e-.q~)^2
        (ll, lr), (rl, rr) = self.params.neutral_current_amplitudes(
            self.pdg[1], self.pdg[2], self.s
        )
        self._opposite = abs(lr) ** 2 + abs(rl) ** 2
        self._equal = abs(ll) ** 2 + abs(rr) ** 2

    def _mappings(self) -> dict[str, Mapping]:
        y_min = self.cuts.values["ycut"]
        y_max = 1 - 2 * y_min
        if y_max <= y_min:
            raise ValueError(f"{self.name}: ycut = {y_min} leaves no phase space; use ycut < 1/3")

        def build(y_qbar_g, y_q_g, jac, angles, by_antiquark=False):
            if by_antiquark:  # the antiquark along the drawn polar angle: swap the roles
                out, w = massless_three_body(1 - y_q_g, 1 - y_qbar_g, angles, self.sqrt_s)
                return out[:, [1, 0, 2]], w * jac
            out, w = massless_three_body(1 - y_qbar_g, 1 - y_q_g, angles, self.sqrt_s)
            return out, w * jac

        def dalitz(x: torch.Tensor):
            y1, j1 = massless_propagator(x[:, 0], y_min, y_max)
            y2, j2 = massless_propagator(x[:, 1], y_min, y_max)
            return build(y1, y2, j1 * j2 * (y1 + y2 <= 1 - y_min), x[:, 2:])

        triangle = LogDalitzTriangle(y_min)

        def triangle_map(y_q_g_first: bool, by_antiquark: bool = False) -> Mapping:
            def mapping(x: torch.Tensor):
                # density 1 / (y y_other) on exactly the cut triangle, y drawn first
                y, other, jac = triangle(x[:, 0], x[:, 1])
                pair = (other, y) if y_q_g_first else (y, other)
                return build(*pair, jac, x[:, 2:], by_antiquark)

            return mapping

        x_q_first = triangle_map(False)  # x_q = 1 - y_q~g drawn first, oriented by the quark
        return {
            "dalitz": dalitz,
            "q": triangle_map(True),
            "qbar": x_q_first,
            "quark": x_q_first,
            "antiquark": triangle_map(True, by_antiquark=True),
        }

    def _propagators(self, p: torch.Tensor) -> torch.Tensor:
        """Not propagators: the quark and the antiquark term of |M|^2 (y_qg y_q~g |M|^2 is
        their sum up to a constant), so each channel carries the term its map flattens."""
        positron, electron, quark, antiquark = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
        quark_term = self._opposite * dot(electron, quark) ** 2
        quark_term = quark_term + self._equal * dot(positron, quark) ** 2
        antiquark_term = self._opposite * dot(positron, antiquark) ** 2
        antiquark_term = antiquark_term + self._equal * dot(electron, antiquark) ** 2
        return torch.stack([quark_term, antiquark_term], dim=-1)


class EEToDDbarG(EEToUUbarG):
    """e+ e- -> d d~ g: the same amplitudes with the down-type couplings (any of d, s and,
    massless, b); checked against e+ e- -> u u~ g and the Born ratio."""

    name = "ee_ddxg"
    process = "e+ e- > d d~ g"
    pdg = (-11, 11, 1, -1, 21)


class _HadronicDrellYanJet(QuarkGluonVectorProcess):
    """Mappings for a lepton pair plus one parton: m_ll^2 by the photon or Z propagator, the
    parton by a flat angle or a t-channel map against a beam. Cuts ``ptj`` (the gluon or
    quark) and ``mmll`` keep the cross section finite; defaults ptj = 20, mmll = 10 GeV."""

    default_cuts: ClassVar[dict[str, float]] = {"ptj": 20.0, "mmll": 10.0}
    required_cuts = ("ptj", "mmll")
    default_mapping = "z_s"
    #: angle map name -> index of the beam the t-channel propagator joins to the parton
    angle_maps: ClassVar[dict[str, int]] = {}

    def _mappings(self) -> dict[str, Mapping]:
        p = self.params
        s_min = self.cuts.values["mmll"] ** 2
        mmllmax = self.cuts.values["mmllmax"]
        s_max = self.s if mmllmax < 0 else min(self.s, mmllmax**2)
        if s_min >= s_max:
            raise ValueError(
                f"{self.name}: mmll = {self.cuts.values['mmll']} GeV leaves no phase space at "
                f"sqrt_s = {self.sqrt_s} GeV; lower mmll"
            )
        t0 = self.cuts.values["ptj"] ** 2
        s_maps = {
            "a": lambda u: massless_propagator(u, s_min, s_max),
            "z": lambda u: breit_wigner(u, p.MZ, p.WZ, s_min, s_max),
        }

        def make(s_map, beam: int | None) -> Mapping:
            def mapping(x: torch.Tensor):
                s_ll, jac = s_map(x[:, 0])
                beams = self.beams(x.shape[0], x.device)
                total = beams.sum(1)
                if beam is None:
                    out, w = sequential_three_body(x[:, 1:], total, s_ll)
                    return out[:, [1, 2, 0]], w * jac
                m_ll = torch.sqrt(s_ll)
                jet, pair, w1 = two_body_t_channel(x[:, 1:3], total, beams[:, beam], 0.0, m_ll, t0)
                l1, l2, w2 = two_body(x[:, 3:], pair)
                return torch.stack([l1, l2, jet], dim=1), w1 * w2 * jac / (2 * math.pi)

            return mapping

        return {
            f"{v}_{a}": make(s_maps[v], beam)
            for v in ("a", "z")
            for a, beam in {"s": None, **self.angle_maps}.items()
        }

    def _propagators(self, p: torch.Tensor) -> torch.Tensor:
        par = self.params
        s_ll = mass2(p[:, 2] + p[:, 3])
        vector = {"a": s_ll**-2, "z": 1 / ((s_ll - par.MZ**2) ** 2 + (par.MZ * par.WZ) ** 2)}
        quark = {"s": torch.full_like(s_ll, self.s**-2)}
        for name, beam in self.angle_maps.items():
            quark[name] = mass2(p[:, beam] - p[:, 4]) ** -2
        cols = [vector[c.split("_")[0]] * quark[c.split("_")[1]] for c in self.channel_names]
        return torch.stack(cols, dim=-1)


class UUbarToEEG(_HadronicDrellYanJet):
    """u u~ -> e+ e- g through photon and Z at fixed partonic sqrt_s (MadGraph: u u~ > e+ e-
    g). Channels: (photon, Z) x (gluon along the u, along the u~)."""

    name = "uux_eeg"
    process = "u u~ > e+ e- g"
    pdg = (2, -2, -11, 11, 21)
    iden = 36
    colour_flows = (((501, 0), (0, 502), (0, 0), (0, 0), (501, 502)),)
    angle_maps: ClassVar[dict[str, int]] = {"t1": 0, "t2": 1}
    channel_names = ("a_t1", "a_t2", "z_t1", "z_t2")


class UGToEEU(_HadronicDrellYanJet):
    """u g -> e+ e- u through photon and Z at fixed partonic sqrt_s (MadGraph: u g > e+ e- u).
    Channels: (photon, Z) x (s-channel quark, t-channel quark between the gluon and the u)."""

    name = "ug_eeu"
    process = "u g > e+ e- u"
    pdg = (2, 21, -11, 11, 2)
    iden = 96
    colour_flows = (((501, 0), (502, 501), (0, 0), (0, 0), (502, 0)),)
    angle_maps: ClassVar[dict[str, int]] = {"t": 1}
    channel_names = ("a_s", "a_t", "z_s", "z_t")
