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
    (axis 0 fastest). The n - m nhcube left over are drawn over the whole cube as one more
    stratum, labelled nhcube; a single leftover point is not drawn (it could carry no
    variance), so n - 1 points come back then. The points come in random order: a prefix or
    a minibatch of them is spread over the whole cube, as plain uniform points are.
    """
    nstrat = choose_nstrat(n, dim, 0.0, n, False)
    nhcube = math.prod(nstrat)
    per_cube = n // nhcube
    left = n - per_cube * nhcube
    left = 0 if left == 1 else left
    cube = torch.arange(nhcube, device=device).repeat_interleave(per_cube)
    strides = torch.tensor([math.prod(nstrat[:j]) for j in range(dim)], device=device)
    counts = torch.tensor(nstrat, device=device)
    corner = (cube[:, None] // strides) % counts
    n_drawn = per_cube * nhcube + left
    u = torch.rand(n_drawn, dim, generator=generator, device=device, dtype=torch.float64)
    points = torch.cat([(corner + u[: len(cube)]) / counts, u[len(cube) :]])
    labels = torch.cat([cube, torch.full((left,), nhcube, device=device)])
    order = torch.randperm(n_drawn, generator=generator, device=device)
    return points[order], labels[order]
