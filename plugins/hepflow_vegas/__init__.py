"""The ``vegas`` sampler plugin: VEGAS adaptive importance sampling with VEGAS+ stratification.

Registered like any third-party plugin, through the ``hepflow`` entry point
``vegas = "hepflow_vegas"``: ``hepflow.create("sampler", "vegas", dim=4, alpha=0.5)``. Its
second sampler, ``vegas_multichannel``, runs one grid per channel of a multi-channel integrand.
"""

from __future__ import annotations

import hepflow

from .map import AdaptiveMap
from .multichannel import MultiChannelVegas
from .sampler import VegasSampler

__all__ = ["AdaptiveMap", "MultiChannelVegas", "VegasSampler"]


@hepflow.hookimpl
def hepflow_samplers():
    return {"vegas": VegasSampler, "vegas_multichannel": MultiChannelVegas}
