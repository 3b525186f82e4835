"""hepflow-example-plugin: the template for third-party hepflow plugins.

hepflow finds this module through the entry point ``example = "hepflow_example_plugin"`` in the
``hepflow`` group (see pyproject.toml) and registers every ``@hepflow.hookimpl`` function below.
Their names must be hooks from ``hepflow.hookspecs``: a misspelt one marks the plugin broken
(``hepflow plugins`` says which name and suggests the right one) instead of being ignored.

What this plugin provides:

- integrand ``example:breit_wigner``: a Z-like resonance with an exact integral
  (``hepflow_example_plugin.integrand``);
- writer ``example:csv``: events as CSV, one line per particle (``hepflow_example_plugin.writer``);
- an observer of every event batch of a run, counting events.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

import hepflow

from .integrand import BreitWigner
from .writer import CsvWriter

try:
    __version__ = version("hepflow-example-plugin")
except PackageNotFoundError:  # imported from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["BreitWigner", "CsvWriter", "__version__"]


# -- registration hooks: called once, when hepflow loads its plugins ---------------------------
# Each returns {name: factory}. The factory's signature is the list of options users may set
# (an unknown option is an error listing these); its docstring's first line is the summary
# `hepflow plugins` shows. Classes make good factories.
@hepflow.hookimpl
def hepflow_integrands() -> dict[str, Any]:
    return {"breit_wigner": BreitWigner}


@hepflow.hookimpl
def hepflow_writers() -> dict[str, Any]:
    return {"csv": CsvWriter}


# -- run life-cycle hooks: called during `hepflow run` ---------------------------------------
# hepflow_process_events sees every event batch before the writers do. Implementations form a
# chain in three groups: tryfirst=True ones first (cuts: return events.select(mask)), then plain
# ones (reweighting: return events.with_weights(w)), then trylast=True ones (observers: return
# None to pass the batch on unchanged). An observer is trylast so that it sees exactly what the
# writers will write. Mind that once installed, a plugin's run hooks take part in every run,
# whatever integrand it uses: keep them cheap, or switch them on from your own table of the run
# card in hepflow_configure.
@hepflow.hookimpl(trylast=True)
def hepflow_process_events(events: hepflow.EventBatch, context: Any) -> None:
    """Count the events of the run in ``context.state["example"]["n_events"]``."""
    state = getattr(context, "state", None)
    if state is not None:
        counts = state.setdefault("example", {"n_events": 0})
        counts["n_events"] += len(events)
