"""The ``nis`` sampler plugin: neural importance sampling with normalizing flows.

Registered like any third-party plugin, through the ``hepflow`` entry point
``nis = "hepflow_nis"``: ``hepflow.create("sampler", "nis", dim=4, loss="variance")``.
"""

from __future__ import annotations

import hepflow

from .sampler import NISSampler

__all__ = ["NISSampler"]


@hepflow.hookimpl
def hepflow_samplers():
    return {"nis": NISSampler}
