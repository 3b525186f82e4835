"""Coupling layer (Dinh et al.): transform the masked dimensions element-wise with parameters
that a network computes from the other dimensions (and the condition)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .features import FourierFeatures
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
        fourier: int = 0,
    ):
        """``fourier``: the network also sees sin and cos of 2 pi k x_passive, k = 1..fourier
        (``FourierFeatures``; the condition goes in as it is)."""
        super().__init__()
        self.register_buffer("mask", mask.bool().clone())
        # column indices instead of boolean masks: two index_selects and a cat per call
        active, passive = self.mask.nonzero()[:, 0], (~self.mask).nonzero()[:, 0]
        self.register_buffer("active", active, persistent=False)
        self.register_buffer("passive", passive, persistent=False)
        self.register_buffer("order", torch.cat([passive, active]).argsort(), persistent=False)
        # the same picks as matrices, for compiled graphs: there index_select's backward (an
        # index_add) became a vectorised atomic add that corrupted memory (torch 2.13 CPU)
        columns = torch.eye(mask.numel(), dtype=torch.float64)
        self.register_buffer("pick_passive", columns[:, passive], persistent=False)
        self.register_buffer("pick_active", columns[:, active], persistent=False)
        self.register_buffer("unpick", columns[:, self.order], persistent=False)
        self.transform = transform
        self.n_active = int(self.mask.sum())
        self.features = FourierFeatures(fourier)
        n_in = self.features.n_out(mask.numel() - self.n_active) + condition_dim
        self.net = MLP(n_in, self.n_active * transform.n_params, hidden, activation)

    def _inputs(self, passive: Tensor, condition: Tensor | None) -> Tensor:
        """The network's inputs: the passive coordinates (with their Fourier features) and
        the condition, in the network's precision."""
        dtype = self.net[0].weight.dtype
        inputs = self.features(passive.to(dtype))
        if condition is not None:
            inputs = torch.cat([inputs, condition.to(dtype)], dim=1)
        return inputs

    def _couple(self, x: Tensor, condition: Tensor | None, inverse: bool) -> tuple[Tensor, Tensor]:
        if self.transform.fuses(x):
            return self._couple_fused(x, condition, inverse)
        # the transform runs on (n_active, n): dimension-major, as its parameters are stored
        # (n_params, n_active, n) by MLP.params_first
        compiling = torch.compiler.is_compiling()
        if compiling:
            passive = x @ self.pick_passive.to(x.dtype)
            active = (x @ self.pick_active.to(x.dtype)).T
        else:
            passive, active = x.index_select(1, self.passive), x.T.index_select(0, self.active)
        rows = self.net.params_first(self._inputs(passive, condition), self.transform.n_params)
        y_active, log_det = self.transform(active, rows.permute(1, 2, 0), inverse=inverse)
        y = torch.cat([passive, y_active.T], dim=1)
        y = y @ self.unpick.to(y.dtype) if compiling else y.index_select(1, self.order)
        return y, log_det.sum(dim=0)

    def _couple_fused(
        self, x: Tensor, condition: Tensor | None, inverse: bool
    ) -> tuple[Tensor, Tensor]:
        """The same with the fused CPU kernels, which want point-major parameters (n,
        n_active, n_params): the network's plain output, with nothing transposed."""
        passive, active = x.index_select(1, self.passive), x.index_select(1, self.active)
        params = self.net(self._inputs(passive, condition))
        params = params.view(x.shape[0], self.n_active, self.transform.n_params)
        y_active, log_det = self.transform.fused(active, params, inverse)
        y = torch.cat([passive, y_active], dim=1).index_select(1, self.order)
        return y, log_det.sum(dim=1)

    def forward(self, z: Tensor, condition: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """z -> x and log|det dx/dz|."""
        return self._couple(z, condition, inverse=False)

    def inverse(self, x: Tensor, condition: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """x -> z and log|det dz/dx|."""
        return self._couple(x, condition, inverse=True)
