"""Bad arguments fail early with a ValueError that names the argument and what is allowed."""

from __future__ import annotations

import pytest
import torch

from hepflow.errors import HepflowError
from hepflow.flows import FlowError, coupling_flow, made_flow


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (
            lambda: coupling_flow(3, transform="spline"),
            r"transform='spline'.*rqs, linear, quadratic",
        ),
        (lambda: made_flow(3, transform="nope"), r"transform='nope'.*rqs, linear, quadratic"),
        (lambda: coupling_flow(3, masking="random"), r"masking='random'.*binary, alternating"),
        (lambda: made_flow(3, mode="nice"), r"mode='nice'.*maf, iaf"),
        (lambda: coupling_flow(3, activation="sigmoidal"), r"activation='sigmoidal'.*relu"),
        (lambda: coupling_flow(0), r"dim=0 must be a positive integer"),
        (lambda: made_flow(2.5), r"dim=2.5 must be a positive integer"),
        (lambda: coupling_flow(3, bins=0), r"bins=0 must be a positive integer"),
        (lambda: coupling_flow(3, layers=0), r"layers=0 must be a positive integer"),
        (lambda: made_flow(3, condition_dim=-1), r"condition_dim=-1 must be a non-negative"),
        (lambda: coupling_flow(3, hidden=64), r"hidden=64 must be a sequence of positive ints"),
    ],
)
def test_bad_construction_arguments(build, match):
    with pytest.raises(ValueError, match=match) as info:
        build()
    assert isinstance(info.value, FlowError) and isinstance(info.value, HepflowError)


@pytest.fixture(scope="module")
def flow():
    return coupling_flow(3, condition_dim=2, hidden=(8,))


def test_wrong_point_dimension(flow):
    c = torch.rand(5, 2)
    with pytest.raises(ValueError, match=r"z has shape \(5, 4\); expected \(n, 3\)"):
        flow(torch.rand(5, 4), c)
    with pytest.raises(ValueError, match=r"x has shape \(3,\); expected \(n, 3\)"):
        flow.log_prob(torch.rand(3), c)
    with pytest.raises(ValueError, match=r"x has dtype torch.int64"):
        flow.inverse(torch.zeros(5, 3, dtype=torch.long), c)


def test_wrong_condition(flow):
    x = torch.rand(5, 3)
    with pytest.raises(ValueError, match=r"condition is required: a tensor \(n, 2\)"):
        flow.log_prob(x)
    with pytest.raises(ValueError, match=r"condition has shape \(5, 3\); expected \(5, 2\)"):
        flow.log_prob(x, torch.rand(5, 3))
    with pytest.raises(ValueError, match=r"condition has shape \(4, 2\); expected \(5, 2\)"):
        flow.sample(5, condition=torch.rand(4, 2))
    plain = coupling_flow(3, hidden=(8,))
    with pytest.raises(ValueError, match=r"condition was given but the flow has condition_dim=0"):
        plain(x, torch.rand(5, 2))


def test_bad_sample_size_and_points_outside(flow):
    with pytest.raises(ValueError, match=r"n=0 must be a positive integer"):
        flow.sample(0, condition=torch.rand(0, 2))
    with pytest.raises(ValueError, match=r"x has 1 points outside \[0, 1\]\^3"):
        flow.inverse(torch.tensor([[0.5, 1.5, 0.2]]), torch.rand(1, 2))
