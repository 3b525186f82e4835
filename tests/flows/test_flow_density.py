"""The flow's density q: normalised, consistent between sample and log_prob, reproducible."""

from __future__ import annotations

import pytest
import torch
from flow_helpers import FAMILIES, KINDS, build, conditions, shifted_lattice_integral

CASES = [(f, t, 0) for f, t in KINDS] + [(f, "rqs", 2) for f in FAMILIES]


@pytest.mark.parametrize(("family", "transform", "condition_dim"), CASES)
def test_density_integrates_to_one(family, transform, condition_dim):
    """48^2 lattice, 64 random shifts: within 5 standard errors of 1 (a dropped or wrong
    log-det term moves the integral by O(0.1); the standard errors are 1e-4 to 3e-3)."""
    depth = {} if family == "coupling" else {"layers": 2}  # MADE density: d passes per layer
    flow = build(family, transform, 2, condition_dim, scale=0.2, **depth)
    condition = None if condition_dim == 0 else torch.tensor([[0.3, 0.8]])
    with torch.no_grad():
        x = torch.rand(2000, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
        log_q = flow.log_prob(x, None if condition is None else condition.expand(2000, -1))
    assert log_q.std() > 0.2  # far from the flat density
    integral, error = shifted_lattice_integral(flow, 48, 64, condition)
    assert error < 5e-3
    assert abs(integral - 1) < 5 * error


def test_samples_inside_cube_and_log_q_matches_log_prob(kind, condition_dim):
    family, transform = kind
    flow = build(family, transform, 3, condition_dim)
    c = conditions(1000, condition_dim)
    with torch.no_grad():
        x, log_q = flow.sample(1000, torch.Generator().manual_seed(11), condition=c)
        assert x.dtype == log_q.dtype == torch.float64
        assert x.shape == (1000, 3) and log_q.shape == (1000,)
        assert bool(((x >= 0) & (x <= 1)).all())
        torch.testing.assert_close(flow.log_prob(x, c), log_q, rtol=0, atol=1e-9)


def test_same_seed_same_samples(kind):
    family, transform = kind
    flow = build(family, transform, 3)
    with torch.no_grad():
        a = flow.sample(100, torch.Generator().manual_seed(3))
        b = flow.sample(100, torch.Generator().manual_seed(3))
        c = flow.sample(100, torch.Generator().manual_seed(4))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_sample_is_differentiable_in_the_parameters(kind):
    family, transform = kind
    flow = build(family, transform, 2)
    x, log_q = flow.sample(64, torch.Generator().manual_seed(2))
    (x.sum() + log_q.sum()).backward()
    grads = [p.grad for p in flow.parameters()]
    assert all(g is not None for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0


def test_importance_weights_of_uniform_target_average_to_one(kind):
    """E_q[1 / q] = volume of the cube = 1: checks that sample's log q is the density of the
    points it returns (mean of 5000 weights, 5 standard errors)."""
    family, transform = kind
    flow = build(family, transform, 3)
    with torch.no_grad():
        _, log_q = flow.sample(5000, torch.Generator().manual_seed(21))
    w = torch.exp(-log_q)
    assert abs(w.mean().item() - 1) < 5 * w.std().item() / 5000**0.5


def test_log_prob_is_minus_infinity_outside_the_cube():
    flow = build("coupling", "rqs", 2)
    x = torch.tensor([[0.5, 0.5], [1.2, 0.5], [0.3, -0.1]], dtype=torch.float64)
    log_q = flow.log_prob(x)
    assert torch.isfinite(log_q[0]) and log_q[1:].eq(-torch.inf).all()


def test_state_dict_round_trip_reproduces_the_density(kind):
    """A trained flow is shipped to workers as a state dict (masks and orders included)."""
    family, transform = kind
    flow = build(family, transform, 3, condition_dim=1, seed=4)
    fresh = build(family, transform, 3, condition_dim=1, seed=5, scale=0.0)
    x = torch.rand(50, 3, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    c = torch.rand(50, 1, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        assert not torch.allclose(fresh.log_prob(x, c), flow.log_prob(x, c))
        fresh.load_state_dict(flow.state_dict())
        assert torch.equal(fresh.log_prob(x, c), flow.log_prob(x, c))
