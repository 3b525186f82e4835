"""Each flow is a bijection of [0,1]^d with the log-determinant it claims (autograd reference)."""

from __future__ import annotations

import torch
from flow_helpers import build, conditions


def test_log_det_matches_autograd_jacobian(kind, condition_dim):
    family, transform = kind
    dim = 3
    flow = build(family, transform, dim, condition_dim)
    z = torch.rand(4, dim, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    c = conditions(4, condition_dim)
    for i in range(z.shape[0]):
        ci = None if c is None else c[i : i + 1]
        x, log_det = flow(z[i : i + 1], ci)
        jac = torch.autograd.functional.jacobian(lambda v, ci=ci: flow(v[None], ci)[0][0], z[i])
        sign, reference = torch.linalg.slogdet(jac)
        assert sign > 0  # the map is increasing in every coordinate's own direction
        torch.testing.assert_close(log_det[0], reference, rtol=0, atol=1e-8)
        # and the inverse's log-det is the negative, at the same point
        _, inverse_log_det = flow.inverse(x, ci)
        torch.testing.assert_close(inverse_log_det[0], -reference, rtol=0, atol=1e-8)


def test_inverse_undoes_forward_and_back(kind, condition_dim):
    family, transform = kind
    dim = 4
    flow = build(family, transform, dim, condition_dim)
    gen = torch.Generator().manual_seed(5)
    c = conditions(500, condition_dim)
    with torch.no_grad():
        z = torch.rand(500, dim, generator=gen, dtype=torch.float64)
        x, log_det = flow(z, c)
        z_back, log_det_back = flow.inverse(x, c)
        torch.testing.assert_close(z_back, z, rtol=0, atol=1e-10)
        torch.testing.assert_close(log_det_back, -log_det, rtol=0, atol=1e-9)
        x = torch.rand(500, dim, generator=gen, dtype=torch.float64)
        torch.testing.assert_close(flow(flow.inverse(x, c)[0], c)[0], x, rtol=0, atol=1e-10)
    assert (z - x).abs().max() > 0.05  # the perturbed flow is far from the identity


def test_boundary_maps_to_itself(kind):
    family, transform = kind
    flow = build(family, transform, 2)
    corners = torch.tensor([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    with torch.no_grad():
        x, _ = flow(corners)
    torch.testing.assert_close(x, corners, rtol=0, atol=1e-12)


def test_fresh_flow_is_identity(kind):
    family, transform = kind
    flow = build(family, transform, 3, condition_dim=1, scale=0.0, hidden=(8,))
    z = torch.rand(50, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    with torch.no_grad():
        x, log_det = flow(z, torch.rand(50, 1))
    torch.testing.assert_close(x, z, rtol=0, atol=1e-12)
    torch.testing.assert_close(log_det, torch.zeros(50, dtype=torch.float64), rtol=0, atol=1e-12)


def test_float32_input_gives_float64_output(kind):
    family, transform = kind
    flow = build(family, transform, 2)
    x, log_det = flow(torch.rand(10, 2, generator=torch.Generator().manual_seed(4)))
    assert x.dtype == log_det.dtype == torch.float64
    assert flow.log_prob(x.float()).dtype == torch.float64
    assert all(p.dtype == torch.float32 for p in flow.parameters())


def test_dimension_one():
    for family in ("coupling", "maf", "iaf"):
        flow = build(family, "rqs", 1)
        z = torch.rand(200, 1, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
        x, log_det = flow(z)
        assert (x - z).abs().max() > 0.01  # learnable bins, moved away from identity
        torch.testing.assert_close(flow.inverse(x)[0], z, rtol=0, atol=1e-10)
        # 1-D: log-det is log dx/dz, check against autograd
        zz = z.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(flow(zz)[0].sum(), zz)
        torch.testing.assert_close(log_det, grad[:, 0].log(), rtol=0, atol=1e-10)


def test_condition_reaches_every_layer(kind):
    """Changing the condition alone changes the map, and each layer's network sees it."""
    family, transform = kind
    flow = build(family, transform, 3, condition_dim=2)
    z = torch.rand(20, 3, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    c = conditions(20, 2).requires_grad_(True)
    with torch.no_grad():
        assert (flow(z, c)[0] - flow(z, conditions(20, 2, seed=8))[0]).abs().max() > 1e-3
    for layer in flow.layers:
        out, log_det = layer(z, c)
        (grad,) = torch.autograd.grad(out.sum() + log_det.sum(), c)
        assert grad.abs().sum() > 0
