"""Fourier features in the coupling networks: what they feed the network, and a flow that
uses them stays an exact, normalised bijection (autograd Jacobians, lattice integral)."""

from __future__ import annotations

import math

import pytest
import torch
from flow_helpers import build, conditions, shifted_lattice_integral

from hepflow.flows import FlowError, FourierFeatures, coupling_flow


def test_features_are_the_inputs_then_sines_then_cosines():
    x = torch.tensor([[0.1, 0.25], [0.7, 1.0]])
    phases = torch.tensor([[0.1, 0.2, 0.25, 0.5], [0.7, 1.4, 1.0, 2.0]]) * 2 * math.pi
    expected = torch.cat([x, torch.sin(phases), torch.cos(phases)], dim=1)
    torch.testing.assert_close(FourierFeatures(2)(x), expected)
    assert FourierFeatures(2).n_out(2) == 10
    assert FourierFeatures(0)(x) is x


@pytest.mark.parametrize("condition_dim", [0, 2])
def test_log_det_matches_autograd_and_inverse_undoes_forward(condition_dim):
    # float64 networks: in float32 the rounded cotangents entering the networks' backward
    # move the reference log-det by ~5e-8, since the features raise the networks' slopes
    flow = build("coupling", "rqs", 3, condition_dim, fourier=3).double()
    z = torch.rand(200, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    c = conditions(200, condition_dim)
    for i in range(4):
        ci = None if c is None else c[i : i + 1]
        jac = torch.autograd.functional.jacobian(lambda v, ci=ci: flow(v[None], ci)[0][0], z[i])
        torch.testing.assert_close(
            flow(z[i : i + 1], ci)[1][0], torch.logdet(jac), atol=1e-8, rtol=0
        )
    with torch.no_grad():
        x, log_det = flow(z, c)
        back, log_det_back = flow.inverse(x, c)
    torch.testing.assert_close(back, z, rtol=0, atol=1e-10)
    torch.testing.assert_close(log_det_back, -log_det, rtol=0, atol=1e-9)
    assert (x - z).abs().max() > 0.05  # far from the identity


def test_the_density_integrates_to_one():
    """48^2 lattice, 64 random shifts: within 5 standard errors of 1."""
    flow = build("coupling", "rqs", 2, fourier=4, scale=0.2)
    with torch.no_grad():
        x = torch.rand(2000, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
        assert flow.log_prob(x).std() > 0.2  # far from the flat density
    integral, error = shifted_lattice_integral(flow, 48, 64)
    assert error < 5e-3
    assert abs(integral - 1) < 5 * error


def test_a_fresh_flow_with_features_is_still_the_identity():
    flow = coupling_flow(2, fourier=4, hidden=(8,))
    z = torch.rand(50, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    with torch.no_grad():
        x, log_det = flow(z)
    torch.testing.assert_close(x, z, rtol=0, atol=1e-12)
    assert bool((log_det.abs() < 1e-12).all())


@pytest.mark.parametrize("bad", [-1, 1.5, True, "4"])
def test_a_bad_number_of_frequencies_is_refused(bad):
    with pytest.raises(FlowError, match=r"fourier=.* must be an int >= 0"):
        coupling_flow(2, fourier=bad)


def test_fourier_max_inputs_feeds_only_the_networks_that_see_that_few_coordinates():
    # binary masks in 3-D: the layers transform x_1 (seeing x_0, x_2), then x_0 and x_2
    # (seeing x_1 alone)
    flow = coupling_flow(3, fourier=4, fourier_max_inputs=1, layers=4, hidden=(8,))
    seen = [int((~layer.mask).sum()) for layer in flow.layers]
    frequencies = [layer.features.frequencies for layer in flow.layers]
    assert seen == [2, 1, 2, 1]
    assert frequencies == [0, 4, 0, 4]
    every = coupling_flow(3, fourier=4, layers=4, hidden=(8,))
    assert [layer.features.frequencies for layer in every.layers] == [4, 4, 4, 4]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_a_bad_fourier_max_inputs_is_refused(bad):
    with pytest.raises(FlowError, match=r"fourier_max_inputs=.* must be a positive integer"):
        coupling_flow(2, fourier=4, fourier_max_inputs=bad)


def test_a_bad_number_of_frequencies_is_refused_where_no_network_would_get_them():
    with pytest.raises(FlowError, match=r"fourier=-1 must be an int >= 0"):
        coupling_flow(4, fourier=-1, fourier_max_inputs=1)
