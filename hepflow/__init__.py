"""hepflow: plugin-based event generation for high-energy physics on PyTorch.

The core holds contracts (``hepflow.protocols``), containers (``hepflow.events``), the plugin
layer (``hepflow.plugins``, ``hepflow.hookspecs``) and machinery (statistics, the integration
driver, run cards, the pipeline). Everything concrete (integrands, samplers, writers) comes from
plugins, found through the ``hepflow`` entry-point group.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .errors import (
    CardError,
    ComponentError,
    HepflowError,
    IntegrandError,
    OutputExistsError,
    PluginError,
)
from .events import EventBatch, PointBatch, WeightedBatch
from .hookspecs import hookimpl
from .integrate import Result, integrate
from .plugins import create, get_registry

try:
    __version__ = version("hepflow")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "CardError",
    "ComponentError",
    "EventBatch",
    "HepflowError",
    "IntegrandError",
    "OutputExistsError",
    "PluginError",
    "PointBatch",
    "Result",
    "WeightedBatch",
    "__version__",
    "create",
    "get_registry",
    "hookimpl",
    "integrate",
]
