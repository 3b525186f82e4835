"""The multi-channel phase-space mappings: each one, averaged over uniform x, gives the analytic
massless three-body volume s / (256 pi^3) (Kleiss-Stirling-Ellis), and every momentum it makes
is on shell and conserves the total; the propagator maps have the density they claim."""

from __future__ import annotations

import math

import pytest
import torch

from hepflow.physics.phase_space import (
    breit_wigner,
    check_momentum_conservation,
    check_on_shell,
    massless_propagator,
    massless_three_body,
    massless_volume,
    sequential_three_body,
    two_body,
    two_body_t_channel,
)
from hepflow.physics.vectors import mass2

SQRT_S = 200.0
S = SQRT_S**2
N = 200_000


def _uniform(n: int, d: int, seed: int) -> torch.Tensor:
    return torch.rand(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _beams(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    e = SQRT_S / 2
    p1 = torch.tensor([e, 0.0, 0.0, e], dtype=torch.float64).expand(n, 4)
    p2 = torch.tensor([e, 0.0, 0.0, -e], dtype=torch.float64).expand(n, 4)
    return p1, p2


def _check_volume(weight: torch.Tensor, volume: float, n_sigma: float = 4.0) -> None:
    mean = float(weight.mean())
    err = float(weight.std()) / math.sqrt(weight.numel())
    assert abs(mean - volume) < n_sigma * err, (mean, err, volume)
    assert err < 0.02 * volume  # the test has the power to see a 10% error


def _flat_s(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return S * x, torch.full_like(x, S)


def _bw_s(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return breit_wigner(x, 91.188, 2.4414, 0.0, S)


def _photon_s(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return massless_propagator(x, 0.0, S, 1.0)


@pytest.mark.parametrize("s_map", [_flat_s, _bw_s, _photon_s], ids=["flat", "bw", "photon"])
def test_sequential_three_body_volume_and_kinematics(s_map):
    x = _uniform(N, 5, 1)
    p1, p2 = _beams(N)
    s23, jac = s_map(x[:, 0])
    p, w = sequential_three_body(x[:, 1:], p1 + p2, s23)
    _check_volume(w * jac, massless_volume(3, S))
    # pairs down to s23 ~ 1e-4 GeV^2 are boosted with gamma ~ 1e4: float64 keeps ~1e-8
    check_momentum_conservation(torch.stack([p1, p2], 1), p, rtol=1e-8)
    check_on_shell(p, 0.0, rtol=1e-8)
    assert torch.allclose(mass2(p[:, 1] + p[:, 2]), s23, rtol=1e-9, atol=1e-9 * S)


def test_t_channel_volume_and_kinematics():
    x = _uniform(N, 5, 2)
    p1, p2 = _beams(N)
    s_ll, jac = _flat_s(x[:, 0])
    # particle 3 (massless) against the pair, t = (p2 - p3)^2 mapped
    p3, q, w1 = two_body_t_channel(x[:, 1:3], p1 + p2, p2, 0.0, torch.sqrt(s_ll), t0=100.0)
    p4, p5, w2 = two_body(x[:, 3:], q)
    w = w1 * w2 * jac / (2 * math.pi)
    _check_volume(w, massless_volume(3, S))
    out = torch.stack([p3, p4, p5], 1)
    check_momentum_conservation(torch.stack([p1, p2], 1), out, rtol=1e-10)
    check_on_shell(out, 0.0, rtol=1e-10)


def test_t_channel_samples_t_with_the_propagator_density():
    """-t = -(p_a - p1)^2 is distributed as 1 / (-t + t0): log(-t + t0) is uniform."""
    n = 50_000
    x = _uniform(n, 2, 3)
    p1, p2 = _beams(n)
    t0 = 5.0
    q, _, _ = two_body_t_channel(x, p1 + p2, p2, 0.0, 0.0, t0=t0)
    tau = -mass2(p2 - q)
    u = torch.log(tau + t0)
    lo, hi = math.log(t0), math.log(S + t0)
    expected = lo + x[:, 0] * (hi - lo)
    assert torch.allclose(u, expected, atol=1e-9)


def test_t_channel_with_a_flat_regulator_is_the_plain_two_body_map():
    """With t0 huge the t map is flat in cos theta: weights equal two_body's |p*| / (4 pi M)."""
    n = 1000
    x = _uniform(n, 2, 4)
    p1, p2 = _beams(n)
    _, _, w = two_body_t_channel(x, p1 + p2, p2, 0.0, 30.0, t0=1e12)
    _, _, w_flat = two_body(x, p1 + p2, 0.0, 30.0)
    assert torch.allclose(w, w_flat, rtol=1e-6)


@pytest.mark.parametrize("mapped", [False, True])
def test_massless_three_body_volume_and_kinematics(mapped):
    x = _uniform(N, 5, 5)
    if mapped:  # 1 - x_i drawn as 1 / (y + y0) on [0, 1], as the e+e- -> q q~ g channels do
        y1, j1 = massless_propagator(x[:, 0], 0.0, 1.0, 0.01)
        y2, j2 = massless_propagator(x[:, 1], 0.0, 1.0, 0.01)
        x1, x2, jac = 1 - y1, 1 - y2, j1 * j2
    else:
        x1, x2, jac = x[:, 0], x[:, 1], torch.ones(N, dtype=torch.float64)
    p, w = massless_three_body(x1, x2, x[:, 2:], SQRT_S)
    _check_volume(w * jac, massless_volume(3, S))
    inside = w > 0
    p1, p2 = _beams(N)
    check_momentum_conservation(torch.stack([p1, p2], 1)[inside], p[inside], rtol=1e-10)
    # massless to rounding of the largest momenta (not of a soft particle's own E^2)
    assert float(mass2(p[inside]).abs().max()) < 1e-12 * S
    assert torch.allclose(2 * p[inside][:, 0, 0] / SQRT_S, x1[inside], rtol=1e-10)


def test_massless_three_body_orientation_is_isotropic():
    """The direction of particle 1 is uniform on the sphere: <cos theta> = 0, <cos^2> = 1/3."""
    n = 40_000
    x = _uniform(n, 5, 6)
    p, _ = massless_three_body(0.6 + 0.3 * x[:, 0], 0.9 + 0.1 * x[:, 1], x[:, 2:], SQRT_S)
    for k in range(3):
        c = p[:, k, 3] / torch.linalg.vector_norm(p[:, k, 1:], dim=-1)
        assert abs(float(c.mean())) < 4 * math.sqrt(1 / 3 / n)
        # var(cos^2) = 1/5 - 1/9 = 4/45
        assert abs(float((c * c).mean()) - 1 / 3) < 4 * math.sqrt(4 / 45 / n)


def test_massless_propagator_rejects_a_divergent_range():
    with pytest.raises(ValueError, match="regulator"):
        massless_propagator(torch.rand(3, dtype=torch.float64), 0.0, 1.0, 0.0)
