"""The containers that cross the contracts: batches of sampled points and of events.

Everything here is columnar and lives on one torch device. Points and weights are float64
(integrals are sums of weights); a conversion to numpy/awkward happens once, at a writer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import torch

from .errors import HepflowError

__all__ = ["EventBatch", "PointBatch", "WeightedBatch"]


@dataclass(frozen=True)
class PointBatch:
    """Points drawn by a sampler.

    x:        (n, dim) points in the unit hypercube.
    q:        (n,) float64 sampling density of each point, so that w = f(x) / q(x) estimates the
              integral without bias.
    stratum:  optional (n,) int64 label of the stratum (hypercube, channel) each point was drawn
              in, with a number of points per stratum fixed before sampling. The accumulators use
              it to compute the stratified variance, which is smaller than the plain one.
    extras:   sampler-private columns (e.g. VEGAS y-space coordinates) handed back to
              ``Sampler.adapt`` with the evaluated batch.
    """

    x: torch.Tensor
    q: torch.Tensor
    stratum: torch.Tensor | None = None
    extras: Mapping[str, torch.Tensor] = field(default_factory=dict)

    def __len__(self) -> int:
        return self.x.shape[0]

    @property
    def dim(self) -> int:
        return self.x.shape[1]

    def evaluated(self, f: torch.Tensor) -> WeightedBatch:
        """Attach integrand values and return the weighted batch."""
        return WeightedBatch(x=self.x, q=self.q, stratum=self.stratum, extras=self.extras, f=f)

    def select(self, mask: torch.Tensor) -> PointBatch:
        """Keep the points where ``mask`` is true (extras are filtered when per point)."""
        return replace(self, **_select_fields(self, mask))


@dataclass(frozen=True)
class WeightedBatch(PointBatch):
    """Points with their integrand values f (n,) float64; ``weights`` = f / q."""

    f: torch.Tensor = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.f is None:
            raise HepflowError("WeightedBatch needs the integrand values f")

    @property
    def weights(self) -> torch.Tensor:
        return self.f / self.q

    def select(self, mask: torch.Tensor) -> WeightedBatch:
        fields = _select_fields(self, mask)
        fields["f"] = self.f[mask]
        return replace(self, **fields)


def _select_fields(batch: PointBatch, mask: torch.Tensor) -> dict:
    n = len(batch)
    return {
        "x": batch.x[mask],
        "q": batch.q[mask],
        "stratum": None if batch.stratum is None else batch.stratum[mask],
        "extras": {
            k: (v[mask] if v.ndim > 0 and v.shape[0] == n else v) for k, v in batch.extras.items()
        },
    }


@dataclass(frozen=True)
class EventBatch:
    """A columnar batch of events, in the Les Houches way.

    Particle columns are flat over all particles of all events, in event order, with
    ``n_particles`` giving the count per event (so events of different multiplicity share a
    batch, and ``offsets`` recovers the jagged structure, as awkward does):

    pdg_id (P,) int64; status (P,) int64 (LHE ISTUP: -1 incoming, 1 outgoing, 2 intermediate);
    mothers (P, 2) int64, 1-based indices within the event, 0 for none (LHE MOTHUP);
    color (P, 2) int64 colour and anticolour line tags, 0 for none (LHE ICOLUP);
    momentum (P, 4) float64 (E, px, py, pz) in GeV; mass (P,) float64 generated mass;
    spin (P,) float64 cosine of the angle between spin and momentum, 9 for unknown (VTIMUP/SPINUP).

    Per event: weight (N,) float64 nominal weight; ``weight_variations`` maps an id (as in LHE
    ``<initrwgt>``) to an (N,) float64 alternative weight; ``extras`` maps a name (``scale``,
    ``alpha_s``, ``alpha_qed``, ``process_id``...) to an (N,) column.
    """

    n_particles: torch.Tensor
    pdg_id: torch.Tensor
    status: torch.Tensor
    mothers: torch.Tensor
    color: torch.Tensor
    momentum: torch.Tensor
    weight: torch.Tensor
    mass: torch.Tensor | None = None
    spin: torch.Tensor | None = None
    weight_variations: Mapping[str, torch.Tensor] = field(default_factory=dict)
    extras: Mapping[str, torch.Tensor] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n_events = self.n_particles.shape[0]
        n_part = int(self.n_particles.sum()) if n_events else 0
        checks = {
            "pdg_id": (self.pdg_id, (n_part,)),
            "status": (self.status, (n_part,)),
            "mothers": (self.mothers, (n_part, 2)),
            "color": (self.color, (n_part, 2)),
            "momentum": (self.momentum, (n_part, 4)),
            "weight": (self.weight, (n_events,)),
        }
        if self.mass is not None:
            checks["mass"] = (self.mass, (n_part,))
        if self.spin is not None:
            checks["spin"] = (self.spin, (n_part,))
        for name, col in self.weight_variations.items():
            checks[f"weight_variations[{name!r}]"] = (col, (n_events,))
        for name, col in self.extras.items():
            checks[f"extras[{name!r}]"] = (col, (n_events,))
        for name, (tensor, shape) in checks.items():
            if tuple(tensor.shape) != shape:
                raise HepflowError(
                    f"EventBatch column {name} has shape {tuple(tensor.shape)}, expected {shape} "
                    f"for {n_events} events with {n_part} particles"
                )

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_regular(
        cls,
        pdg_id: torch.Tensor,
        status: torch.Tensor,
        mothers: torch.Tensor,
        color: torch.Tensor,
        momentum: torch.Tensor,
        weight: torch.Tensor,
        **kwargs,
    ) -> EventBatch:
        """Build from per-event arrays of fixed multiplicity: pdg_id (N, p) or (p,) broadcast,
        momentum (N, p, 4), mothers/color (N, p, 2) or (p, 2); optional mass/spin (N, p)."""
        n, p = momentum.shape[0], momentum.shape[1]

        def flat(t: torch.Tensor | None, tail: tuple[int, ...]) -> torch.Tensor | None:
            if t is None:
                return None
            t = torch.as_tensor(t, device=momentum.device)
            return t.expand(n, p, *tail).reshape(n * p, *tail)

        for key, tail in (("mass", ()), ("spin", ())):
            if key in kwargs:
                kwargs[key] = flat(kwargs[key], tail)
        return cls(
            n_particles=torch.full((n,), p, dtype=torch.int64, device=momentum.device),
            pdg_id=flat(pdg_id, ()),
            status=flat(status, ()),
            mothers=flat(mothers, (2,)),
            color=flat(color, (2,)),
            momentum=momentum.reshape(n * p, 4),
            weight=weight,
            **kwargs,
        )

    @classmethod
    def concat(cls, batches: Sequence[EventBatch]) -> EventBatch:
        """Join batches event-wise; they must carry the same optional columns."""
        if not batches:
            raise HepflowError("EventBatch.concat needs at least one batch")
        first = batches[0]

        def cat(get):
            cols = [get(b) for b in batches]
            if all(c is None for c in cols):
                return None
            if any(c is None for c in cols):
                raise HepflowError("EventBatch.concat: batches carry different optional columns")
            return torch.cat(cols)

        def cat_map(get):
            keys = set(get(first))
            if any(set(get(b)) != keys for b in batches):
                raise HepflowError("EventBatch.concat: batches carry different named columns")
            return {k: torch.cat([get(b)[k] for b in batches]) for k in get(first)}

        return cls(
            n_particles=cat(lambda b: b.n_particles),
            pdg_id=cat(lambda b: b.pdg_id),
            status=cat(lambda b: b.status),
            mothers=cat(lambda b: b.mothers),
            color=cat(lambda b: b.color),
            momentum=cat(lambda b: b.momentum),
            weight=cat(lambda b: b.weight),
            mass=cat(lambda b: b.mass),
            spin=cat(lambda b: b.spin),
            weight_variations=cat_map(lambda b: b.weight_variations),
            extras=cat_map(lambda b: b.extras),
        )

    # -- views ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.n_particles.shape[0]

    @property
    def device(self) -> torch.device:
        return self.momentum.device

    @property
    def offsets(self) -> torch.Tensor:
        """(N + 1,) start of each event in the particle columns, as awkward's offsets."""
        zero = torch.zeros(1, dtype=torch.int64, device=self.n_particles.device)
        return torch.cat([zero, torch.cumsum(self.n_particles, 0)])

    def particle_event_index(self) -> torch.Tensor:
        """(P,) index of the event each particle belongs to."""
        idx = torch.arange(len(self), device=self.n_particles.device)
        return torch.repeat_interleave(idx, self.n_particles)

    def select(self, mask: torch.Tensor) -> EventBatch:
        """Keep the events where the (N,) boolean ``mask`` is true (cuts)."""
        mask = mask.to(torch.bool)
        pmask = torch.repeat_interleave(mask, self.n_particles)
        return EventBatch(
            n_particles=self.n_particles[mask],
            pdg_id=self.pdg_id[pmask],
            status=self.status[pmask],
            mothers=self.mothers[pmask],
            color=self.color[pmask],
            momentum=self.momentum[pmask],
            weight=self.weight[mask],
            mass=None if self.mass is None else self.mass[pmask],
            spin=None if self.spin is None else self.spin[pmask],
            weight_variations={k: v[mask] for k, v in self.weight_variations.items()},
            extras={k: v[mask] for k, v in self.extras.items()},
        )

    def with_weights(self, weight: torch.Tensor, **variations: torch.Tensor) -> EventBatch:
        """A copy with a new nominal weight (and added/replaced weight variations)."""
        return replace(
            self, weight=weight, weight_variations={**self.weight_variations, **variations}
        )

    def to(self, device: torch.device | str) -> EventBatch:
        def move(t):
            return None if t is None else t.to(device)

        return EventBatch(
            n_particles=move(self.n_particles),
            pdg_id=move(self.pdg_id),
            status=move(self.status),
            mothers=move(self.mothers),
            color=move(self.color),
            momentum=move(self.momentum),
            weight=move(self.weight),
            mass=move(self.mass),
            spin=move(self.spin),
            weight_variations={k: move(v) for k, v in self.weight_variations.items()},
            extras={k: move(v) for k, v in self.extras.items()},
        )

    def to_awkward(self):
        """An awkward record array, one record per event with jagged particle lists."""
        import awkward as ak
        import numpy as np

        counts = self.n_particles.cpu().numpy()
        particles = {
            "pdg_id": self.pdg_id,
            "status": self.status,
            "mother1": self.mothers[:, 0],
            "mother2": self.mothers[:, 1],
            "color1": self.color[:, 0],
            "color2": self.color[:, 1],
            "E": self.momentum[:, 0],
            "px": self.momentum[:, 1],
            "py": self.momentum[:, 2],
            "pz": self.momentum[:, 3],
        }
        if self.mass is not None:
            particles["mass"] = self.mass
        if self.spin is not None:
            particles["spin"] = self.spin
        jagged = ak.unflatten(
            ak.zip({k: np.asarray(v.cpu().numpy()) for k, v in particles.items()}), counts
        )
        record = {"particles": jagged, "weight": self.weight.cpu().numpy()}
        for k, v in self.extras.items():
            record[k] = v.cpu().numpy()
        for k, v in self.weight_variations.items():
            record[f"weight_{k}"] = v.cpu().numpy()
        return ak.zip(record, depth_limit=1)
