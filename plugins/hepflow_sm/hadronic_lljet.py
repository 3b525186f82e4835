"""p p -> e+ e- j (Drell-Yan plus one jet, photon and Z) at tree level: the partonic 2 -> 3
processes of ``three_body`` folded with PDFs (MadGraph: p p > e+ e- j).

Partonic channels, for every light flavour q of the proton and both beam orientations:
q q~ -> e+ e- g, q g -> e+ e- q and q~ g -> e+ e- q~. The |M|^2 are the MadGraph-checked HELAS
classes ``UUbarToEEG`` and ``UGToEEU`` and subclasses of them with other ``pdg`` (the shared
amplitude takes its quark couplings and fermion-line directions from ``pdg``): d-type quarks
(d, s and a massless b) and the incoming-antiquark q~ g channels. Charm uses the u classes, s
and b the d classes: the sm model has no neutral-current flavour mixing and these quarks are
massless, as in MadGraph's default proton.

Unit cube (7 dimensions): x0 -> s_hat (flat in log s above the threshold the cuts leave,
(sqrt(mmll^2 + ptj^2) + ptj)^2), x1 -> the rapidity y of the partonic system (as in
``hadronic``), x2..x6 -> the partonic phase space in the partonic rest frame by the same maps
as the 2 -> 3 classes (m_ll^2 by the photon ``a`` or Z ``z`` propagator; the jet flat ``s`` or
along a t-channel propagator against beam 1 ``t1`` or beam 2 ``t2``), then boosted by y. The
default map ``mixed`` draws m_ll^2 from the photon and Z maps and the jet from the two t-channel
maps, half of the points each, weighted by the mixed density (exact for any split), so plain
VEGAS sees every peak. ``channels`` are the six named maps with MadGraph's single-diagram
weights alpha_c = |P_c|^2 / sum_k |P_k|^2 (the same for every parton channel).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch

from hepflow.channels import Channel
from hepflow.physics.phase_space import sequential_three_body, two_body, two_body_t_channel
from hepflow.physics.units import GEV2_TO_PB
from hepflow.physics.vectors import mass2

from .hadronic import (
    GLUON,
    HadronicOptionError,
    HadronicProcess,
    PartonChannel,
    _number,
    z_or_photon_s_map,
)
from .three_body import UGToEEU, UUbarToEEG

__all__ = [
    "MAPPINGS",
    "DDbarToEEG",
    "DGToEED",
    "DxGToEEDx",
    "PPToLLJ",
    "UxGToEEUx",
]

UP_TYPE = (2, 4)
FINAL = (-11, 11)
#: the named partonic maps, in channel order: (m_ll^2 map, jet map)
MAPPINGS = ("a_s", "a_t1", "a_t2", "z_s", "z_t1", "z_t2")


class DDbarToEEG(UUbarToEEG):
    """d d~ -> e+ e- g (MadGraph: d d~ > e+ e- g): the amplitude of ``UUbarToEEG`` with the
    d-quark photon and Z couplings."""

    name = "ddx_eeg"
    process = "d d~ > e+ e- g"
    pdg = (1, -1, -11, 11, 21)


class DGToEED(UGToEEU):
    """d g -> e+ e- d (MadGraph: d g > e+ e- d)."""

    name = "dg_eed"
    process = "d g > e+ e- d"
    pdg = (1, 21, -11, 11, 1)


class UxGToEEUx(UGToEEU):
    """u~ g -> e+ e- u~ (MadGraph: u~ g > e+ e- u~): the antiquark line runs the other way
    (``_pair``); colour and anticolour swapped."""

    name = "uxg_eeux"
    process = "u~ g > e+ e- u~"
    pdg = (-2, 21, -11, 11, -2)
    colour_flows = (((0, 501), (501, 502), (0, 0), (0, 0), (0, 502)),)


class DxGToEEDx(UxGToEEUx):
    """d~ g -> e+ e- d~ (MadGraph: d~ g > e+ e- d~)."""

    name = "dxg_eedx"
    process = "d~ g > e+ e- d~"
    pdg = (-1, 21, -11, 11, -1)


def _boost_z(p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Boost p (n, k, 4) along z by rapidity y (n,)."""
    ch, sh = torch.cosh(y)[:, None], torch.sinh(y)[:, None]
    e, pz = p[..., 0], p[..., 3]
    return torch.stack([e * ch + pz * sh, p[..., 1], p[..., 2], pz * ch + e * sh], dim=-1)


class PPToLLJ(HadronicProcess):
    """p p -> e+ e- j through photon and Z, all partonic channels (MadGraph: p p > e+ e- j).

    Options beyond the base's (cuts by MadGraph run_card name, merged with ``cuts``):
    ``ptj`` (GeV, > 0: the soft and collinear poles need it), ``etaj`` (-1: none), ``drjl``,
    ``mmll`` (GeV, > 0: the photon pole needs it) and ``mmllmax`` (-1: none); defaults
    20, 5, 0.4 (MadGraph's run_card) and mmll = 50 (as ``pp_ll``'s mll_min; MadGraph's card
    has 0). ``mapping``: the map of ``integrand(x)`` without channels (default "mixed").
    The scale defaults to fixed at MZ, as ``pp_ll``; alpha_s (one power) from the PDF set.
    """

    name = "pp_llj"
    process = "p p > e+ e- j"
    alpha_s_power = 1
    dim = 7
    default_mapping: ClassVar[str] = "mixed"

    def __init__(
        self,
        *,
        ptj: float = 20.0,
        etaj: float = 5.0,
        drjl: float = 0.4,
        mmll: float = 50.0,
        mmllmax: float = -1.0,
        mapping: str = "mixed",
        cuts: dict[str, float] | None = None,
        **options: Any,
    ) -> None:
        self.ptj = _number("ptj", ptj)
        self.mmll = _number("mmll", mmll)
        self.mmllmax = None if mmllmax == -1 else _number("mmllmax", mmllmax)
        if self.mmllmax is not None and self.mmllmax <= self.mmll:
            raise HadronicOptionError(
                f"mmllmax = {mmllmax!r} must be above mmll = {mmll!r} GeV (or -1 for none)"
            )
        if mapping not in (*MAPPINGS, "mixed"):
            raise HadronicOptionError(
                f"mapping = {mapping!r} is not known; use 'mixed' or one of {', '.join(MAPPINGS)}"
            )
        self.mapping = mapping
        for key in ("ptj", "mmll", "mmllmax"):
            if cuts and key in cuts:
                raise HadronicOptionError(
                    f"give {key} as its own option, not inside cuts (the phase-space map uses it)"
                )
        merged = {"ptj": self.ptj, "etaj": etaj, "drjl": drjl, "mmll": self.mmll}
        if self.mmllmax is not None:
            merged["mmllmax"] = self.mmllmax
        super().__init__(cuts={**merged, **(cuts or {})}, **options)
        self.channels = [Channel(name, 1.0) for name in MAPPINGS]

    # -- set-up ----------------------------------------------------------------------------
    def _setup(self, param_card: str | None) -> None:
        threshold = math.sqrt(self.mmll**2 + self.ptj**2) + self.ptj
        if threshold >= self.sqrt_s:
            raise HadronicOptionError(
                f"{self.name}: ptj = {self.ptj} and mmll = {self.mmll} GeV need sqrt_s above "
                f"{threshold:.6g} GeV, got {self.sqrt_s}; lower the cuts or raise sqrt_s"
            )
        opts = {"sqrt_s": self.sqrt_s, "ptj": self.ptj, "mmll": self.mmll}
        opts.update(param_card=param_card, device=self.device)
        up = (UUbarToEEG(**opts), UGToEEU(**opts), UxGToEEUx(**opts))
        down = (DDbarToEEG(**opts), DGToEED(**opts), DxGToEEDx(**opts))
        g = GLUON
        channels: list[PartonChannel] = []
        for q in self._quarks():
            qqbar, qg, qbarg = up if q in UP_TYPE else down
            for swap in (False, True):
                a, b = (q, -q) if not swap else (-q, q)
                channels.append(PartonChannel(a, b, qqbar, swap, (*FINAL, g)))
            for f, proc in ((q, qg), (-q, qbarg)):
                channels.append(PartonChannel(f, g, proc, False, (*FINAL, f)))
                channels.append(PartonChannel(g, f, proc, True, (*FINAL, f)))
        self.channels_ = channels
        self.final_masses = (0.0, 0.0, 0.0)
        self.mz, self.wz = up[0].params.MZ, up[0].params.WZ

    def _default_scale(self) -> float:
        return self.mz

    def _s_window(self) -> tuple[float, float]:
        threshold = math.sqrt(self.mmll**2 + self.ptj**2) + self.ptj
        return (threshold**2, self.sqrt_s**2)

    # -- the m_ll^2 maps (per-event upper end s_hat) ---------------------------------------
    def _s_ll_max(self, shat: torch.Tensor) -> torch.Tensor:
        return shat if self.mmllmax is None else torch.clamp(shat, max=self.mmllmax**2)

    def _s_map(self, u: torch.Tensor, s_max: torch.Tensor, by_z: bool | torch.Tensor):
        by_z = torch.as_tensor(by_z, device=u.device).expand(u.shape)
        return z_or_photon_s_map(u, by_z, self.mmll**2, s_max, self.mz, self.wz)

    def _photon_map(self, u: torch.Tensor, s_max: torch.Tensor):
        """Flat in log s (``massless_propagator`` with s0 = 0) up to a per-event s_max."""
        s, _, g_a = self._s_map(u, s_max, False)
        return s, 1 / g_a

    def _z_map(self, u: torch.Tensor, s_max: torch.Tensor):
        """``breit_wigner`` up to a per-event s_max."""
        s, g_z, _ = self._s_map(u, s_max, True)
        return s, 1 / g_z

    def _mixed_s_map(self, u: torch.Tensor, s_max: torch.Tensor):
        """Half of the points by the Z map, half by the photon map; ds/du = 1 / mixed density."""
        z = u < 0.5
        s, g_z, g_a = self._s_map(torch.where(z, 2 * u, 2 * u - 1), s_max, z)
        return s, 1 / (0.5 * g_z + 0.5 * g_a)

    # -- partonic phase space --------------------------------------------------------------
    def partonic_momenta(
        self, x: torch.Tensor, shat: torch.Tensor, mapping: str
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(n, 5, 4) momenta in the partonic rest frame (beams along +-z) and dPhi_3/dx from
        x (n, 5), by a named map (as the 2 -> 3 classes map at sqrt_s = sqrt(shat)) or
        "mixed"."""
        n, dev = x.shape[0], x.device
        root = torch.sqrt(shat)
        zeros = torch.zeros_like(root)
        half = root / 2
        pa = torch.stack([half, zeros, zeros, half], dim=-1)
        pb = torch.stack([half, zeros, zeros, -half], dim=-1)
        total = torch.stack([root, zeros, zeros, zeros], dim=-1)
        s_max = self._s_ll_max(shat)
        s_part, angle = mapping.split("_") if mapping != "mixed" else ("m", "m")
        s_map = {"a": self._photon_map, "z": self._z_map, "m": self._mixed_s_map}[s_part]
        s_ll, jac = s_map(x[:, 0], s_max)
        if angle == "s":
            out, w = sequential_three_body(x[:, 1:], total, s_ll)
            out, w = out[:, [1, 2, 0]], w * jac
        else:
            t0 = self.ptj**2
            m_ll = torch.sqrt(s_ll)
            if angle == "m":
                first = x[:, 1] < 0.5
                v = torch.where(first, 2 * x[:, 1], 2 * x[:, 1] - 1)
                beam = torch.where(first[:, None], pa, pb)
                xa = torch.stack([v, x[:, 2]], dim=-1)
            else:
                beam = pa if angle == "t1" else pb
                xa = x[:, 1:3]
            jet, pair, w1 = two_body_t_channel(xa, total, beam, 0.0, m_ll, t0)
            if (
                angle == "m"
            ):  # weight 1 / (mixed density): w_other = w_own (tau_o + t0) / (tau + t0)
                tau_a, tau_b = -mass2(pa - jet), -mass2(pb - jet)
                own = torch.where(first, tau_a, tau_b) + t0
                other = torch.where(first, tau_b, tau_a) + t0
                w1 = 1 / (0.5 / w1 + 0.5 * own / (w1 * other))
            l1, l2, w2 = two_body(x[:, 3:5], pair)
            out, w = torch.stack([l1, l2, jet], dim=1), w1 * w2 * jac / (2 * math.pi)
        beams = torch.stack([pa, pb], dim=1).expand(n, 2, 4).to(dev)
        return torch.cat([beams, out], dim=1), w

    def _propagators(self, p: torch.Tensor) -> torch.Tensor:
        """(n, 6) |P_c|^2 of the named maps (``MAPPINGS`` order), as the 2 -> 3 classes."""
        s_ll = mass2(p[:, 2] + p[:, 3])
        shat = mass2(p[:, 0] + p[:, 1])
        m2, mg = self.mz**2, self.mz * self.wz
        vector = {"a": s_ll**-2, "z": 1 / ((s_ll - m2) ** 2 + mg * mg)}
        quark = {
            "s": shat**-2,
            "t1": mass2(p[:, 0] - p[:, 4]) ** -2,
            "t2": mass2(p[:, 1] - p[:, 4]) ** -2,
        }
        cols = [vector[c.split("_")[0]] * quark[c.split("_")[1]] for c in MAPPINGS]
        return torch.stack(cols, dim=-1)

    # -- kinematics ------------------------------------------------------------------------
    def kinematics(
        self,
        x: torch.Tensor,
        channel: torch.Tensor | None = None,
        mapping: str | None = None,
    ) -> dict[str, torch.Tensor]:
        """Lab-frame momenta (n, 5, 4) (partons a, b, e+, e-, jet), x1, x2, s_hat, y, the
        Jacobian of the whole map (dtau dy dPhi_3 per unit x) and, with ``channel``, the
        single-diagram weight ``alpha``."""
        u = x.to(torch.float64)
        shat, y, x1, x2, jac_xy = self._partons(u)
        n = u.shape[0]
        alpha = None
        if channel is None:
            name = mapping or self.mapping
            if name not in (*MAPPINGS, "mixed"):
                raise HadronicOptionError(
                    f"{self.name}: unknown mapping {name!r}; use 'mixed' or one of {MAPPINGS}"
                )
            p, w3 = self.partonic_momenta(u[:, 2:], shat, name)
        else:
            if mapping is not None:
                raise HadronicOptionError(f"{self.name}: give a channel or a mapping, not both")
            channel = self._check_channel(channel, n)
            p = torch.zeros(n, 5, 4, dtype=torch.float64, device=u.device)
            w3 = torch.zeros(n, dtype=torch.float64, device=u.device)
            for c, name in enumerate(MAPPINGS):
                sel = channel == c
                if bool(sel.any()):
                    p[sel], w3[sel] = self.partonic_momenta(u[sel, 2:], shat[sel], name)
            props = self._propagators(p)
            alpha = props.gather(1, channel[:, None])[:, 0] / props.sum(1)
            alpha = torch.nan_to_num(alpha, nan=0.0)
        momenta = _boost_z(p, y)
        jac = jac_xy * w3
        kin = {"momenta": momenta, "x1": x1, "x2": x2, "s": shat, "y": y, "jacobian": jac}
        if alpha is not None:
            kin["alpha"] = alpha
        return kin

    # -- the weight ------------------------------------------------------------------------
    def _matrix_elements(
        self, momenta: torch.Tensor, live: torch.Tensor | None = None
    ) -> torch.Tensor:
        """(n, C) |M|^2 of every channel at the ``live`` points (0 elsewhere)."""
        cache: dict[tuple[int, bool], torch.Tensor] = {}
        p = momenta if live is None else momenta[live]
        swapped = p[:, [1, 0, 2, 3, 4]]
        cols = []
        for ch in self.channels_:
            key = (id(ch.process), ch.swap)
            if key not in cache:
                if p.shape[0] == 0:
                    cache[key] = p.new_zeros(0)
                else:
                    cache[key] = ch.process.matrix_element(swapped if ch.swap else p)
            cols.append(cache[key])
        me = torch.stack(cols, dim=-1)
        if live is None:
            return me
        out = torch.zeros(momenta.shape[0], me.shape[1], dtype=me.dtype, device=me.device)
        out[live] = me
        return out

    def _channel_weights(
        self,
        x: torch.Tensor,
        channel: torch.Tensor | None = None,
        mapping: str | None = None,
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
        """(kinematics, partonic (n, C) = |M|^2 x flux x Jacobian x alpha x cuts in pb, and
        the nominal (n, C) with PDFs and alpha_s). |M|^2 only where the cuts pass."""
        kin = self.kinematics(x, channel, mapping)
        p = kin["momenta"]
        live = kin["jacobian"] > 0
        live[live.clone()] = self.cuts.mask(p[live][:, 2:], [*FINAL, GLUON])
        flux = kin["jacobian"] / (2 * kin["s"]) * GEV2_TO_PB
        if "alpha" in kin:
            flux = flux * kin["alpha"]
        partonic = self._matrix_elements(p, live) * torch.where(live, flux, 0.0)[:, None]
        mur, muf = self.scales(p)
        kin["mur"], kin["muf"] = mur, muf
        f1, f2 = self._parton_densities(kin["x1"], kin["x2"], muf)
        factor = self._alpha_s_factor(mur)
        factor = factor[:, None] if isinstance(factor, torch.Tensor) else factor
        nominal = partonic * self._luminosities(f1, f2) * factor
        return kin, partonic, torch.nan_to_num(nominal, nan=0.0)

    def __call__(
        self, x: torch.Tensor, channel: torch.Tensor | None = None, mapping: str | None = None
    ) -> torch.Tensor:
        """d(sigma) in pb at the points x (n, 7), summed over parton channels; with
        ``channel`` (n,) the multi-channel part of each point's map."""
        _, _, nominal = self._channel_weights(self._check_x(x), channel, mapping)
        return nominal.sum(-1)

    # -- event record ----------------------------------------------------------------------
    def _colours(self, ch: PartonChannel, p: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """(n, 5, 2) tags in the lab order: the process's single colour flow, beams swapped
        with the momenta when ``swap``."""
        tags = torch.tensor(ch.process.colour_flows[0], dtype=torch.int64, device=p.device)
        if ch.swap:
            tags = tags[[1, 0, 2, 3, 4]]
        return tags.expand(p.shape[0], 5, 2)

    def options(self) -> dict[str, Any]:
        opts = super().options()
        extra = {"ptj": self.ptj, "mmll": self.mmll, "mapping": self.mapping}
        extra["mmllmax"] = -1.0 if self.mmllmax is None else self.mmllmax
        cuts = {k: v for k, v in opts["cuts"].items() if k not in extra}
        return {**opts, "cuts": cuts, **extra}
