"""What every 2 -> 3 process at fixed partonic energy shares: options and cuts, the
colour-summed helicity sum, phase-space mappings and channels, the cross section in pb, the
cut efficiency and the event record.

A subclass builds its colour-ordered amplitudes (MadGraph's JAMPs) for one helicity
combination; |M|^2 = sum_hel sum_ij JAMP_i* CF_ij JAMP_j / IDEN as SMATRIX computes it. It
names its phase-space mappings (each a map [0,1]^5 -> the three final-state momenta with its
weight dPhi_3/dx) and its channels: ``integrand(x, channel=c)`` maps x with mapping c and
weights |M|^2 with MadGraph's single-diagram-enhanced weights alpha_c = |P_c|^2 / sum_k |P_k|^2
(P_c the propagators the mapping follows), so the channel integrals sum to the cross section.
``integrand(x)`` uses the single ``default_mapping`` (alpha = 1); ``integrand(x, mapping=name)``
any one mapping alone (for cross-checks).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from itertools import product
from typing import Any, ClassVar

import torch

from hepflow.channels import Channel
from hepflow.errors import HepflowError
from hepflow.events import EventBatch
from hepflow.physics.cuts import CUT_NAMES, CutEfficiency, Cuts
from hepflow.physics.sm_parameters import SMParameters
from hepflow.physics.units import GEV2_TO_PB

from ._two_to_two import smatrix

__all__ = ["Mapping", "TwoToThreeProcess"]

HELICITIES = (-1, 1)

#: x (N, 5) -> final-state momenta (N, 3, 4) in MadGraph's order, weight dPhi_3 / dx (N,)
Mapping = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


class TwoToThreeProcess:
    """Base class. A subclass sets ``name``, ``process``, ``pdg`` (MadGraph's order, massless
    beams), ``colour_matrix``, ``iden``, ``colour_flows`` and ``required_cuts``, and
    implements ``_jamps``, ``_mappings`` (name -> Mapping), ``channel_names`` and
    ``_propagators`` (the |P_c|^2).
    Every cut in ``required_cuts`` must be positive (they keep the cross section finite).
    Options: ``sqrt_s`` (GeV), ``param_card``, ``device`` and cuts by MadGraph run_card name
    (``hepflow.physics.cuts.CUT_NAMES``), defaults ``default_cuts``."""

    name: ClassVar[str] = ""
    process: ClassVar[str] = ""
    pdg: ClassVar[tuple[int, ...]] = ()
    colour_matrix: ClassVar[Sequence[Sequence[float]]] = ((1.0,),)
    iden: ClassVar[int] = 1
    colour_flows: ClassVar[Sequence[Sequence[tuple[int, int]]]] = ()
    default_cuts: ClassVar[dict[str, float]] = {}
    required_cuts: ClassVar[tuple[str, ...]] = ()
    channel_names: ClassVar[tuple[str, ...]] = ()
    default_mapping: ClassVar[str] = ""
    dim = 5
    unit = "pb"

    def __init__(
        self,
        *,
        sqrt_s: float,
        param_card: str | None = None,
        device: str | torch.device = "cpu",
        ptj: float | None = None,
        ptl: float | None = None,
        ptjmax: float | None = None,
        ptlmax: float | None = None,
        ej: float | None = None,
        el: float | None = None,
        etaj: float | None = None,
        etal: float | None = None,
        drjj: float | None = None,
        drll: float | None = None,
        drjl: float | None = None,
        mmjj: float | None = None,
        mmjjmax: float | None = None,
        mmll: float | None = None,
        mmllmax: float | None = None,
        ycut: float | None = None,
    ) -> None:
        # cuts are explicit options (not **kwargs) so the plugin registry lists them and
        # rejects misspellings; None = the process default (``default_cuts``) or no cut
        given = locals()
        cuts = {k: given[k] for k in CUT_NAMES if given[k] is not None}
        if (
            isinstance(sqrt_s, bool)
            or not isinstance(sqrt_s, numbers.Real)
            or not math.isfinite(sqrt_s)
            or sqrt_s <= 0
        ):
            raise ValueError(f"sqrt_s must be a positive energy in GeV, got {sqrt_s!r}")
        self.sqrt_s = float(sqrt_s)
        self.s = self.sqrt_s**2
        self.param_card = param_card
        self.device = torch.device(device)
        self.params = SMParameters.from_card(param_card)
        self.masses = tuple(self.params.mass(k) for k in self.pdg)
        if any(self.masses):
            raise NotImplementedError(f"{self.name}: only massless particles are supported")
        self.cuts = Cuts(**{**self.default_cuts, **cuts})
        missing = [c for c in self.required_cuts if self.cuts.values[c] <= 0]
        if missing:
            raise HepflowError(
                f"{self.name}: the cross section is infinite without a cut on "
                f"{' and '.join(missing)}; give a positive value (defaults: {self.default_cuts})"
            )
        self.cut_efficiency = CutEfficiency()
        self.beam_pdg = (self.pdg[0], self.pdg[1])
        self.beam_energy = (self.sqrt_s / 2, self.sqrt_s / 2)
        self._setup()
        self.mappings: dict[str, Mapping] = self._mappings()
        self.channels = [Channel(c, prior) for c, prior in zip(*self._priors(), strict=True)]
        self._cf = torch.tensor(self.colour_matrix, dtype=torch.float64)
        self._helicities = self._filter_helicities()

    # -- what a subclass defines -----------------------------------------------------------
    def _setup(self) -> None:
        """Couplings and anything the mappings need (called after the cuts are known)."""

    def _jamps(self, p: torch.Tensor, hel: tuple[int, ...], cache: dict) -> list[torch.Tensor]:
        raise NotImplementedError

    def _mappings(self) -> dict[str, Mapping]:
        raise NotImplementedError

    def _propagators(self, p: torch.Tensor) -> torch.Tensor:
        """(N, channels) |P_c|^2 at momenta p (N, 5, 4), in ``channel_names`` order."""
        raise NotImplementedError

    def _priors(self) -> tuple[tuple[str, ...], list[float]]:
        return self.channel_names, [1.0] * len(self.channel_names)

    # -- |M|^2 -----------------------------------------------------------------------------
    def matrix_element(self, momenta: torch.Tensor) -> torch.Tensor:
        """|M|^2 (GeV^-2) for momenta (N, 5, 4) in MadGraph's order, as SMATRIX returns it."""
        if momenta.ndim != 3 or momenta.shape[1:] != (5, 4):
            raise ValueError(f"{self.name}: momenta must be (N, 5, 4), got {tuple(momenta.shape)}")
        return smatrix(self, momenta.to(torch.float64))

    def _filter_helicities(self) -> list[tuple[int, ...]]:
        """The helicity combinations with a non-zero amplitude on generic points (MadGraph's
        filter; for massless fermions chirality makes the others exactly zero)."""
        x = torch.tensor(
            [[0.31, 0.17, 0.52, 0.23, 0.66], [0.62, 0.71, 0.13, 0.87, 0.35]], dtype=torch.float64
        )
        p = self._full(*self.mappings[self.default_mapping](x))[0]
        cache: dict = {}
        return [
            hel
            for hel in product(HELICITIES, repeat=5)
            if any(bool((j.abs() > 0).any()) for j in self._jamps(p, hel, cache))
        ]

    # -- phase space -----------------------------------------------------------------------
    def beams(self, n: int, device: torch.device) -> torch.Tensor:
        """(n, 2, 4): particle 1 along +z, particle 2 along -z, each with E = sqrt_s / 2."""
        e = self.sqrt_s / 2
        p = torch.tensor([[e, 0.0, 0.0, e], [e, 0.0, 0.0, -e]], dtype=torch.float64, device=device)
        return p.expand(n, 2, 4)

    def _full(self, out: torch.Tensor, weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.cat([self.beams(out.shape[0], out.device), out], dim=1), weight

    def momenta(
        self, x: torch.Tensor, channel: torch.Tensor | None = None, mapping: str | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Momenta (N, 5, 4) and dPhi_3/dx (N,): by ``mapping`` (a name), per point by
        ``channel`` (indices into ``channels``), or by the default mapping."""
        if channel is None:
            name = mapping or self.default_mapping
            if name not in self.mappings:
                raise HepflowError(
                    f"{self.name}: unknown mapping {name!r}; known: {sorted(self.mappings)}"
                )
            return self._full(*self.mappings[name](x))
        if mapping is not None:
            raise HepflowError(f"{self.name}: give a channel or a mapping, not both")
        channel = torch.as_tensor(channel, device=x.device)
        if channel.shape != (x.shape[0],):
            raise HepflowError(
                f"{self.name}: channel must be an (n,) int64 tensor of indices, got shape "
                f"{tuple(channel.shape)} for {x.shape[0]} points"
            )
        n_ch = len(self.channel_names)
        if bool(((channel < 0) | (channel >= n_ch)).any()):
            raise HepflowError(
                f"{self.name}: channel indices must lie in [0, {n_ch - 1}] "
                f"({', '.join(self.channel_names)}), got {channel.unique().tolist()}"
            )
        p = torch.zeros(x.shape[0], 5, 4, dtype=torch.float64, device=x.device)
        w = torch.zeros(x.shape[0], dtype=torch.float64, device=x.device)
        for c, name in enumerate(self.channel_names):
            sel = channel == c
            if bool(sel.any()):
                p[sel], w[sel] = self._full(*self.mappings[name](x[sel]))
        return p, w

    # -- integrand -------------------------------------------------------------------------
    def __call__(
        self, x: torch.Tensor, channel: torch.Tensor | None = None, mapping: str | None = None
    ) -> torch.Tensor:
        """d(sigma) in pb: |M|^2 / (2 s) x dPhi_3/dx x alpha_c (channel) x cuts."""
        if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != self.dim:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"{self.name} takes points as an (n, {self.dim}) tensor, got {got}")
        x = x.to(torch.float64)
        p, weight = self.momenta(x, channel, mapping)
        passed = weight > 0
        passed[passed.clone()] = self.cuts.mask(p[passed][:, 2:], self.pdg[2:])
        self.cut_efficiency.update(passed)
        f = torch.zeros_like(weight)
        if not bool(passed.any()):
            return f
        pp = p[passed]
        value = self.matrix_element(pp) * weight[passed] / (2 * self.s) * GEV2_TO_PB
        if channel is not None:
            props = self._propagators(pp)
            c = torch.as_tensor(channel, device=x.device)[passed]
            value = value * props.gather(1, c[:, None])[:, 0] / props.sum(1)
        f[passed] = value
        return f

    # -- event record ----------------------------------------------------------------------
    def events(self, x: torch.Tensor, channel: torch.Tensor | None = None) -> EventBatch:
        """Events at x: the 2 -> 3 record in the centre-of-mass frame, weight = f(x) in pb
        (0 for points that fail the cuts), extras ``scale`` (sqrt_s), ``alpha_qed``,
        ``alpha_s`` (the card's, fixed). One colour structure, so one colour flow."""
        x = x.to(torch.float64)
        p, _ = self.momenta(x, channel)
        weight = self(x, channel)
        dev, n = x.device, x.shape[0]
        i64 = torch.int64
        return EventBatch.from_regular(
            pdg_id=torch.tensor(self.pdg, dtype=i64, device=dev),
            status=torch.tensor([-1, -1, 1, 1, 1], dtype=i64, device=dev),
            mothers=torch.tensor([[0, 0], [0, 0], [1, 2], [1, 2], [1, 2]], dtype=i64, device=dev),
            color=torch.tensor(self.colour_flows[0], dtype=i64, device=dev).expand(n, 5, 2),
            momentum=p,
            weight=weight,
            mass=torch.tensor(self.masses, dtype=torch.float64, device=dev),
            spin=torch.full((5,), 9.0, dtype=torch.float64, device=dev),
            extras={
                "scale": torch.full((n,), self.sqrt_s, dtype=torch.float64, device=dev),
                "alpha_qed": torch.full((n,), self.params.aEW, dtype=torch.float64, device=dev),
                "alpha_s": torch.full((n,), self.params.aS, dtype=torch.float64, device=dev),
            },
        )

    def options(self) -> dict[str, Any]:
        return {"sqrt_s": self.sqrt_s, "param_card": self.param_card, **self.cuts.active}

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{type(self).__name__}({opts})"
