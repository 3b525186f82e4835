"""Fourier features for a coupling network: each input x beside sin and cos of 2 pi k x.

A small ReLU network learns high frequencies slowly (its spectral bias: Rahaman et al.,
arXiv:1806.08734; Tancik et al., arXiv:2006.10739). A coupling layer on a target that
oscillates across the cube (ZüNIS's sinusoidal: stripes along the diagonal, six periods per
axis) must move its spline's knots with the other coordinates at that frequency; a 2 x 32
network fed only x keeps them nearly still, and the flow stays close to flat. Fed sin and cos
of 2 pi k x for k = 1..K it follows the stripes (BENCHMARKS.md, "Fourier features").
x itself stays an input, so that the faces x = 0 and x = 1, alike to every sine, stay apart.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .errors import FlowError

__all__ = ["FourierFeatures", "check_frequencies"]


def check_frequencies(frequencies: object) -> int:
    """The number of Fourier frequencies per input, or a FlowError naming the bad value."""
    if isinstance(frequencies, bool) or not isinstance(frequencies, int) or frequencies < 0:
        raise FlowError(
            f"fourier={frequencies!r} must be an int >= 0: the frequencies per network "
            "input (0: the inputs alone)"
        )
    return frequencies


class FourierFeatures(nn.Module):
    """(n, m) inputs in [0, 1] -> (n, m (1 + 2 K)): x, sin(2 pi k x), cos(2 pi k x), k = 1..K."""

    def __init__(self, frequencies: int):
        super().__init__()
        self.frequencies = check_frequencies(frequencies)
        angular = 2 * math.pi * torch.arange(1, self.frequencies + 1, dtype=torch.float32)
        self.register_buffer("angular", angular, persistent=False)

    def n_out(self, n_in: int) -> int:
        return n_in * (1 + 2 * self.frequencies)

    def forward(self, x: Tensor) -> Tensor:
        if self.frequencies == 0:
            return x
        phases = (x[:, :, None] * self.angular.to(x.dtype)).flatten(1)
        return torch.cat([x, torch.sin(phases), torch.cos(phases)], dim=1)

    def extra_repr(self) -> str:
        return f"frequencies={self.frequencies}"
