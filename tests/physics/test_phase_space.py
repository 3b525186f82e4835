"""Phase-space maps: RAMBO, two-body decays, Breit-Wigner, and the conservation checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from hepflow.physics import phase_space as ps

SQRT_S = 500.0


def uniform(n: int, d: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, d, generator=gen, dtype=torch.float64)


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_rambo_conserves_momentum_and_is_massless(n):
    p, w = ps.rambo(uniform(2000, 4 * n, seed=n), SQRT_S)
    assert p.shape == (2000, n, 4) and w.shape == (2000,)
    total = torch.tensor([[[SQRT_S, 0.0, 0.0, 0.0]]], dtype=torch.float64).expand(2000, 1, 4)
    # RAMBO's conformal boost can be large (nearly collinear random vectors): a few 1e-12
    ps.check_momentum_conservation(total, p, rtol=1e-10)
    ps.check_on_shell(p, 0.0, rtol=1e-10)
    assert (p[..., 0] > 0).all()


def test_massless_volume_closed_forms():
    s = SQRT_S**2
    # textbook values: Phi_2 = 1/(8 pi), Phi_3 = s / (256 pi^3)
    assert math.isclose(ps.massless_volume(2, s), 1 / (8 * math.pi), rel_tol=1e-15)
    assert math.isclose(ps.massless_volume(3, s), s / (256 * math.pi**3), rel_tol=1e-15)
    with pytest.raises(ValueError, match="at least 2"):
        ps.massless_volume(1, s)


@pytest.mark.parametrize("n", [2, 3])
def test_rambo_weight_is_the_analytic_volume(n):
    s = SQRT_S**2
    formula = (
        (2 * math.pi) ** (4 - 3 * n)
        * (math.pi / 2) ** (n - 1)
        * s ** (n - 2)
        / (math.factorial(n - 1) * math.factorial(n - 2))
    )
    _, w = ps.rambo(uniform(100, 4 * n, seed=10 + n), SQRT_S)
    assert torch.allclose(w, torch.full_like(w, formula), rtol=1e-15, atol=0)


def test_rambo_two_body_is_uniform_in_cos_theta_and_phi():
    p, _ = ps.rambo(uniform(20_000, 8, seed=20251123), SQRT_S)
    cos = (p[:, 0, 3] / p[:, 0, 0]).numpy()
    phi = torch.atan2(p[:, 0, 2], p[:, 0, 1]).numpy()
    for values, lo, hi in ((cos, -1, 1), (phi, -math.pi, math.pi)):
        counts, _ = np.histogram(values, bins=20, range=(lo, hi))
        chi2, pvalue = stats.chisquare(counts)
        assert pvalue > 1e-3, (chi2, pvalue)
    # back to back in the centre-of-mass frame (to 1e-11 of sqrt_s, RAMBO's rounding)
    assert torch.allclose(p[:, 0, 1:], -p[:, 1, 1:], rtol=0, atol=1e-11 * SQRT_S)


def test_rambo_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"\(N, 4n\)"):
        ps.rambo(torch.zeros(3, 6, dtype=torch.float64), SQRT_S)


def test_massive_rambo_two_body_weight_is_exact():
    m1, m2 = 173.0, 80.0
    p, w = ps.rambo(uniform(500, 8, seed=30), SQRT_S, masses=[m1, m2])
    total = torch.tensor([[[SQRT_S, 0.0, 0.0, 0.0]]], dtype=torch.float64).expand(500, 1, 4)
    ps.check_momentum_conservation(total, p, rtol=1e-12)
    ps.check_on_shell(p, torch.tensor([m1, m2], dtype=torch.float64), rtol=1e-11)
    s = SQRT_S**2
    lam = (s - (m1 + m2) ** 2) * (s - (m1 - m2) ** 2)
    expected = math.sqrt(lam) / (8 * math.pi * s)
    assert torch.allclose(w, torch.full_like(w, expected), rtol=1e-12, atol=0)


def test_massive_rambo_three_body_volume_matches_nested_two_body_maps():
    """Both estimates of the massive three-body volume agree within 4 combined sigma."""
    masses = [173.0, 80.0, 10.0]
    s = SQRT_S**2
    n = 200_000
    p, w = ps.rambo(uniform(n, 12, seed=31), SQRT_S, masses=masses)
    ps.check_on_shell(p, torch.tensor(masses, dtype=torch.float64), rtol=1e-10)
    # nested: s23 flat between its limits, Phi_3 = int ds23 / (2 pi) Phi_2(s; m1, m23) Phi_2(s23)
    x = uniform(n, 5, seed=32)
    lo, hi = (masses[1] + masses[2]) ** 2, (SQRT_S - masses[0]) ** 2
    s23 = lo + (hi - lo) * x[:, 0]
    total = torch.tensor([[SQRT_S, 0.0, 0.0, 0.0]], dtype=torch.float64).expand(n, 4)
    _, p23, w1 = ps.two_body(x[:, 1:3], total, masses[0], torch.sqrt(s23))
    _, _, w2 = ps.two_body(x[:, 3:5], p23, masses[1], masses[2])
    w_nested = (hi - lo) * w1 * w2 / (2 * math.pi)
    a, b = float(w.mean()), float(w_nested.mean())
    err = math.hypot(float(w.std()), float(w_nested.std())) / math.sqrt(n)
    assert abs(a - b) < 4 * err, (a, b, err)
    assert err / b < 5e-3
    assert b < ps.massless_volume(3, s)


def test_massive_rambo_rejects_bad_masses():
    with pytest.raises(ValueError, match="below the threshold"):
        ps.rambo(uniform(2, 8, seed=1), 100.0, masses=[60.0, 50.0])
    with pytest.raises(ValueError, match="3 masses given for 2"):
        ps.rambo(uniform(2, 8, seed=1), 100.0, masses=[1.0, 1.0, 1.0])


def test_two_body_massive_in_moving_frame():
    x = uniform(3000, 2, seed=3)
    gen = torch.Generator().manual_seed(4)
    m_parent = 300.0
    p3 = 200 * torch.randn(3000, 3, generator=gen, dtype=torch.float64)
    parent = torch.cat([torch.sqrt((p3**2).sum(-1, keepdim=True) + m_parent**2), p3], dim=-1)
    m1, m2 = 80.0, 120.0
    a, b, w = ps.two_body(x, parent, m1, m2)
    ps.check_momentum_conservation(parent[:, None], torch.stack([a, b], 1), rtol=1e-13)
    ps.check_on_shell(a, m1, rtol=1e-12)
    ps.check_on_shell(b, m2, rtol=1e-12)
    s = m_parent**2
    lam = (s - (m1 + m2) ** 2) * (s - (m1 - m2) ** 2)
    expected = math.sqrt(lam) / (8 * math.pi * s)  # full two-body volume
    assert torch.allclose(w, torch.full_like(w, expected), rtol=1e-13, atol=0)


def test_two_body_angles_in_rest_frame_and_threshold():
    parent = torch.tensor([[10.0, 0.0, 0.0, 0.0]] * 2, dtype=torch.float64)
    x = torch.tensor([[1.0, 0.25], [0.5, 0.0]], dtype=torch.float64)
    a, _, w = ps.two_body(x, parent)
    assert torch.allclose(a[0], torch.tensor([5.0, 0.0, 0.0, 5.0], dtype=torch.float64))
    assert torch.allclose(a[1], torch.tensor([5.0, 5.0, 0.0, 0.0], dtype=torch.float64))
    assert torch.allclose(w, torch.full_like(w, 1 / (8 * math.pi)))
    _, _, w_below = ps.two_body(x, parent, 6.0, 6.0)
    assert (w_below == 0).all()


def test_three_body_volume_from_nested_two_body_maps():
    """Phi_3 = int ds23/(2 pi) Phi_2(s; 0, m23) Phi_2(s23; 0, 0): the two-body maps, chained,
    reproduce RAMBO's analytic volume (Monte Carlo, within 4 sigma)."""
    s = SQRT_S**2
    x = uniform(200_000, 5, seed=5)
    s23 = s * x[:, 0]
    total = torch.tensor([[SQRT_S, 0.0, 0.0, 0.0]], dtype=torch.float64).expand(len(x), 4)
    p1, p23, w1 = ps.two_body(x[:, 1:3], total, 0.0, torch.sqrt(s23))
    p2, p3, w2 = ps.two_body(x[:, 3:5], p23)
    w = s * w1 * w2 / (2 * math.pi)
    # a light p23 (s23 -> 0) is boosted hard: rounding grows to a few 1e-12
    ps.check_momentum_conservation(total[:, None], torch.stack([p1, p2, p3], 1), rtol=1e-10)
    mean, err = float(w.mean()), float(w.std() / math.sqrt(len(w)))
    assert abs(mean - ps.massless_volume(3, s)) < 4 * err


def test_breit_wigner_flattens_the_resonance():
    mz, wz = 91.188, 2.441404
    s_min, s_max = 50.0**2, 150.0**2
    n = 100_000
    x = (torch.arange(n, dtype=torch.float64) + 0.5) / n  # midpoint rule
    s, jac = ps.breit_wigner(x, mz, wz, s_min, s_max)
    assert (s >= s_min).all() and (s <= s_max).all()
    assert (torch.diff(s) > 0).all()
    bw = 1 / ((s - mz**2) ** 2 + (mz * wz) ** 2)
    flat = bw * jac
    assert torch.allclose(flat, flat[0].expand_as(flat), rtol=1e-12)
    exact = (math.atan((s_max - mz**2) / (mz * wz)) - math.atan((s_min - mz**2) / (mz * wz))) / (
        mz * wz
    )
    assert math.isclose(float(flat.mean()), exact, rel_tol=1e-12)
    assert math.isclose(float(jac.mean()), s_max - s_min, rel_tol=1e-6)


def test_breit_wigner_rejects_bad_input():
    x = torch.rand(3, dtype=torch.float64)
    with pytest.raises(ValueError, match="width > 0"):
        ps.breit_wigner(x, 91.0, 0.0, 1.0, 2.0)
    with pytest.raises(ValueError, match="s_min < s_max"):
        ps.breit_wigner(x, 91.0, 2.0, 2.0, 1.0)


def test_checks_raise_on_violations():
    p = torch.tensor([[[10.0, 0.0, 0.0, 10.0]]], dtype=torch.float64)
    q = torch.tensor([[[10.0, 0.0, 0.1, 10.0]]], dtype=torch.float64)
    with pytest.raises(AssertionError, match="momentum not conserved"):
        ps.check_momentum_conservation(p, q)
    with pytest.raises(AssertionError, match="off shell"):
        ps.check_on_shell(p, 1.0)
    assert ps.check_on_shell(p, 0.0).max() == 0
