"""The float32 networks that output transform parameters: a plain MLP and MADE's masked MLP.

The last layer starts at zero so that a fresh flow is the identity (a flat sampler, as neural
importance sampling wants to start from).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import torch
from torch import Tensor, nn

from .errors import FlowError, check_choice

__all__ = ["ACTIVATIONS", "MLP", "MaskedMLP", "check_hidden", "made_masks"]

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
}


def check_hidden(hidden: Sequence[int]) -> tuple[int, ...]:
    """Hidden layer widths as a tuple of positive ints, else FlowError."""
    if isinstance(hidden, int) or not all(
        isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in hidden
    ):
        raise FlowError(f"hidden={hidden!r} must be a sequence of positive ints, e.g. (64, 64)")
    return tuple(hidden)


def _zero_last(modules: list[nn.Module]) -> list[nn.Module]:
    """Zero the last linear layer: zero parameters, so a fresh flow is the identity."""
    last = modules[-1]
    assert isinstance(last, nn.Linear)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return modules


def _layers(sizes: Sequence[int], activation: str) -> list[nn.Module]:
    check_choice("activation", activation, tuple(ACTIVATIONS))
    modules: list[nn.Module] = []
    for i, (a, b) in enumerate(pairwise(sizes)):
        modules.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            modules.append(ACTIVATIONS[activation]())
    return _zero_last(modules)


class MLP(nn.Sequential):
    """Fully connected network; with no inputs it is a learnable constant (the bias)."""

    def __init__(self, n_in: int, n_out: int, hidden: Sequence[int], activation: str = "relu"):
        sizes = [n_in, *hidden, n_out] if n_in > 0 else [1, n_out]
        super().__init__(*_layers(sizes, activation))
        self.n_in = n_in

    def _inputs(self, inputs: Tensor) -> Tensor:
        """The first layer's input: a column of zeros when the network has no inputs."""
        return inputs.new_zeros(inputs.shape[0], 1) if self.n_in == 0 else inputs

    def forward(self, inputs: Tensor) -> Tensor:
        return super().forward(self._inputs(inputs))

    def params_first(self, inputs: Tensor, n_params: int) -> Tensor:
        """The output (n, k * n_params), read as k blocks of n_params each, laid out as a
        contiguous (n_params, k, n) tensor: the parameter-first layout the splines work in.

        The last layer runs as W h^T with W's rows reordered, so that a copy of the weights
        (k * n_params rows) replaces a transposing copy of the output (n rows), forward and
        backward: at flow batch sizes that copy cost a third of a training step.
        """
        hidden = self._inputs(inputs)
        *body, last = self
        for layer in body:
            hidden = layer(hidden)
        k = last.out_features // n_params
        weight = last.weight.view(k, n_params, -1).transpose(0, 1).reshape(k * n_params, -1)
        bias = last.bias.view(k, n_params).T.reshape(-1, 1)
        return torch.addmm(bias, weight, hidden.T).view(n_params, k, -1)


def made_masks(
    degrees: Tensor, condition_dim: int, hidden: Sequence[int], n_params: int
) -> list[Tensor]:
    """Connectivity masks (out, in) so output block i sees only inputs of lower degree.

    ``degrees`` (d,) holds 1..d (the autoregressive order); condition inputs get degree 0 and
    are seen by every hidden unit. Hidden units cycle through degrees 0..d-1.
    """
    d = degrees.numel()
    previous = torch.cat([degrees, torch.zeros(condition_dim, dtype=torch.long)])
    masks = []
    for width in hidden:
        current = torch.arange(width) % d
        masks.append(current[:, None] >= previous[None, :])
        previous = current
    out = degrees.repeat_interleave(n_params)
    masks.append(out[:, None] > previous[None, :])
    return [m.float() for m in masks]


class _MaskedLinear(nn.Linear):
    def __init__(self, mask: Tensor):
        super().__init__(mask.shape[1], mask.shape[0])
        self.register_buffer("mask", mask)

    def forward(self, inputs: Tensor) -> Tensor:
        return nn.functional.linear(inputs, self.weight * self.mask, self.bias)


class MaskedMLP(nn.Sequential):
    """MADE (Germain et al. 2015): outputs (n, d * n_params), block i depends on inputs < i."""

    def __init__(
        self,
        degrees: Tensor,
        condition_dim: int,
        hidden: Sequence[int],
        n_params: int,
        activation: str = "relu",
    ):
        check_choice("activation", activation, tuple(ACTIVATIONS))
        masks = made_masks(degrees, condition_dim, hidden, n_params)
        modules: list[nn.Module] = []
        for i, mask in enumerate(masks):
            modules.append(_MaskedLinear(mask))
            if i < len(masks) - 1:
                modules.append(ACTIVATIONS[activation]())
        super().__init__(*_zero_last(modules))
