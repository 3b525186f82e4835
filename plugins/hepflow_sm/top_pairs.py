"""g g -> t t~ at tree level: the s-channel gluon and the t- and u-channel top diagrams.

Built from HELAS wave functions as MadGraph's ``matrix.f`` does, with its two colour-ordered
amplitudes JAMP1 (colour T^a1 T^a2, t next to gluon 1) and JAMP2 (T^a2 T^a1), its colour
matrix [[16, -2], [-2, 16]] / 3 and IDEN = 4 x 64 = 256. Feynman rules with
D = d - i g_s T^a A^a: quark-gluon vertex i g_s gamma^mu T^a, triple-gluon vertex g_s f^abc
times the Lorentz structure of ``helas.vvv_current``, f^{a1 a2 c} T^c = -i [T^a1, T^a2].
Like MadGraph's standalone output, the t-channel top propagators carry the width WT.
"""

from __future__ import annotations

import torch

from hepflow.physics import helas

from ._two_to_two import TwoToTwoProcess

__all__ = ["GGToTTbar"]


class GGToTTbar(TwoToTwoProcess):
    """g g -> t t~ at fixed partonic sqrt_s (MadGraph: g g > t t~), undecayed massive tops.

    No ``reference``: with MadGraph's top width in the t-channel propagators the closed form
    (exact for WT = 0) is off by up to a few 1e-5.
    """

    name = "gg_tt"
    process = "g g > t t~"
    pdg = (21, 21, 6, -6)

    def _setup(self) -> None:
        self.colour_matrix = [[16 / 3, -2 / 3], [-2 / 3, 16 / 3]]
        self.iden = 256
        # JAMP1: colour flows g1 -> t, g1 anticolour = g2 colour, g2 anticolour -> t~
        self.colour_flows = [
            [(501, 502), (502, 503), (501, 0), (0, 503)],
            [(502, 503), (501, 502), (501, 0), (0, 503)],
        ]

    def _jamps(self, p: torch.Tensor, hel: tuple[int, ...], cache: dict) -> list[torch.Tensor]:
        gs, mt, wt = self.params.gs, self.params.MT, self.params.WT
        g = 1j * gs  # UFO sm GC_11

        def get(key, make):
            if key not in cache:
                cache[key] = make()
            return cache[key]

        e1 = get(("g1", hel[0]), lambda: helas.vxxxxx(p[:, 0], 0.0, hel[0], -1))
        e2 = get(("g2", hel[1]), lambda: helas.vxxxxx(p[:, 1], 0.0, hel[1], -1))
        u3 = get(("t", hel[2]), lambda: helas.oxxxxx(p[:, 2], mt, hel[2], 1))
        v4 = get(("tbar", hel[3]), lambda: helas.ixxxxx(p[:, 3], mt, hel[3], -1))
        gluon = get(("s", hel[0], hel[1]), lambda: helas.vvv_current(e1, e2, gs))
        v4e2 = get(("v4e2", hel[3], hel[1]), lambda: helas.fvi_current(v4, e2, g, g, mt, wt))
        v4e1 = get(("v4e1", hel[3], hel[0]), lambda: helas.fvi_current(v4, e1, g, g, mt, wt))
        a_s = helas.ffv_amplitude(v4, u3, gluon, g, g)
        a_t = helas.ffv_amplitude(v4e2, u3, e1, g, g)  # gluon 1 next to the top
        a_u = helas.ffv_amplitude(v4e1, u3, e2, g, g)  # gluon 2 next to the top
        return [a_t - 1j * a_s, a_u + 1j * a_s]
