"""Masked autoregressive layer: MAF (density in one pass) or IAF (sampling in one pass).

Both use a MADE network on the "fast" side; the other direction is a fixed-point iteration
that is exact after d passes, since output i only depends on inputs before i in the order.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .errors import check_choice
from .nets import MaskedMLP
from .transforms import ElementwiseTransform

__all__ = ["MODES", "AutoregressiveLayer"]

MODES = ("maf", "iaf")


class AutoregressiveLayer(nn.Module):
    """x_i = tau(z_i; theta_i), theta_i from the dimensions before i in ``order`` (a permutation).

    ``mode="maf"``: theta from x, so inverse/log_prob is one pass, forward/sample d passes.
    ``mode="iaf"``: theta from z, so forward/sample is one pass, inverse/log_prob d passes.
    """

    def __init__(
        self,
        order: Tensor,
        transform: ElementwiseTransform,
        hidden: Sequence[int],
        condition_dim: int = 0,
        mode: str = "maf",
        activation: str = "relu",
    ):
        super().__init__()
        self.mode = check_choice("mode", mode, MODES)
        self.transform = transform
        self.dim = order.numel()
        degrees = torch.empty_like(order)
        degrees[order] = torch.arange(1, self.dim + 1)
        self.register_buffer("degrees", degrees)
        self.net = MaskedMLP(degrees, condition_dim, hidden, transform.n_params, activation)

    def _params(self, u: Tensor, condition: Tensor | None) -> Tensor:
        inputs = u if condition is None else torch.cat([u, condition], dim=1)
        out = self.net(inputs.to(self.net[0].weight.dtype))
        return out.view(u.shape[0], self.dim, self.transform.n_params)

    def _fast(self, u: Tensor, condition: Tensor | None, inverse: bool) -> tuple[Tensor, Tensor]:
        v, log_det = self.transform(u, self._params(u, condition), inverse=inverse)
        return v, log_det.sum(dim=1)

    def _slow(self, v: Tensor, condition: Tensor | None, inverse: bool) -> tuple[Tensor, Tensor]:
        u = v
        for _ in range(self.dim):  # pass k fixes the dimension of degree k
            u, log_det = self.transform(v, self._params(u, condition), inverse=inverse)
        return u, log_det.sum(dim=1)

    def forward(self, z: Tensor, condition: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """z -> x and log|det dx/dz|."""
        if self.mode == "iaf":
            return self._fast(z, condition, inverse=False)
        return self._slow(z, condition, inverse=False)

    def inverse(self, x: Tensor, condition: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """x -> z and log|det dz/dx|."""
        if self.mode == "maf":
            return self._fast(x, condition, inverse=True)
        return self._slow(x, condition, inverse=True)
