"""Coupling masks and the number of coupling layers that makes every output depend on every input.

``True`` marks the dimensions a layer transforms; the others condition the transformation.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .errors import check_choice

__all__ = ["MASKINGS", "coupling_masks", "dependence", "full_dependence_layers"]

MASKINGS = ("binary", "alternating", "checkerboard")


def _base_masks(dim: int, masking: str) -> list[Tensor]:
    """One period of masks: each pattern followed by its complement."""
    check_choice("masking", masking, MASKINGS)
    index = torch.arange(dim)
    if dim == 1:
        return [torch.ones(1, dtype=torch.bool)]
    if masking == "binary":  # i-flow / ZüNIS: bit b of the dimension index
        bits = max(1, math.ceil(math.log2(dim)))
        patterns = [((index >> b) & 1).bool() for b in range(bits)]
    else:
        patterns = [(index % 2).bool()]
    return [m for p in patterns for m in (p, ~p)]


def coupling_masks(dim: int, masking: str, layers: int) -> list[Tensor]:
    """``layers`` masks, cycling through the masking scheme's period."""
    base = _base_masks(dim, masking)
    return [base[i % len(base)] for i in range(layers)]


def dependence(masks: list[Tensor]) -> Tensor:
    """Boolean (d, d): which outputs depend on which inputs after these couplings."""
    dim = masks[0].numel()
    dep = torch.eye(dim, dtype=torch.bool)
    for mask in masks:
        seen = dep[~mask].any(0)
        dep = torch.where(mask[:, None], dep | seen[None, :], dep)
    return dep


def full_dependence_layers(dim: int, masking: str) -> int:
    """Smallest number of layers (at least 2) after which every output depends on every input."""
    base = _base_masks(dim, masking)
    layers = 2
    while not bool(dependence(coupling_masks(dim, masking, layers)).all()):
        layers += 1
        if layers > 4 * len(base):  # cannot happen for the schemes above
            raise RuntimeError(f"masking {masking!r} never couples all of dim={dim}")
    return layers
