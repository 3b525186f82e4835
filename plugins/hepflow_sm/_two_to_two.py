"""What every 2 -> 2 process at fixed partonic energy shares: options, phase space, the
colour-summed helicity sum, the cross section in pb and the event record.

A subclass builds its colour-ordered amplitudes (MadGraph's JAMPs) for one helicity
combination; |M|^2 = sum_hel sum_ij JAMP_i* CF_ij JAMP_j / IDEN with MadGraph's colour matrix
CF and IDEN, exactly as SMATRIX computes it. Particle 1 moves along +z; the map
[0,1]^2 -> (cos theta, phi) of particle 3 is ``hepflow.physics.phase_space.two_body``.
"""

from __future__ import annotations

import math
import numbers
import zlib
from collections.abc import Sequence
from itertools import product
from typing import Any, ClassVar

import torch

from hepflow.events import EventBatch
from hepflow.physics.phase_space import two_body
from hepflow.physics.sm_parameters import SMParameters
from hepflow.physics.units import GEV2_TO_PB

__all__ = ["TwoToTwoProcess", "colour_sum", "smatrix"]

HELICITIES = (-1, 1)


def colour_sum(jamps: list[torch.Tensor], cf: torch.Tensor) -> torch.Tensor:
    """sum_ij JAMP_i^* CF_ij JAMP_j for a real symmetric colour matrix CF."""
    total = 0
    for i, ji in enumerate(jamps):
        total = total + cf[i, i] * (ji.real**2 + ji.imag**2)
        for j in range(i + 1, len(jamps)):
            total = total + 2 * cf[i, j] * (ji.conj() * jamps[j]).real
    return total


def smatrix(process: Any, p: torch.Tensor) -> torch.Tensor:
    """MadGraph's SMATRIX for any process with ``_helicities``, ``_jamps``, ``_cf`` and
    ``iden``: the colour-summed |JAMP|^2 summed over helicities, divided by IDEN."""
    cache: dict = {}
    total = torch.zeros(p.shape[0], dtype=torch.float64, device=p.device)
    for hel in process._helicities:
        total = total + colour_sum(process._jamps(p, hel, cache), process._cf)
    return total / process.iden


class TwoToTwoProcess:
    """Base class. A subclass sets ``name``, ``process`` (MadGraph's process string), ``pdg``
    (MadGraph's particle order), ``helicity_states`` per particle, and implements ``_setup``
    (couplings, ``colour_matrix``, ``iden``, ``colour_flows``), ``_jamps`` and optionally
    ``_exact_cross_section``. Options: ``sqrt_s`` (GeV, the fixed partonic energy),
    ``param_card`` (path; MadGraph's sm default when None) and ``device``."""

    name: ClassVar[str] = ""
    process: ClassVar[str] = ""
    pdg: ClassVar[tuple[int, int, int, int]] = (0, 0, 0, 0)
    dim = 2
    unit = "pb"

    #: (k, k) colour matrix CF (real, symmetric), IDEN, and for each colour-ordered amplitude
    #: the LHE colour tags of the four particles (set by ``_setup``)
    colour_matrix: Sequence[Sequence[float]]
    iden: int
    colour_flows: Sequence[Sequence[tuple[int, int]]]

    def __init__(
        self,
        *,
        sqrt_s: float,
        param_card: str | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        if (
            isinstance(sqrt_s, bool)
            or not isinstance(sqrt_s, numbers.Real)
            or not math.isfinite(sqrt_s)
            or sqrt_s <= 0
        ):
            raise ValueError(f"sqrt_s must be a positive energy in GeV, got {sqrt_s!r}")
        self.sqrt_s = float(sqrt_s)
        self.param_card = param_card
        self.device = torch.device(device)
        self.params = SMParameters.from_card(param_card)
        self.masses = tuple(self.params.mass(pdg) for pdg in self.pdg)
        if self.masses[0] or self.masses[1]:
            raise NotImplementedError(f"{self.name}: massive initial states are not supported")
        threshold = self.masses[2] + self.masses[3]
        if self.sqrt_s <= threshold:
            raise ValueError(
                f"sqrt_s = {self.sqrt_s} GeV is below the {self.process} threshold "
                f"{threshold} GeV; choose a larger sqrt_s"
            )
        # what an event writer needs for its beam record (LHE IDBMUP/EBMUP): the incoming
        # particles themselves, particle 1 along +z, at fixed (partonic) energy
        self.beam_pdg = (self.pdg[0], self.pdg[1])
        self.beam_energy = (self.sqrt_s / 2, self.sqrt_s / 2)
        self._setup()
        self._cf = torch.tensor(self.colour_matrix, dtype=torch.float64)
        self._helicities = self._filter_helicities()
        reference = self._exact_cross_section()
        if reference is not None:  # only where exact: samplers and benchmarks trust it
            self.reference = reference
            self.reference_error = 0.0

    # -- what a subclass defines -----------------------------------------------------------
    def _setup(self) -> None:
        raise NotImplementedError

    def _jamps(self, p: torch.Tensor, hel: tuple[int, ...], cache: dict) -> list[torch.Tensor]:
        """Colour-ordered amplitudes (N,) complex for one helicity combination; ``cache`` is
        shared over the helicity loop of one call (wave functions, currents)."""
        raise NotImplementedError

    def _exact_cross_section(self) -> float | None:
        return None

    # -- |M|^2 -----------------------------------------------------------------------------
    def matrix_element(self, momenta: torch.Tensor) -> torch.Tensor:
        """|M|^2 for momenta (N, 4, 4) in MadGraph's particle order, as SMATRIX returns it."""
        if momenta.ndim != 3 or momenta.shape[1:] != (4, 4):
            raise ValueError(f"{self.name}: momenta must be (N, 4, 4), got {tuple(momenta.shape)}")
        return smatrix(self, momenta.to(torch.float64))

    def _filter_helicities(self) -> list[tuple[int, ...]]:
        """The helicity combinations with a non-zero amplitude, found as MadGraph does (on
        generic points); for massless fermions chirality makes the others exactly zero."""
        x = torch.tensor([[0.31, 0.17], [0.62, 0.71], [0.87, 0.43]], dtype=torch.float64)
        p, _ = self.momenta(x)
        cache: dict = {}
        return [
            hel
            for hel in product(HELICITIES, repeat=4)
            if any(bool((j.abs() > 0).any()) for j in self._jamps(p, hel, cache))
        ]

    # -- integrand -------------------------------------------------------------------------
    def momenta(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Momenta (N, 4, 4) in the centre-of-mass frame and the phase-space weight (N,)."""
        n = x.shape[0]
        e = self.sqrt_s / 2
        zeros = torch.zeros(n, dtype=torch.float64, device=x.device)
        ones = torch.ones_like(zeros)
        p1 = torch.stack([e * ones, zeros, zeros, e * ones], dim=-1)
        p2 = torch.stack([e * ones, zeros, zeros, -e * ones], dim=-1)
        p3, p4, weight = two_body(x, p1 + p2, self.masses[2], self.masses[3])
        return torch.stack([p1, p2, p3, p4], dim=1), weight

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """d(sigma) in pb: |M|^2 / (2 s) (massless beams) x dPhi_2 (Jacobian inside)."""
        if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != self.dim:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"{self.name} takes points as an (n, {self.dim}) tensor, got {got}")
        x = x.to(torch.float64)
        p, weight = self.momenta(x)
        flux = 1.0 / (2.0 * self.sqrt_s**2)
        return self.matrix_element(p) * weight * flux * GEV2_TO_PB

    # -- event record ----------------------------------------------------------------------
    def _colours(self, p: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """(N, 4, 2) colour tags. With several colour flows, flow i is chosen with probability
        sum_hel |JAMP_i|^2 / sum_k sum_hel |JAMP_k|^2 (MadGraph's leading-colour choice), from
        a uniform number of a generator seeded by the bytes of x (crc32): reproducible, the
        same x giving the same colours, because ``events(x)`` takes no generator."""
        flows = torch.tensor(self.colour_flows, dtype=torch.int64, device=p.device)
        if len(flows) == 1:
            return flows[0].expand(p.shape[0], 4, 2)
        cache: dict = {}
        weight = torch.zeros(p.shape[0], len(flows), dtype=torch.float64, device=p.device)
        for hel in self._helicities:
            jamps = self._jamps(p, hel, cache)
            weight = weight + torch.stack([j.real**2 + j.imag**2 for j in jamps], dim=-1)
        seed = zlib.crc32(x.detach().cpu().numpy().tobytes())
        gen = torch.Generator(device=p.device).manual_seed(seed)
        u = torch.rand(p.shape[0], 1, generator=gen, dtype=torch.float64, device=p.device)
        cumulative = weight.cumsum(-1) / weight.sum(-1, keepdim=True)
        choice = torch.clamp((cumulative < u).sum(-1), max=len(flows) - 1)
        return flows[choice]

    def events(self, x: torch.Tensor) -> EventBatch:
        """Events at x: the 2 -> 2 record in the centre-of-mass frame, weight = f(x) in pb,
        extras ``scale`` (sqrt_s, fixed), ``alpha_qed`` and ``alpha_s`` (fixed, the card's)."""
        x = x.to(torch.float64)
        p, _ = self.momenta(x)
        weight = self(x)
        dev, n = x.device, x.shape[0]
        i64 = torch.int64
        return EventBatch.from_regular(
            pdg_id=torch.tensor(self.pdg, dtype=i64, device=dev),
            status=torch.tensor([-1, -1, 1, 1], dtype=i64, device=dev),
            mothers=torch.tensor([[0, 0], [0, 0], [1, 2], [1, 2]], dtype=i64, device=dev),
            color=self._colours(p, x),
            momentum=p,
            weight=weight,
            mass=torch.tensor(self.masses, dtype=torch.float64, device=dev),
            spin=torch.full((4,), 9.0, dtype=torch.float64, device=dev),
            extras={
                "scale": torch.full((n,), self.sqrt_s, dtype=torch.float64, device=dev),
                "alpha_qed": torch.full((n,), self.params.aEW, dtype=torch.float64, device=dev),
                "alpha_s": torch.full((n,), self.params.aS, dtype=torch.float64, device=dev),
            },
        )

    def options(self) -> dict[str, Any]:
        return {"sqrt_s": self.sqrt_s, "param_card": self.param_card}

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{type(self).__name__}({opts})"
