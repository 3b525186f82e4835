"""The Schwinger-model lattice target of the REINFORCE benchmark: the Wilson-Dirac determinant
against the free-field closed form, gauge invariance, and bad input."""

from __future__ import annotations

import math

import pytest
import torch


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_schwinger_free_field_determinant_matches_the_closed_form():
    from hepflow_toys.lattice import SchwingerModel, free_log_det, wilson_dirac

    for size, kappa in ((4, 0.25), (6, 0.2)):
        theta = torch.zeros(1, 2 * size * size, dtype=torch.float64)
        sign, log_abs = torch.linalg.slogdet(wilson_dirac(theta, size, kappa))
        assert float(log_abs[0]) == pytest.approx(free_log_det(size, kappa), rel=1e-12)
        assert abs(complex(sign[0]) - 1) < 1e-12  # det D > 0 at U = 1
        # log p at U = 1: no gauge action, 2 log det D
        log_p = SchwingerModel(size, kappa=kappa)(theta)
        assert float(log_p[0]) == pytest.approx(2 * free_log_det(size, kappa), rel=1e-12)


def test_schwinger_action_is_gauge_invariant_and_det_is_real():
    from hepflow_toys.lattice import SchwingerModel, wilson_dirac

    size, n = 4, 3
    gen = _gen(0)
    theta = 2 * math.pi * torch.rand(n, 2 * size * size, generator=gen, dtype=torch.float64)
    alpha = 2 * math.pi * torch.rand(n, size, size, generator=gen, dtype=torch.float64)
    links = theta.reshape(n, 2, size, size)
    moved = torch.stack(  # U_mu(x) -> e^{i alpha(x)} U_mu(x) e^{-i alpha(x + mu)}
        [links[:, mu] + alpha - alpha.roll(-1, dims=1 + mu) for mu in range(2)], dim=1
    )
    moved = torch.remainder(moved.reshape(n, -1), 2 * math.pi)
    model = SchwingerModel(size)
    before, after = model(theta / (2 * math.pi)), model(moved / (2 * math.pi))
    assert torch.allclose(before, after, rtol=1e-10, atol=1e-10)
    assert (before - model(torch.rand(n, 32, generator=gen, dtype=torch.float64))).abs().max() > 1
    # gamma_5 hermiticity, gamma_5 D gamma_5 = D^dagger, makes det D real
    det = torch.linalg.det(wilson_dirac(theta, size, 0.25))
    assert (det.imag.abs() < 1e-10 * det.abs()).all()


def test_schwinger_bad_input_is_a_clear_error():
    from hepflow_toys.lattice import SchwingerModel

    with pytest.raises(ValueError, match="kappa must be in"):
        SchwingerModel(4, kappa=0.7)
    with pytest.raises(ValueError, match=r"expected \(n, 32\)"):
        SchwingerModel(4)(torch.rand(2, 30, dtype=torch.float64))
