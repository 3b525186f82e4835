"""The log map onto the cut Dalitz triangle: region, exact Jacobian, flattened poles."""

from __future__ import annotations

import math

import pytest
import torch

from hepflow.physics import LogDalitzTriangle

Y_MIN = 0.01


def _grid(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Midpoints of an n x n grid on the unit square, flattened."""
    mid = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    u1, u2 = torch.meshgrid(mid, mid, indexing="ij")
    return u1.reshape(-1), u2.reshape(-1)


def test_points_fill_exactly_the_cut_triangle():
    u = torch.rand(200_000, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    y1, y2, jac = LogDalitzTriangle(Y_MIN)(u[:, 0], u[:, 1])
    y3 = 1 - y1 - y2
    tol = 1e-12
    assert bool((y1 >= Y_MIN - tol).all() and (y2 >= Y_MIN - tol).all())
    assert bool((y3 >= Y_MIN - tol).all())
    assert bool((jac > 0).all())
    # the corners of the triangle are reached: each invariant spans [y_min, 1 - 2 y_min]
    for y in (y1, y2, y3):
        assert float(y.min()) < 1.5 * Y_MIN
        assert float(y.max()) > 0.9 * (1 - 2 * Y_MIN)


@pytest.mark.parametrize("y_min", [0.01, 0.1])
def test_jacobian_integrates_to_the_triangle_area(y_min):
    """int jac du1 du2 = area {y1, y2 >= y_min, y1 + y2 <= 1 - y_min} = (1 - 3 y_min)^2 / 2
    (midpoint rule on a fine grid: the Jacobian is smooth in u)."""
    _, _, jac = LogDalitzTriangle(y_min)(*_grid(1500))
    assert float(jac.mean()) == pytest.approx((1 - 3 * y_min) ** 2 / 2, rel=2e-5)


def test_density_is_one_over_y1_y2_up_to_the_table():
    """jac / (y1 y2) is the constant int dy1 dy2 / (y1 y2) over the triangle wherever the
    tabulated marginal resolves B(a): within 0.1% for 99% of the square, within 2% in the
    last knot intervals (the corner where B vanishes)."""
    tri = LogDalitzTriangle(Y_MIN)
    y1, y2, jac = tri(*_grid(1000))
    ratio = jac / (y1 * y2)
    # the normalisation: int over the triangle of dy1 dy2 / (y1 y2), by the same grid
    norm = float(ratio.median())
    spread = (ratio / norm - 1).abs()
    assert float(torch.quantile(spread, 0.99)) < 1e-3
    assert float(spread.max()) < 2e-2
    # the pole integral against a direct 1-D quadrature over a of B(a)
    a = torch.linspace(0, math.log((1 - 2 * Y_MIN) / Y_MIN), 200_001, dtype=torch.float64)
    b = torch.log(torch.clamp((1 - Y_MIN) / Y_MIN - torch.exp(a), min=1.0))
    assert norm == pytest.approx(float(torch.trapezoid(b, a)), rel=1e-4)


def test_bad_arguments_are_refused():
    for y_min in (0.0, -0.1, 1 / 3, 0.5):
        with pytest.raises(ValueError, match="y_min"):
            LogDalitzTriangle(y_min)
    with pytest.raises(ValueError, match="knots"):
        LogDalitzTriangle(0.01, knots=0)
