"""The ``uniform`` sampler: plain Monte Carlo, the baseline every other sampler is measured by."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

import hepflow
from hepflow.events import PointBatch, WeightedBatch


class UniformSampler:
    """Plain Monte Carlo: points uniform in [0,1]^dim, density 1; learns nothing."""

    def __init__(self, dim: int, device: str | torch.device = "cpu") -> None:
        if not isinstance(dim, int) or dim < 1:
            raise ValueError(f"dim must be a positive integer, got {dim!r}")
        self.dim = dim
        self.device = torch.device(device)

    def sample(self, n: int, generator: torch.Generator) -> PointBatch:
        x = torch.rand(n, self.dim, generator=generator, device=self.device, dtype=torch.float64)
        return PointBatch(x=x, q=torch.ones(n, dtype=torch.float64, device=self.device))

    def adapt(self, batch: WeightedBatch) -> None:
        """Nothing to learn."""

    def state_dict(self) -> dict[str, Any]:
        return {"dim": self.dim}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state.get("dim") != self.dim:
            raise hepflow.HepflowError(
                f"uniform sampler state is for dim {state.get('dim')}, this sampler has {self.dim}"
            )


@hepflow.hookimpl
def hepflow_samplers():
    return {"uniform": UniformSampler}
