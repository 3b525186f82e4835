"""The ``vegas`` sampler plugin: VEGAS adaptive importance sampling with VEGAS+ stratification.

Registered like any third-party plugin, through the ``hepflow`` entry point
``vegas = "hepflow_vegas"``: ``hepflow.create("sampler", "vegas", dim=4, alpha=0.5)``.
"""

from __future__ import annotations

import hepflow

from .map import AdaptiveMap
from .sampler import VegasSampler

__all__ = ["AdaptiveMap", "VegasSampler"]


@hepflow.hookimpl
def hepflow_samplers():
    return {"vegas": VegasSampler}
