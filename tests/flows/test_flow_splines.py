"""The element-wise maps of [0, 1]: exact boundaries, inverse, derivative, and peer references
(zuko's rational-quadratic spline; numpy's piecewise-linear interpolation)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.special import softmax
from zuko.transforms import MonotonicRQSTransform

from hepflow.flows import TRANSFORMS, make_transform
from hepflow.flows.splines import MIN_BIN, MIN_DERIVATIVE, knots

BINS = 7


def _params(name: str, n: int, scale: float = 1.0, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    n_params = make_transform(name, BINS).n_params
    return scale * torch.randn(n, n_params, generator=gen, dtype=torch.float64)


def _points(n: int, seed: int = 1) -> torch.Tensor:
    return torch.rand(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_derivative_inverse_and_boundaries(name):
    transform = make_transform(name, BINS)
    params = _params(name, 400)
    x = _points(400).requires_grad_(True)
    y, log_slope = transform(x, params)
    (slope,) = torch.autograd.grad(y.sum(), x)
    torch.testing.assert_close(log_slope, slope.log(), rtol=0, atol=1e-10)
    x_back, log_slope_back = transform(y.detach(), params, inverse=True)
    torch.testing.assert_close(x_back, x.detach(), rtol=0, atol=1e-12)
    torch.testing.assert_close(log_slope_back, -log_slope.detach(), rtol=0, atol=1e-10)
    ends = torch.tensor([0.0, 1.0], dtype=torch.float64)
    for inverse in (False, True):
        out, _ = transform(ends, params[:2], inverse=inverse)
        torch.testing.assert_close(out, ends, rtol=0, atol=1e-14)


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_monotone_and_identity_at_zero(name):
    transform = make_transform(name, BINS)
    x = torch.linspace(0, 1, 2001, dtype=torch.float64)
    y, _ = transform(x, _params(name, 1).expand(2001, -1))
    assert bool((y.diff() > 0).all())
    y0, log_slope0 = transform(x, torch.zeros(2001, transform.n_params, dtype=torch.float64))
    torch.testing.assert_close(y0, x, rtol=0, atol=1e-14)
    torch.testing.assert_close(log_slope0, torch.zeros_like(x), rtol=0, atol=1e-14)


def test_rational_quadratic_matches_zuko():
    """Same knots, moved to zuko's [-B, B]: the spline is invariant under that affine map."""
    bound = 3.0
    params = _params("rqs", 300)
    x = _points(300)
    y, log_slope = make_transform("rqs", BINS)(x, params)
    _, xk = knots(params[:, :BINS])
    _, yk = knots(params[:, BINS : 2 * BINS])
    derivs = MIN_DERIVATIVE + torch.nn.functional.softplus(
        params[:, 2 * BINS :] + np.log(np.expm1(1 - MIN_DERIVATIVE))
    )
    zuko = MonotonicRQSTransform(
        torch.zeros(300, BINS, dtype=torch.float64),
        torch.zeros(300, BINS, dtype=torch.float64),
        torch.zeros(300, BINS - 1, dtype=torch.float64),
        bound=bound,
    )
    zuko.horizontal, zuko.vertical, zuko.derivatives = (
        bound * (2 * xk - 1),
        bound * (2 * yk - 1),
        derivs,
    )
    u, ladj = zuko.call_and_ladj(bound * (2 * x - 1))
    torch.testing.assert_close(y, (u / bound + 1) / 2, rtol=0, atol=1e-12)
    torch.testing.assert_close(log_slope, ladj, rtol=0, atol=1e-10)


def test_piecewise_linear_matches_numpy_interpolation():
    """Müller et al.'s piecewise-linear CDF: equal-width bins, masses softmax(params) with a
    floor; numpy.interp through the cumulative masses is the same function."""
    params = _params("linear", 50)
    x = _points(50)
    y, log_slope = make_transform("linear", BINS)(x, params)
    for i in range(50):
        mass = MIN_BIN / BINS + (1 - MIN_BIN) * softmax(params[i].numpy())
        cdf = np.concatenate([[0.0], np.cumsum(mass)])
        edges = np.linspace(0, 1, BINS + 1)
        assert y[i].item() == pytest.approx(np.interp(x[i].item(), edges, cdf), abs=1e-14)
        k = min(int(x[i].item() * BINS), BINS - 1)
        assert log_slope[i].item() == pytest.approx(np.log(BINS * mass[k]), abs=1e-13)
