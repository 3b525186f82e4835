"""Four-vector kinematics and Lorentz boosts."""

from __future__ import annotations

import math

import pytest
import torch

from hepflow.physics import vectors as v


def random_momenta(n: int, masses: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    p3 = 50 * torch.randn(n, 3, generator=gen, dtype=torch.float64)
    e = torch.sqrt((p3**2).sum(-1) + masses**2)
    return torch.cat([e[:, None], p3], dim=-1)


def test_basic_kinematics_on_known_vector():
    p = torch.tensor([[5.0, 3.0, 0.0, 0.0], [10.0, 0.0, 6.0, 8.0]], dtype=torch.float64)
    assert torch.allclose(v.mass2(p), torch.tensor([16.0, 0.0], dtype=torch.float64))
    assert torch.allclose(v.mass(p), torch.tensor([4.0, 0.0], dtype=torch.float64))
    assert torch.allclose(v.pt(p), torch.tensor([3.0, 6.0], dtype=torch.float64))
    assert torch.allclose(v.phi(p), torch.tensor([0.0, math.pi / 2], dtype=torch.float64))
    assert v.eta(p)[0] == 0.0
    assert math.isclose(float(v.eta(p)[1]), math.asinh(8 / 6), rel_tol=1e-15)
    assert math.isclose(float(v.rapidity(p)[1]), 0.5 * math.log(18 / 2), rel_tol=1e-15)
    assert math.isclose(float(v.p3_abs(p)[1]), 10.0, rel_tol=1e-15)


def test_delta_phi_wraps_and_delta_r():
    a = torch.tensor([[1.0, math.cos(3.0), math.sin(3.0), 0.0]], dtype=torch.float64)
    b = torch.tensor([[1.0, math.cos(-3.0), math.sin(-3.0), 0.0]], dtype=torch.float64)
    assert math.isclose(float(v.delta_phi(a, b).abs()[0]), 2 * math.pi - 6.0, rel_tol=1e-12)
    assert math.isclose(float(v.delta_r(a, b)[0]), 2 * math.pi - 6.0, rel_tol=1e-12)


def test_boost_keeps_masses_and_products():
    gen = torch.Generator().manual_seed(1)
    masses = torch.rand(1000, generator=gen, dtype=torch.float64) * 100
    p = random_momenta(1000, masses, gen)
    q = random_momenta(1000, torch.zeros(1000, dtype=torch.float64), gen)
    beta = (torch.rand(1000, 3, generator=gen, dtype=torch.float64) - 0.5) * 1.1
    pb, qb = v.boost(p, beta), v.boost(q, beta)
    scale = p[:, 0] ** 2 + pb[:, 0] ** 2
    assert ((v.mass2(pb) - masses**2).abs() / scale).max() < 1e-13
    assert (
        (v.dot(pb, qb) - v.dot(p, q)).abs() / (p[:, 0] * q[:, 0] + pb[:, 0] * qb[:, 0])
    ).max() < 1e-13
    back = v.boost(pb, -beta)
    assert torch.allclose(back, p, rtol=1e-12, atol=1e-10)


def test_boost_of_rest_vector_gives_velocity_and_zero_beta_is_identity():
    rest = torch.tensor([[2.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    beta = torch.tensor([[0.6, 0.0, 0.0]], dtype=torch.float64)
    out = v.boost(rest, beta)
    assert torch.allclose(out, torch.tensor([[2.5, 1.5, 0.0, 0.0]], dtype=torch.float64))
    p = torch.tensor([[3.0, 1.0, 2.0, -1.0]], dtype=torch.float64)
    assert torch.equal(v.boost(p, torch.zeros(1, 3, dtype=torch.float64)), p)


def test_boost_to_rest_frame():
    gen = torch.Generator().manual_seed(2)
    masses = 1 + torch.rand(500, generator=gen, dtype=torch.float64) * 50
    frame = random_momenta(500, masses, gen)
    at_rest = v.boost_to_rest_frame(frame, frame)
    assert torch.allclose(at_rest[:, 0], masses, rtol=1e-12)
    assert (at_rest[:, 1:].abs().amax(-1) / frame[:, 0]).max() < 1e-12
    # two back-to-back daughters of the frame add up to (m, 0, 0, 0) there
    d1 = random_momenta(500, torch.zeros(500, dtype=torch.float64), gen)
    d2 = frame - d1
    total = v.boost_to_rest_frame(d1, frame) + v.boost_to_rest_frame(d2, frame)
    assert torch.allclose(total, at_rest, rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("dtype", [torch.float64])
def test_batched_shapes(dtype):
    p = torch.ones(3, 5, 4, dtype=dtype)
    p[..., 0] = 2.0
    assert v.mass2(p).shape == (3, 5)
    assert v.boost(p, torch.zeros(3, 5, 3, dtype=dtype)).shape == (3, 5, 4)
