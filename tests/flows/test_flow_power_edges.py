"""PowerEdges (the Kumaraswamy layer) alone and at the latent end of a coupling flow: an exact
bijection of the cube with power laws at the faces, checked against closed forms and autograd."""

from __future__ import annotations

import pytest
import torch
from flow_helpers import build, shifted_lattice_integral

from hepflow.flows import FlowError, PowerEdges, coupling_flow


def _layer(log_a, log_b) -> PowerEdges:
    layer = PowerEdges(len(log_a))
    with torch.no_grad():
        layer.log_a.copy_(torch.tensor(log_a))
        layer.log_b.copy_(torch.tensor(log_b))
    return layer


def _points(n: int, dim: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_density_is_the_kumaraswamy_power_law():
    """a = 1/3, b = 1: x = z^(1/3), so q(x) = 3 x^2; b = 1/2, a = 1: q(x) = 2 (1 - x)."""
    layer = _layer([-torch.log(torch.tensor(3.0)).item(), 0.0], [0.0, -0.6931471805599453])
    x = _points(500, 2).clamp(1e-3, 1 - 1e-3)
    flow_log_q = layer.inverse(x)[1]
    expected = torch.log(3 * x[:, 0] ** 2) + torch.log(2 * (1 - x[:, 1]))
    torch.testing.assert_close(flow_log_q, expected, rtol=0, atol=1e-6)  # float32 exponents


@pytest.mark.parametrize("exponents", [([0.0, 0.0], [0.0, 0.0]), ([-1.2, 0.7], [0.9, -1.5])])
def test_log_det_matches_autograd_and_inverse_undoes_forward(exponents):
    layer = _layer(*exponents)
    z = _points(40, 2, seed=1)
    x, log_det = layer(z)
    for i in range(len(z)):
        jac = torch.autograd.functional.jacobian(lambda t: layer(t[None])[0][0], z[i])
        torch.testing.assert_close(log_det[i], torch.logdet(jac), rtol=0, atol=1e-9)
    back, log_det_inverse = layer.inverse(x)
    torch.testing.assert_close(back, z, rtol=0, atol=1e-10)
    torch.testing.assert_close(log_det_inverse, -log_det, rtol=0, atol=1e-9)


def test_faces_map_to_themselves_and_zero_exponents_are_the_identity():
    layer = _layer([-1.2, 0.7], [0.9, -1.5])
    corners = torch.tensor([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(layer(corners)[0], corners, rtol=0, atol=1e-12)
        torch.testing.assert_close(layer.inverse(corners)[0], corners, rtol=0, atol=1e-12)
        z = _points(100, 2)
        x, log_det = PowerEdges(2)(z)
    torch.testing.assert_close(x, z, rtol=0, atol=1e-15)
    assert bool((log_det == 0).all())


def test_coupling_flow_with_power_edges_is_a_normalised_bijection():
    flow = build("coupling", "rqs", 2, scale=0.3, power_edges=True)
    assert isinstance(flow.layers[0], PowerEdges)
    with torch.no_grad():
        # a, b < 1: the density vanishes at every face (a > 1 would make it diverge, which a
        # lattice integrates badly)
        flow.layers[0].log_a.copy_(torch.tensor([-0.8, -0.3]))
        flow.layers[0].log_b.copy_(torch.tensor([-0.4, -0.7]))
        z = _points(300, 2, seed=3)
        x, log_det = flow(z)
        back, log_det_inverse = flow.inverse(x)
        torch.testing.assert_close(back, z, rtol=0, atol=1e-9)
        torch.testing.assert_close(log_det_inverse, -log_det, rtol=0, atol=1e-8)
    # the density integrates to 1: a 64^2 lattice, 32 random shifts, within 5 errors
    integral, error = shifted_lattice_integral(flow, 64, 32)
    assert error < 3e-3
    assert abs(integral - 1) < 5 * error


def test_power_edges_must_be_a_flag():
    with pytest.raises(FlowError, match="power_edges"):
        coupling_flow(2, power_edges="yes")
