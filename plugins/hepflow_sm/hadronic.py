"""Hadron-collider cross sections: partonic 2 -> 2 processes folded with PDFs.

sigma = sum_ab int dx1 dx2 f_a(x1, muF) f_b(x2, muF) sigma_ab(x1 x2 S), with parton a from beam 1
(along +z) and b from beam 2. The unit cube maps as: x0 -> s_hat (a 1/s map over the allowed
window, or a subclass's), x1 -> the rapidity y of the partonic system, uniform in
[ln sqrt(tau), -ln sqrt(tau)] with tau = s_hat / S, so x1,2 = sqrt(tau) e^(+-y) and
dx1 dx2 = dtau dy; x2, x3 -> the angles of the first final particle in the partonic rest frame
(``two_body``). The partonic |M|^2 is the MadGraph-normalised ``matrix_element`` of the sm
2 -> 2 classes (or a closed form checked against them), evaluated in the lab frame (it is Lorentz invariant); a channel whose parton
order is the reverse of the class's gets its two incoming momenta swapped. QCD matrix elements
are computed with the param_card's aS and rescaled by (alpha_s(muR) / aS)^n with alpha_s from
the PDF set, as MadGraph does with a PDF.
"""

from __future__ import annotations

import math
import numbers
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from hepflow.errors import HepflowError
from hepflow.events import EventBatch
from hepflow.physics.phase_space import two_body
from hepflow.physics.units import GEV2_TO_PB

from ._two_to_two import TwoToTwoProcess
from .scales import SEVEN_POINT, ScaleChoice, variation_id

__all__ = [
    "HadronicOptionError",
    "HadronicProcess",
    "PartonChannel",
    "log_s_map",
    "z_or_photon_s_map",
]

BEAMS = {"pp": (2212, 2212), "ppbar": (2212, -2212)}
GLUON = 21


class HadronicOptionError(HepflowError, ValueError):
    """An option of a hadron-collider process that cannot be used (names the option and fix)."""


@dataclass(frozen=True)
class PartonChannel:
    """Parton ``a`` from beam 1 and ``b`` from beam 2 into ``final``, with the |M|^2 of
    ``process`` (its incoming order reversed when ``swap``). Colours: the process's flows
    (chosen by its colour-ordered amplitudes), or the fixed ``flows``; ``conjugate`` swaps
    colour and anticolour (the C-conjugate channel, e.g. q~ g -> q~ g from q g -> q g)."""

    a: int
    b: int
    process: Any
    swap: bool
    final: tuple[int, int]
    conjugate: bool = False
    flows: tuple[tuple[int, int], ...] | None = None


def log_s_map(u: torch.Tensor, s_min: float, s_max: float) -> tuple[torch.Tensor, torch.Tensor]:
    """s = s_min (s_max / s_min)^u: flat in log s, for cross sections falling like 1/s.
    Returns (s, ds/du)."""
    log_ratio = math.log(s_max / s_min)
    s = s_min * torch.exp(u * log_ratio)
    return s, s * log_ratio


def z_or_photon_s_map(
    u: torch.Tensor,
    by_z: torch.Tensor,
    s_min: float,
    s_max: float | torch.Tensor,
    mz: float,
    wz: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The two m_ll^2 maps of Drell-Yan: where ``by_z``, a Breit-Wigner around the Z, else flat
    in log s (the photon pole), each over [s_min, s_max] (a float, or a tensor per event).
    Returns (s, g_z, g_a): s and BOTH maps' densities there, from which a caller builds its
    single-map, mixed or channel Jacobian."""
    s_max = torch.as_tensor(s_max, dtype=u.dtype, device=u.device)
    m2, mg = mz * mz, mz * wz
    a_min, a_max = math.atan((s_min - m2) / mg), torch.atan((s_max - m2) / mg)
    log_ratio = torch.log(s_max / s_min)
    s_bw = m2 + mg * torch.tan(a_min + u * (a_max - a_min))
    s_log = s_min * torch.exp(u * log_ratio)
    s = torch.minimum(torch.clamp(torch.where(by_z, s_bw, s_log), min=s_min), s_max)
    g_z = mg / ((a_max - a_min) * ((s - m2) ** 2 + mg * mg))
    g_a = 1 / (s * log_ratio)
    return s, g_z, g_a


def _pdf_index(pdg: int) -> int:
    """Column of ``PDF.xfxQ2_all`` (pid -6..6 at pid + 6, gluon at 6)."""
    return 6 if pdg == GLUON else pdg + 6


def _number(name: str, value: object, *, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise HadronicOptionError(f"{name} must be a number, got {value!r}")
    if positive and value <= 0:
        raise HadronicOptionError(f"{name} must be positive, got {value!r}")
    return float(value)


class HadronicProcess:
    """Base class: a subclass sets ``name``, ``process``, ``alpha_s_power`` (the power of
    alpha_s in |M|^2), and builds ``self.channels`` (PartonChannel list) and
    ``self.final_masses`` in ``_setup``; it may override ``_s_window`` and ``_map_s``.

    Options: ``sqrt_s`` (GeV, the hadronic energy), ``pdf`` (name for
    ``hepflow.physics.pdf.load_pdf``) and ``pdf_member``, ``beams`` ("pp" or "ppbar"),
    ``flavours`` (light quarks in the proton: 4 = d u s c as MadGraph's default proton,
    5 adds a massless b), ``scale`` (one of ``scales.SCALE_CHOICES``) with ``scale_value``
    for "fixed", ``mur_factor`` and ``muf_factor``, ``scale_variations`` (the 7-point weights
    in ``events``), ``cuts`` (MadGraph run_card cut names, ``hepflow.physics.cuts.Cuts``),
    ``param_card`` and ``device``.
    """

    name: ClassVar[str] = ""
    process: ClassVar[str] = ""
    alpha_s_power: ClassVar[int] = 0
    dim = 4
    unit = "pb"

    channels_: list[PartonChannel]
    final_masses: tuple[float, float]

    def __init__(
        self,
        *,
        sqrt_s: float = 13000.0,
        pdf: Any = "nn23lo1",
        pdf_member: int = 0,
        beams: str = "pp",
        flavours: int = 4,
        scale: str = "fixed",
        scale_value: float | None = None,
        mur_factor: float = 1.0,
        muf_factor: float = 1.0,
        scale_variations: bool = False,
        cuts: Mapping[str, float] | None = None,
        param_card: str | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        self.sqrt_s = _number("sqrt_s", sqrt_s)
        if beams not in BEAMS:
            raise HadronicOptionError(
                f"beams = {beams!r} is not known; use 'pp' (LHC) or 'ppbar' (Tevatron)"
            )
        self.beams = beams
        if isinstance(flavours, bool) or flavours not in (1, 2, 3, 4, 5):
            raise HadronicOptionError(
                f"flavours = {flavours!r}: give the number of light quark flavours in the "
                "proton, 4 (d u s c, MadGraph's default p) or 5 (adds a massless b)"
            )
        self.flavours = int(flavours)
        if not isinstance(scale_variations, bool):
            raise HadronicOptionError(
                f"scale_variations must be true or false, got {scale_variations!r}"
            )
        self.scale_variations = scale_variations
        self.mur_factor = _number("mur_factor", mur_factor)
        self.muf_factor = _number("muf_factor", muf_factor)
        self.device = torch.device(device)
        self.param_card = param_card
        self.pdf_name = pdf if isinstance(pdf, str) else getattr(pdf, "name", repr(pdf))
        self.pdf_member = pdf_member
        self._setup(param_card)
        if scale != "fixed" and scale_value is not None:
            raise HadronicOptionError(
                f"scale_value = {scale_value!r} is used only with scale = 'fixed', not with "
                f"scale = {scale!r}; drop scale_value or set scale = 'fixed'"
            )
        self.scale = ScaleChoice(
            scale, self._default_scale() if scale_value is None else scale_value
        )
        self.s_min, self.s_max = self._s_window()
        if not self.s_min < self.s_max:
            raise HadronicOptionError(
                f"{self.name}: sqrt_s = {self.sqrt_s} GeV leaves no phase space (the partonic "
                f"threshold is {math.sqrt(self.s_min):.6g} GeV); choose a larger sqrt_s"
            )
        self.cuts_options = dict(cuts or {})
        self.cuts = self._make_cuts(self.cuts_options)
        self.pdf = self._load_pdf(pdf, pdf_member)
        #: LHAPDF id of the set (LHE PDFSUP), None when the set has none
        self.pdf_lhapdf_id = None if self.pdf.lhapdf_id is None else int(self.pdf.lhapdf_id)
        self.beam_pdg = BEAMS[beams]
        self.beam_energy = (self.sqrt_s / 2, self.sqrt_s / 2)
        self.alpha_qed = self.channels_[0].process.params.aEW
        self._card_alpha_s = self.channels_[0].process.params.aS

    # -- what a subclass defines -----------------------------------------------------------
    def _setup(self, param_card: str | None) -> None:
        raise NotImplementedError

    def _default_scale(self) -> float | None:
        """The fixed scale used when ``scale_value`` is not given (None: required)."""
        return None

    def _s_window(self) -> tuple[float, float]:
        """(s_min, s_max) of the partonic s: from the threshold to S by default."""
        return (sum(self.final_masses) ** 2, self.sqrt_s**2)

    def _map_s(
        self, u: torch.Tensor, channel: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """u in [0, 1] -> (s_hat, ds/du); flat in log s by default. A subclass with several s
        maps declares them as ``channels`` and maps each point by its ``channel`` (n,)."""
        return log_s_map(u, max(self.s_min, 1e-300), self.s_max)

    def _partons(
        self, u: torch.Tensor, channel: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, ...]:
        """(u_s, u_y) (n, 2) -> s_hat, the rapidity y of the partonic system, x1, x2 and the
        Jacobian of (u_s, u_y) -> (tau, y), which the partonic phase space multiplies."""
        s, jac_s = self._map_s(u[:, 0], channel)
        tau = s / self.sqrt_s**2
        y_max = -0.5 * torch.log(tau)
        y = y_max * (2 * u[:, 1] - 1)
        root = torch.sqrt(tau)
        # x1, x2 <= 1 up to rounding; the PDFs refuse x > 1
        x1 = torch.clamp(root * torch.exp(y), max=1.0)
        x2 = torch.clamp(root * torch.exp(-y), max=1.0)
        return s, y, x1, x2, jac_s / self.sqrt_s**2 * 2 * y_max

    # -- set-up helpers --------------------------------------------------------------------
    def _quarks(self) -> list[int]:
        return list(range(1, self.flavours + 1))

    def _make_cuts(self, cuts: dict[str, float]):
        if not cuts:
            return None
        from hepflow.physics.cuts import Cuts

        try:
            return Cuts(**cuts)
        except (HepflowError, ValueError, TypeError) as exc:
            raise HadronicOptionError(f"{self.name}: cuts = {cuts!r}: {exc}") from None

    def _load_pdf(self, name: Any, member: int):
        if not isinstance(name, str):  # a PDF object (Python API): duck-typed
            missing = [a for a in ("xfxQ2_all", "alphas_Q2", "lhapdf_id") if not hasattr(name, a)]
            if missing:
                raise HadronicOptionError(
                    f"pdf = {name!r} is neither a PDF set name nor a PDF object (it lacks "
                    f"{', '.join(missing)}); give a name such as 'nn23lo1'"
                )
            return name
        from hepflow.physics.pdf import load_pdf

        try:
            return load_pdf(name, member, device=self.device)
        except (HepflowError, ValueError, KeyError, OSError) as exc:
            raise HadronicOptionError(
                f"{self.name}: pdf = {name!r}, pdf_member = {member!r} cannot be loaded: {exc}"
            ) from None

    # -- kinematics ------------------------------------------------------------------------
    def _check_channel(self, channel: object, n: int) -> torch.Tensor | None:
        """``channel`` as an (n,) tensor of indices into ``channels`` (None stays None)."""
        if channel is None:
            return None
        names = [c.name for c in getattr(self, "channels", None) or []]
        if not names:
            raise HadronicOptionError(
                f"{self.name} has a single phase-space map and no channels; call it without channel"
            )
        channel = torch.as_tensor(channel, device=self.device)
        if channel.shape != (n,) or bool(((channel < 0) | (channel >= len(names))).any()):
            raise HadronicOptionError(
                f"{self.name}: channel must be an ({n},) int64 tensor of indices in "
                f"[0, {len(names) - 1}] ({', '.join(names)})"
            )
        return channel.long()

    def kinematics(
        self, x: torch.Tensor, channel: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        """The lab-frame momenta (n, 4, 4) (partons a, b, then the final pair), x1, x2,
        s_hat, and the Jacobian of the whole map including the two-body phase space (with
        ``channel``, of that channel's map times its channel weight)."""
        u = x.to(torch.float64)
        s, _, x1, x2, jac_xy = self._partons(u, self._check_channel(channel, u.shape[0]))
        e = self.sqrt_s / 2
        zeros = torch.zeros_like(x1)
        p1 = torch.stack([x1 * e, zeros, zeros, x1 * e], dim=-1)
        p2 = torch.stack([x2 * e, zeros, zeros, -x2 * e], dim=-1)
        p3, p4, w2 = two_body(u[:, 2:4], p1 + p2, *self.final_masses)
        jac = jac_xy * w2
        momenta = torch.stack([p1, p2, p3, p4], dim=1)
        return {"momenta": momenta, "x1": x1, "x2": x2, "s": s, "jacobian": jac}

    def scales(self, momenta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(muR, muF) per event in GeV: the central choice times the factors. A dynamic
        scale is kept above the PDF set's lowest Q (points of pT ~ 0, which cuts remove
        anyway, would otherwise ask alpha_s below its Landau pole)."""
        mu0 = torch.clamp(self.scale(momenta[:, 2:]), min=float(getattr(self.pdf, "q_min", 1.0)))
        return mu0 * self.mur_factor, mu0 * self.muf_factor

    # -- the pieces of the weight ----------------------------------------------------------
    def _parton_densities(
        self, x1: torch.Tensor, x2: torch.Tensor, muf: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """f(x) (not x f) of beams 1 and 2, (n, 13) each, pids -6..6 at pid + 6."""
        q2 = muf * muf
        f1 = self.pdf.xfxQ2_all(x1, q2) / x1[:, None]
        f2 = self.pdf.xfxQ2_all(x2, q2) / x2[:, None]
        if self.beams == "ppbar":
            f2 = f2.flip(-1)  # f_{pbar, i} = f_{p, -i}
        return f1, f2

    def _alpha_s_factor(self, mur: torch.Tensor) -> torch.Tensor | float:
        if self.alpha_s_power == 0:
            return 1.0
        return (self.pdf.alphas_Q2(mur * mur) / self._card_alpha_s) ** self.alpha_s_power

    def _matrix_elements(
        self, momenta: torch.Tensor, live: torch.Tensor | None = None
    ) -> torch.Tensor:
        """(n, C) |M|^2 of every channel, each distinct (process, orientation) once, and only
        at the ``live`` points (those passing the cuts; 0 elsewhere)."""
        cache: dict[tuple[int, bool], torch.Tensor] = {}
        p = momenta if live is None else momenta[live]
        swapped = p[:, [1, 0, 2, 3]]
        cols = []
        for ch in self.channels_:
            key = (id(ch.process), ch.swap)
            if key not in cache:
                cache[key] = ch.process.matrix_element(swapped if ch.swap else p)
            cols.append(cache[key])
        me = torch.stack(cols, dim=-1)
        if live is None:
            return me
        out = torch.zeros(momenta.shape[0], me.shape[1], dtype=me.dtype, device=me.device)
        out[live] = me
        return out

    def _luminosities(self, f1: torch.Tensor, f2: torch.Tensor) -> torch.Tensor:
        """(n, C) f_a(x1) f_b(x2) per channel."""
        return f1[:, self._index_a] * f2[:, self._index_b]

    @property
    def _index_a(self) -> list[int]:
        return [_pdf_index(ch.a) for ch in self.channels_]

    @property
    def _index_b(self) -> list[int]:
        return [_pdf_index(ch.b) for ch in self.channels_]

    def _channel_weights(
        self, x: torch.Tensor, channel: torch.Tensor | None = None
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
        """(kinematics, partonic part (n, C) = |M|^2 x flux x Jacobian [x cuts] in pb, and the
        nominal (n, C) contributions with PDFs and alpha_s)."""
        kin = self.kinematics(x, channel)
        p = kin["momenta"]
        partonic = (
            self._matrix_elements(p) * (kin["jacobian"] / (2 * kin["s"]) * GEV2_TO_PB)[:, None]
        )
        if self.cuts is not None:
            passed = self.cuts.mask(p[:, 2:], [int(i) for i in self.channels_[0].final])
            partonic = partonic * passed[:, None]
        mur, muf = self.scales(p)
        kin["mur"], kin["muf"] = mur, muf
        f1, f2 = self._parton_densities(kin["x1"], kin["x2"], muf)
        factor = self._alpha_s_factor(mur)
        factor = factor[:, None] if isinstance(factor, torch.Tensor) else factor
        nominal = partonic * self._luminosities(f1, f2) * factor
        return kin, partonic, torch.nan_to_num(nominal, nan=0.0)

    # -- integrand -------------------------------------------------------------------------
    def _check_x(self, x: object) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != self.dim:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"{self.name} takes points as an (n, {self.dim}) tensor, got {got}")
        return x.to(torch.float64)

    def __call__(self, x: torch.Tensor, channel: torch.Tensor | None = None) -> torch.Tensor:
        """d(sigma) in pb at the points x (n, 4), summed over parton channels; with
        ``channel`` (n,), where the process declares ``channels``, each point's channel term."""
        _, _, nominal = self._channel_weights(self._check_x(x), channel)
        return nominal.sum(-1)

    def variation_weights(
        self, kin: dict[str, torch.Tensor], partonic: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """The 7-point weights (absolute, pb), muR and muF varied by 2 and 1/2 around the
        nominal muR and muF; the central one equals the nominal weight."""
        out = {}
        mur0, muf0 = kin["mur"], kin["muf"]
        densities: dict[float, torch.Tensor] = {}
        for kr, kf in SEVEN_POINT:
            if kf not in densities:
                f1, f2 = self._parton_densities(kin["x1"], kin["x2"], muf0 * kf)
                densities[kf] = self._luminosities(f1, f2)
            factor = self._alpha_s_factor(mur0 * kr)
            factor = factor[:, None] if isinstance(factor, torch.Tensor) else factor
            w = (partonic * densities[kf] * factor).sum(-1)
            out[variation_id(kr, kf)] = torch.nan_to_num(w, nan=0.0)
        return out

    # -- event record ----------------------------------------------------------------------
    def _uniforms(self, x: torch.Tensor, k: int, generator: torch.Generator | None) -> torch.Tensor:
        """(n, k) uniform numbers: from ``generator``, or (reproducibly, as the sm 2 -> 2
        classes do) from one seeded by the bytes of x."""
        if generator is None:
            seed = zlib.crc32(x.detach().cpu().numpy().tobytes())
            generator = torch.Generator(device=x.device).manual_seed(seed)
        return torch.rand(x.shape[0], k, generator=generator, dtype=torch.float64, device=x.device)

    @staticmethod
    def _choose(weights: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """Index i with probability weights[:, i] / sum (weights >= 0; all-zero rows give 0)."""
        total = weights.sum(-1, keepdim=True)
        cumulative = weights.cumsum(-1) / torch.where(total > 0, total, torch.ones_like(total))
        index = torch.clamp((cumulative < u[:, None]).sum(-1), max=weights.shape[-1] - 1)
        return torch.where(total[:, 0] > 0, index, torch.zeros_like(index))

    def _colours(self, ch: PartonChannel, p: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """(n, 4, 2) colour tags for channel ch in the lab order (a, b, final...)."""
        proc = ch.process
        q = p[:, [1, 0, 2, 3]] if ch.swap else p
        flows = torch.tensor(
            [ch.flows] if ch.flows is not None else proc.colour_flows,
            dtype=torch.int64,
            device=p.device,
        )
        if ch.conjugate:
            flows = flows.flip(-1)
        if len(flows) == 1:
            tags = flows[0].expand(p.shape[0], 4, 2)
        else:
            cache: dict = {}
            weight = torch.zeros(p.shape[0], len(flows), dtype=torch.float64, device=p.device)
            for hel in proc._helicities:
                jamps = proc._jamps(q, hel, cache)
                weight = weight + torch.stack([j.real**2 + j.imag**2 for j in jamps], dim=-1)
            tags = flows[self._choose(weight, u)]
        return tags[:, [1, 0, 2, 3]] if ch.swap else tags

    def events(
        self,
        x: torch.Tensor,
        channel: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> EventBatch:
        """Events at x: partons a, b (status -1, momentum fractions x1, x2 of the beams),
        the final state (status 1); the parton channel and colour flow of each event drawn
        with probability proportional to its contribution. Extras: ``scale`` (muF, GeV),
        ``alpha_s`` (the PDF's at muR), ``alpha_qed``, ``x1``, ``x2``, ``mur``, ``muf``."""
        x = self._check_x(x)
        return self._event_record(x, *self._channel_weights(x, channel), generator)

    def _event_record(
        self,
        x: torch.Tensor,
        kin: dict[str, torch.Tensor],
        partonic: torch.Tensor,
        nominal: torch.Tensor,
        generator: torch.Generator | None,
    ) -> EventBatch:
        """The EventBatch for weights from ``_channel_weights``: any number of final-state
        particles (the momenta's second axis), colours from ``_colours``."""
        p = kin["momenta"]
        (n, k, _), dev, i64 = p.shape, x.device, torch.int64
        u = self._uniforms(x, 2, generator)
        choice = self._choose(nominal, u[:, 0])
        table = torch.tensor(
            [[ch.a, ch.b, *ch.final] for ch in self.channels_], dtype=i64, device=dev
        )
        colour = torch.zeros(n, k, 2, dtype=i64, device=dev)
        for i, ch in enumerate(self.channels_):
            mask = choice == i
            if bool(mask.any()):
                colour[mask] = self._colours(ch, p[mask], u[mask, 1])
        masses = torch.tensor([0.0, 0.0, *self.final_masses], dtype=torch.float64, device=dev)
        mur = kin["mur"]
        alpha_s = self.pdf.alphas_Q2(mur * mur).to(torch.float64)
        variations = self.variation_weights(kin, partonic) if self.scale_variations else {}
        return EventBatch.from_regular(
            pdg_id=table[choice],
            status=torch.tensor([-1, -1] + [1] * (k - 2), dtype=i64, device=dev),
            mothers=torch.tensor([[0, 0], [0, 0]] + [[1, 2]] * (k - 2), dtype=i64, device=dev),
            color=colour,
            momentum=p,
            weight=nominal.sum(-1),
            mass=masses,
            spin=torch.full((k,), 9.0, dtype=torch.float64, device=dev),
            weight_variations=variations,
            extras={
                "scale": kin["muf"],
                "mur": mur,
                "muf": kin["muf"],
                "alpha_s": alpha_s,
                "alpha_qed": torch.full((n,), self.alpha_qed, dtype=torch.float64, device=dev),
                "x1": kin["x1"],
                "x2": kin["x2"],
            },
        )

    # -- description -----------------------------------------------------------------------
    def parton_pdgs(self) -> set[int]:
        """The parton ids the flavour sum can put in an event."""
        return {ch.a for ch in self.channels_} | {ch.b for ch in self.channels_}

    def options(self) -> dict[str, Any]:
        return {
            "sqrt_s": self.sqrt_s,
            "pdf": self.pdf_name,
            "pdf_member": self.pdf_member,
            "beams": self.beams,
            "flavours": self.flavours,
            "scale": self.scale.choice,
            "scale_value": self.scale.value,
            "mur_factor": self.mur_factor,
            "muf_factor": self.muf_factor,
            "scale_variations": self.scale_variations,
            "cuts": self.cuts_options,
            "param_card": self.param_card,
        }

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{type(self).__name__}({opts})"


def quark_antiquark_channels(
    quarks: Sequence[int], process_for: Mapping[int, TwoToTwoProcess], final: tuple[int, int]
) -> list[PartonChannel]:
    """q q~ and q~ q channels for every quark, the |M|^2 of ``process_for[q]`` (whose order is
    quark, antiquark)."""
    out = []
    for q in quarks:
        proc = process_for[q]
        out.append(PartonChannel(q, -q, proc, False, final))
        out.append(PartonChannel(-q, q, proc, True, final))
    return out
