"""Stratified uniform points on the unit hypercube: equal hypercubes, equal numbers of points.

With the same number of points in every hypercube (n_h = N V_h), the plain average of the
weights f/q over all points IS the stratified estimate, and sum_h n_h s_h^2 / N^2 is its
variance (``WeightAccumulator.add(w, stratum)``). So a sampler that draws its uniform (or
latent) points this way keeps every weight as it was and drops the part of the variance that
lies between hypercubes, as VEGAS+ does in its y space.
"""

from __future__ import annotations

import math

import torch

__all__ = ["MIN_PER_HYPERCUBE", "choose_nstrat", "stratified_uniform"]

MIN_PER_HYPERCUBE = 2  # each hypercube needs two points for a variance


def choose_nstrat(
    neval: int, dim: int, neval_frac: float, max_nhcube: int, uniform: bool
) -> list[int]:
    """Strata per axis: as many hypercubes as (1 - neval_frac) * neval allows with
    ``MIN_PER_HYPERCUBE`` points each, at most ``max_nhcube``; axes get ns or ns + 1 strata
    (all ns if ``uniform``)."""
    target = max(1.0, min((1.0 - neval_frac) * neval / MIN_PER_HYPERCUBE, float(max_nhcube)))
    ns = max(1, int(target ** (1.0 / dim)))
    while (ns + 1) ** dim <= target:  # guard the float root against rounding down
        ns += 1
    k = 0 if uniform else int((math.log(target) - dim * math.log(ns)) / math.log1p(1.0 / ns))
    k = min(max(k, 0), dim)
    return [ns + 1] * k + [ns] * (dim - k)


def stratified_uniform(
    n: int, dim: int, generator: torch.Generator | None = None, device: str | torch.device = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """About ``n`` uniform points in [0, 1)^dim: ``(points, labels)``, float64 and int64.

    The cube is cut into as many equal hypercubes as give each at least two points
    (``choose_nstrat``); each gets the same number m = n // nhcube, labelled by its index
    (axis 0 fastest). The n - m nhcube points left over are stratified the same way on a
    coarser grid of their own, with labels after the first grid's, and so on down: every
    layer covers the whole cube with equal counts, so the plain average stays the stratified
    estimate, and no point is left unstratified (a single point left at the end is not drawn:
    it could carry no variance, so n - 1 points come back then; n = 1 gives its one point).
    The points come in random order: a prefix or a minibatch of them is spread over the whole
    cube, as plain uniform points are.
    """
    if n < MIN_PER_HYPERCUBE:  # nothing to stratify
        u = torch.rand(n, dim, generator=generator, device=device, dtype=torch.float64)
        return u, torch.zeros(n, dtype=torch.int64, device=device)
    layers, first_label, left = [], 0, n
    while left >= MIN_PER_HYPERCUBE:
        points, labels, nhcube = _equal_hypercubes(left, dim, generator, device)
        layers.append((points, labels + first_label))
        first_label += nhcube
        left -= len(points)
    points = torch.cat([p for p, _ in layers])
    labels = torch.cat([label for _, label in layers])
    order = torch.randperm(len(points), generator=generator, device=device)
    return points[order], labels[order]


def _equal_hypercubes(
    n: int, dim: int, generator: torch.Generator | None, device: str | torch.device
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """n // nhcube points in each of nhcube equal hypercubes, labelled 0..nhcube-1 in order;
    ``(points, labels, nhcube)``."""
    nstrat = choose_nstrat(n, dim, 0.0, n, False)
    nhcube = math.prod(nstrat)
    cube = torch.arange(nhcube, device=device).repeat_interleave(n // nhcube)
    strides = torch.tensor([math.prod(nstrat[:j]) for j in range(dim)], device=device)
    counts = torch.tensor(nstrat, device=device)
    corner = (cube[:, None] // strides) % counts
    u = torch.rand(len(cube), dim, generator=generator, device=device, dtype=torch.float64)
    return (corner + u) / counts, cube, nhcube
