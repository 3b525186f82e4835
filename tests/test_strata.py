"""Stratified uniform points (hepflow.strata): equal hypercubes with equal counts."""

from __future__ import annotations

import math

import pytest
import torch

from hepflow.stats import WeightAccumulator
from hepflow.strata import choose_nstrat, stratified_uniform


@pytest.mark.parametrize(("n", "dim"), [(1000, 1), (1000, 2), (12_345, 3), (4096, 5), (100, 8)])
def test_every_hypercube_gets_the_same_number_of_points_inside_it(n, dim):
    """Layer after layer: the finest grid choose_nstrat allows for the points still to place,
    the same count in each of its hypercubes, until at most one point is left."""
    points, labels = stratified_uniform(n, dim, torch.Generator().manual_seed(0))
    assert points.dtype == torch.float64 and labels.dtype == torch.int64
    assert ((points >= 0) & (points < 1)).all()
    counts = torch.bincount(labels)
    first, left = 0, n
    while left >= 2:
        nstrat = choose_nstrat(left, dim, 0.0, left, False)
        nhcube = math.prod(nstrat)
        layer = (labels >= first) & (labels < first + nhcube)
        assert (counts[first : first + nhcube] == left // nhcube).all() and left // nhcube >= 2
        # each point lies in the hypercube its label names (axis 0 fastest)
        strides = torch.tensor([math.prod(nstrat[:j]) for j in range(dim)])
        corner = ((labels[layer] - first)[:, None] // strides) % torch.tensor(nstrat)
        assert torch.equal((points[layer] * torch.tensor(nstrat)).floor().long(), corner)
        first, left = first + nhcube, left - nhcube * (left // nhcube)
    assert len(counts) == first and len(points) == n - left


def test_no_point_is_left_unstratified():
    """1e5 points in 4-D: 47,250 hypercubes of 2 leave 5,500 points, which the next layers
    stratify too instead of drawing them over the whole cube."""
    points, labels = stratified_uniform(100_000, 4, torch.Generator().manual_seed(0))
    counts = torch.bincount(labels)
    assert len(points) == 100_000 and int(counts.min()) >= 2 and int(counts.max()) <= 3
    assert int((labels < 47_250).sum()) == 94_500 and len(counts) > 47_250


def test_the_points_come_in_random_order():
    """Training cuts a batch into minibatches: each slice must cover the cube, not a slab."""
    points, labels = stratified_uniform(20_000, 3, torch.Generator().manual_seed(0))
    for part in points.split(2000):
        assert ((part.mean(0) - 0.5).abs() < 0.03).all()  # 4.8 sigma of a uniform mean
    assert not bool((labels[1:] >= labels[:-1]).all())


def test_a_lone_leftover_point_is_not_drawn():
    # 2 hypercubes of 2 at n = 5 leave one point over, which could carry no variance
    points, labels = stratified_uniform(5, 1, torch.Generator().manual_seed(0))
    assert len(points) == 4 and torch.equal(torch.bincount(labels), torch.tensor([2, 2]))
    # but a request for one point gets it (a channel's share may be a single point)
    point, label = stratified_uniform(1, 3, torch.Generator().manual_seed(0))
    assert point.shape == (1, 3) and label.tolist() == [0]


def test_the_stratified_error_is_honest_and_smaller_than_plain():
    """f = exp(-8 |x - 0.3|^2) in 2-D: over 400 replicas the spread of the stratified means
    matches the error they report (400 replicas know a std to 3.5%; the band is 4 sigma), the
    means are unbiased within 4 sigma, and the error is about 5x below plain sampling's."""
    g = torch.Generator().manual_seed(1)
    means, errors, plain = [], [], []
    for _ in range(400):
        x, labels = stratified_uniform(1000, 2, g)
        f = torch.exp(-8 * ((x - 0.3) ** 2).sum(1))
        acc = WeightAccumulator()
        acc.add(f, labels)
        est = acc.estimate()
        means.append(est.mean)
        errors.append(math.sqrt(est.variance))
        plain.append(float(f.std() / math.sqrt(len(f))))
    means_t = torch.tensor(means, dtype=torch.float64)
    spread, reported = float(means_t.std()), sum(errors) / len(errors)
    assert abs(spread / reported - 1) < 4 * 0.035, (spread, reported)
    exact = (
        math.sqrt(math.pi / 8) / 2 * (math.erf(math.sqrt(8) * 0.7) + math.erf(math.sqrt(8) * 0.3))
    ) ** 2
    assert abs(float(means_t.mean()) - exact) < 4 * spread / math.sqrt(len(means))
    assert reported < 0.25 * sum(plain) / len(plain)  # 0.19 measured
