"""Two hundred maximum-likelihood steps teach a flow a Gaussian bump in the unit square."""

from __future__ import annotations

import math

import pytest
import torch

from hepflow.flows import coupling_flow, made_flow

MEAN, SIGMA = torch.tensor([0.35, 0.6], dtype=torch.float64), 0.1


def _bump(n: int, gen: torch.Generator) -> torch.Tensor:
    """N(MEAN, SIGMA^2 I) restricted to the square (the cut removes < 1e-3 of the mass)."""
    x = MEAN + SIGMA * torch.randn(2 * n, 2, generator=gen, dtype=torch.float64)
    return x[((x > 0) & (x < 1)).all(1)][:n]


def _log_p(x: torch.Tensor) -> torch.Tensor:
    return -((x - MEAN) ** 2).sum(1) / (2 * SIGMA**2) - math.log(2 * math.pi * SIGMA**2)


@pytest.mark.slow  # ~5 s each alone, more on a loaded machine
@pytest.mark.parametrize(
    "make",
    [
        lambda: coupling_flow(2, hidden=(32, 32), layers=4),
        lambda: made_flow(2, hidden=(32, 32), layers=2, mode="maf"),
        lambda: coupling_flow(2, transform="quadratic", hidden=(32, 32), layers=4),
    ],
    ids=["coupling-rqs", "maf-rqs", "coupling-quadratic"],
)
def test_maximum_likelihood_learns_a_gaussian_bump(make):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        flow = make()
    gen = torch.Generator().manual_seed(1)
    test = _bump(4000, gen)
    with torch.no_grad():
        before = flow.log_prob(test).mean().item()
    optimizer = torch.optim.Adam(flow.parameters(), lr=1e-2)
    for _ in range(200):
        loss = -flow.log_prob(_bump(256, gen)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        gap = flow.log_prob(test) - _log_p(test)  # log q - log p: mean -> -KL(p || q) <= 0
    assert abs(before) < 1e-12  # a fresh flow is uniform
    # the bump's negative entropy is log(1 / (2 pi e sigma^2)) = 1.767 nats
    assert gap.mean() > -0.3  # within 0.3 nats of the truth: log-likelihood up from 0 to > 1.4
    assert gap.mean() < 3 * gap.std() / len(test) ** 0.5  # cannot beat the true density
