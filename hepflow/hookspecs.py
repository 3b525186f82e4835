"""Every hook a hepflow plugin can implement.

A plugin is a module (or object) named by an entry point in the ``hepflow`` group, holding
functions decorated with ``@hepflow.hookimpl`` whose names are the hooks below. Implement only
the hooks you need; a function whose name starts with ``hepflow_`` but matches no hook here is an
error (a misspelling), reported against your plugin.

Two families:

* Registration hooks (called once, when the plugin manager starts): each returns a mapping
  ``{name: factory}`` for one kind of component. A factory is a class or function called with
  keyword options (``hepflow.create(kind, name, **options)``); its signature is the list of
  options users may set, its docstring the help ``hepflow plugins`` shows. Components are
  addressed as ``name`` when unique or ``plugin:name`` always.

* Run life-cycle hooks (called by ``hepflow run`` and ``hepflow.run.run_pipeline``), in this
  order: ``hepflow_configure`` once; ``hepflow_process_events`` for every event batch, in
  order; ``hepflow_run_finished`` once at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .events import EventBatch
    from .run import RunContext

PROJECT = "hepflow"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Factories = Mapping[str, Callable[..., Any]]


# -- component registration -------------------------------------------------------------------
@hookspec
def hepflow_integrands() -> Factories:
    """Integrands this plugin provides.

    Called once at plugin-manager start-up; all plugins' results are collected.
    Return ``{name: factory}``; ``factory(**options)`` returns an object satisfying
    ``hepflow.protocols.Integrand``. The core passes ``device`` when the factory accepts it;
    ``dim`` only when the user sets it.
    """


@hookspec
def hepflow_samplers() -> Factories:
    """Samplers this plugin provides.

    Called once at start-up; all results collected. Return ``{name: factory}``;
    ``factory(dim=..., device=..., **options)`` returns a ``hepflow.protocols.Sampler``.
    """


@hookspec
def hepflow_generators() -> Factories:
    """Generative surrogates (``hepflow.protocols.Generator``) this plugin provides.

    Called once at start-up; all results collected. Return ``{name: factory}``.
    """


@hookspec
def hepflow_writers() -> Factories:
    """Event writers this plugin provides.

    Called once at start-up; all results collected. Return ``{name: factory}``;
    ``factory(path=..., **options)`` returns a ``hepflow.protocols.EventWriter``. The pipeline
    also passes, where the factory accepts them, ``overwrite: bool`` (the user allowed
    replacing an existing file) and ``run_info`` (``{"cross_section": {"value", "error",
    "unit"}, "max_weight", "max_weight_estimator", "mode", "beam_pdg", "beam_energy"}``, known
    before the first event, for formats whose header needs it).
    """


@hookspec
def hepflow_readers() -> Factories:
    """Event readers this plugin provides.

    Called once at start-up; all results collected. Return ``{name: factory}``;
    ``factory(path=..., **options)`` returns a ``hepflow.protocols.EventReader``.
    """


# -- run life cycle ---------------------------------------------------------------------------
@hookspec
def hepflow_configure(config: Mapping[str, Any], context: RunContext) -> None:
    """Called once before a run starts, after the run card is validated.

    ``config`` is the validated run card (a read-only mapping; a plugin reads its own table,
    e.g. ``config["plugins"]["myplugin"]``). ``context`` is the ``hepflow.run.RunContext``
    (seed, device, output directory, a ``state`` dict plugins may use to keep per-run data).
    Return value ignored; raise ``hepflow.HepflowError`` to refuse the configuration.
    """


@hookspec
def hepflow_process_events(events: EventBatch, context: RunContext) -> EventBatch | None:
    """Called for every EventBatch the run generates, before any writer sees it.

    Implementations form a chain: each receives the batch returned by the previous one and
    returns a new ``EventBatch`` (cuts: ``events.select(mask)``; reweighting:
    ``events.with_weights(...)``) or ``None`` to pass the batch on unchanged (observers,
    histograms). Order: ``tryfirst=True`` implementations first (use it for cuts), then plain
    ones (reweighting), then ``trylast=True`` (observers, which see the final batch); within a
    group, the plugin registered last runs first (pluggy's order). Wrappers are not allowed.
    Every installed plugin's implementation runs in every run: keep it cheap, or switch it on
    from ``hepflow_configure`` (e.g. when the card has a ``[plugins.NAME]`` table).
    """


@hookspec
def hepflow_run_finished(summary: Mapping[str, Any], context: RunContext) -> None:
    """Called once after the run, when every writer is closed.

    ``summary`` is the run summary (cross section, error, chi2/dof, efficiencies, timings,
    outputs) that is also written as JSON beside the outputs. Return value ignored.
    """
