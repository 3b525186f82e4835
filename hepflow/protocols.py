"""The contracts between hepflow's parts.

A plugin supplies classes (or factories) that satisfy these protocols; the core only ever talks
to them through the methods below. They are ``runtime_checkable`` so that ``create`` can tell a
plugin author early that a component lacks a required method. Optional capabilities
(``channels``, ``events``, ``reference``, ``log_prob``) are documented but not required.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

import torch

from .events import EventBatch, PointBatch, WeightedBatch

__all__ = ["EventReader", "EventWriter", "Generator", "Integrand", "Sampler"]


@runtime_checkable
class Integrand(Protocol):
    """A function on the unit hypercube [0, 1]^dim whose integral is wanted.

    ``__call__(x)`` takes an (n, dim) tensor (any device, float64) and returns (n,) float64
    values on the same device, with every Jacobian (phase-space map, PDFs, cuts) already inside,
    so that the integral over [0,1]^dim is the physical quantity (a cross section in pb, say).

    Optional attributes a sampler or the pipeline uses when present:

    - ``reference: float``: the exact integral, where known (toys; tests and benchmarks), and
      ``reference_error: float`` where that value comes from a quadrature of stated precision.
    - ``channels: Sequence[hepflow.channels.Channel]``: one entry per phase-space mapping, each
      with a ``prior`` weight, for multi-channel sampling; the integrand then also accepts
      ``__call__(x, channel=c)`` with c an (n,) int64 tensor (see ``hepflow.channels``).
    - ``events(x) -> EventBatch``: the physical events at points x (for event generation),
      with ``weight`` = f(x); any ``weight_variations`` (scale, PDF members) are absolute
      weights on the same footing, so the pipeline rescales them with the nominal weight.
    - ``unit: str``: what the integral measures, e.g. ``"pb"``.
    - ``beam_pdg: (int, int)`` and ``beam_energy: (float, float)`` (GeV): the colliding beams,
      which event writers record (LHE ``<init>``).
    """

    dim: int

    def __call__(self, x: torch.Tensor) -> torch.Tensor: ...


@runtime_checkable
class Sampler(Protocol):
    """Draws points in [0, 1]^dim with a known density and learns from evaluated points.

    ``sample(n, generator)`` returns a PointBatch of about n points (a stratified sampler may
    round per stratum; the batch's length is authoritative) with their density q. All
    randomness comes from ``generator``, a torch.Generator on the sampler's device, so the
    same seed gives the same points.

    ``adapt(batch)`` learns from a WeightedBatch drawn by this sampler (grid refinement, flow
    training with sample reuse); samplers that do not learn (``uniform``) do nothing.

    ``state_dict()`` / ``load_state_dict(state)`` hold everything learned, as tensors and plain
    Python values, so that a trained sampler is saved with ``torch.save``, shipped to workers and
    reloaded to give bit-identical samples.

    Optional: ``sample_for_events(n, generator)``, a second density for event generation when
    the one that minimises the integral's variance is not the one that unweights best (VEGAS+
    allocation); the pipeline surveys both and draws events from the better.
    """

    dim: int

    def sample(self, n: int, generator: torch.Generator) -> PointBatch: ...

    def adapt(self, batch: WeightedBatch) -> None: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


@runtime_checkable
class Generator(Protocol):
    """A generative surrogate (calorimeter showers, jets) trained on data.

    ``fit(data)`` trains on a data set (tensors or an EventReader's batches);
    ``sample(n, condition, generator)`` draws n samples, conditioned where the model is;
    ``log_prob(x, condition)`` where the model has a tractable density.
    """

    def fit(self, data: Any) -> Any: ...

    def sample(
        self,
        n: int,
        condition: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Any: ...


@runtime_checkable
class EventWriter(Protocol):
    """Writes events to a file, streamed in chunks.

    Used as a context manager: ``__enter__`` opens a temporary file beside the target;
    ``write(events)`` appends an EventBatch; ``close(summary)`` records the run summary (cross
    section, error, maximum weight) where the format has a place for it and renames the file
    to its final name. Leaving the ``with`` block on an exception removes the partial file and
    leaves anything that existed before untouched.

    The ``summary`` given to ``close`` holds ``cross_section`` ({"value", "error", "unit"}),
    ``max_weight`` (None for weighted events), ``generation`` (``GenerationStats.as_dict()``:
    n_events, n_tried, efficiency, overweights), ``card`` (the run card as plain data) and
    ``interrupted`` (True when Ctrl-C stopped generation early: the pipeline then still closes
    the writer, so the file is valid and holds the events written so far).
    """

    def __enter__(self) -> EventWriter: ...

    def __exit__(self, *exc_info: object) -> bool | None: ...

    def write(self, events: EventBatch) -> None: ...

    def close(self, summary: Mapping[str, Any]) -> None: ...


@runtime_checkable
class EventReader(Protocol):
    """Reads an event file back as EventBatch chunks.

    ``batches(chunk_size)`` yields EventBatch objects of at most chunk_size events;
    ``info`` holds file-level metadata (beams, cross sections, weight ids) as a mapping.
    """

    info: Mapping[str, Any]

    def batches(self, chunk_size: int = 10_000) -> Iterator[EventBatch]: ...
