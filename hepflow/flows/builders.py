"""Factories for the two flow families: coupling flows and MADE (MAF/IAF) flows."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .autoregressive import MODES, AutoregressiveLayer
from .coupling import CouplingLayer
from .errors import FlowError, check_choice
from .features import check_frequencies
from .flow import Flow
from .masks import MASKINGS, coupling_masks, full_dependence_layers
from .nets import check_hidden
from .power_edges import PowerEdges
from .transforms import make_transform

__all__ = ["coupling_flow", "made_flow"]


def _positive(name: str, value: object, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        kind = "non-negative" if allow_zero else "positive"
        raise FlowError(f"{name}={value!r} must be a {kind} integer")
    return value


def _frequencies(mask: torch.Tensor, fourier: int, max_inputs: int | None) -> int:
    """The Fourier frequencies of the network of a layer with this mask (True: transformed)."""
    seen = int((~mask).sum())
    return fourier if max_inputs is None or seen <= max_inputs else 0


def coupling_flow(
    dim: int,
    *,
    transform: str = "rqs",
    bins: int = 10,
    layers: int | None = None,
    hidden: Sequence[int] = (64, 64),
    condition_dim: int = 0,
    masking: str = "binary",
    activation: str = "relu",
    power_edges: bool = False,
    fourier: int = 0,
    fourier_max_inputs: int | None = None,
    compile: bool = False,
) -> Flow:
    """Coupling flow on [0,1]^dim; ``layers=None``: fewest layers (>= 2) coupling every pair.

    ``power_edges`` puts a ``PowerEdges`` layer at the latent end, so that the density can
    vanish or diverge as a power of the distance to each face (splines alone go linearly).
    ``fourier`` = K feeds the coupling networks sin and cos of 2 pi k x, k = 1..K, beside x
    (``FourierFeatures``), so that they can follow targets that oscillate across the cube;
    with ``fourier_max_inputs`` = m only the networks that see at most m coordinates get them.
    The modes such a network can resolve grow as (2K)^m: with one coordinate the features
    only speed up learning, with several they let a network fit the sample's noise across
    coordinates (BENCHMARKS.md, "Fourier features where a network sees one coordinate").
    ``compile`` runs the whole flow through ``torch.compile`` (``Flow``): a training step in
    0.6 of the time of the splines' torch code, 0.65-1.0 of that of their CPU kernels
    (``spline_kernels``), after a one-off compilation of 17-77 s."""
    _positive("dim", dim)
    _positive("condition_dim", condition_dim, allow_zero=True)
    check_choice("masking", masking, MASKINGS)
    if not isinstance(power_edges, bool):
        raise FlowError(f"power_edges={power_edges!r} must be true or false")
    element = make_transform(transform, bins)
    hidden = check_hidden(hidden)
    n_layers = full_dependence_layers(dim, masking) if layers is None else layers
    _positive("layers", n_layers)
    check_frequencies(fourier)
    if fourier_max_inputs is not None:
        _positive("fourier_max_inputs", fourier_max_inputs)
    blocks = [
        CouplingLayer(
            mask,
            element,
            hidden,
            condition_dim,
            activation,
            _frequencies(mask, fourier, fourier_max_inputs),
        )
        for mask in coupling_masks(dim, masking, n_layers)
    ]
    if power_edges:
        blocks.insert(0, PowerEdges(dim))
    return Flow(blocks, dim, condition_dim, compile)


def made_flow(
    dim: int,
    *,
    transform: str = "rqs",
    bins: int = 10,
    layers: int = 4,
    hidden: Sequence[int] = (64, 64),
    condition_dim: int = 0,
    mode: str = "maf",
    activation: str = "relu",
    compile: bool = False,
) -> Flow:
    """Masked autoregressive flow; the dimension order is reversed from one layer to the next.
    ``compile`` as for ``coupling_flow``."""
    _positive("dim", dim)
    _positive("condition_dim", condition_dim, allow_zero=True)
    _positive("layers", layers)
    check_choice("mode", mode, MODES)
    element = make_transform(transform, bins)
    hidden = check_hidden(hidden)
    forward_order = torch.arange(dim)
    blocks = [
        AutoregressiveLayer(
            forward_order if i % 2 == 0 else forward_order.flip(0),
            element,
            hidden,
            condition_dim,
            mode,
            activation,
        )
        for i in range(layers)
    ]
    return Flow(blocks, dim, condition_dim, compile)
