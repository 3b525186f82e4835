"""Coupling layer (Dinh et al.): transform the masked dimensions element-wise with parameters
that a network computes from the other dimensions (and the condition)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .nets import MLP
from .transforms import ElementwiseTransform

__all__ = ["CouplingLayer"]


class CouplingLayer(nn.Module):
    """One coupling step; its Jacobian is triangular, so the log-det is a sum of 1-D terms."""

    def __init__(
        self,
        mask: Tensor,
        transform: ElementwiseTransform,
        hidden: Sequence[int],
        condition_dim: int = 0,
        activation: str = "relu",
    ):
        super().__init__()
        self.register_buffer("mask", mask.bool().clone())
        self.transform = transform
        self.n_active = int(self.mask.sum())
        n_in = mask.numel() - self.n_active + condition_dim
        self.net = MLP(n_in, self.n_active * transform.n_params, hidden, activation)

    def _params(self, x: Tensor, condition: Tensor | None) -> Tensor:
        inputs = x[:, ~self.mask]
        if condition is not None:
            inputs = torch.cat([inputs, condition], dim=1)
        out = self.net(inputs.to(self.net[0].weight.dtype))
        return out.view(x.shape[0], self.n_active, self.transform.n_params)

    def _couple(self, x: Tensor, condition: Tensor | None, inverse: bool) -> tuple[Tensor, Tensor]:
        y_active, log_det = self.transform(
            x[:, self.mask], self._params(x, condition), inverse=inverse
        )
        y = x.masked_scatter(self.mask.expand_as(x), y_active)
        return y, log_det.sum(dim=1)

    def forward(self, z: Tensor, condition: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """z -> x and log|det dx/dz|."""
        return self._couple(z, condition, inverse=False)

    def inverse(self, x: Tensor, condition: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """x -> z and log|det dz/dx|."""
        return self._couple(x, condition, inverse=True)
