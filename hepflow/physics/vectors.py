"""Batched four-vectors in torch: kinematics on (..., 4) tensors (E, px, py, pz), metric (+,-,-,-).

Everything works on whole batches at once, on any device, in the input's dtype (float64 for
physics): phase-space maps, matrix elements and cuts all start from these few functions.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "boost",
    "boost_to_rest_frame",
    "delta_phi",
    "delta_r",
    "dot",
    "eta",
    "mass",
    "mass2",
    "p3_abs",
    "phi",
    "pt",
    "rapidity",
]


def dot(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Minkowski product p.q = p0 q0 - p.q over the last axis."""
    return p[..., 0] * q[..., 0] - (p[..., 1:] * q[..., 1:]).sum(-1)


def mass2(p: torch.Tensor) -> torch.Tensor:
    """Invariant mass squared p.p (may be slightly negative for massless vectors from rounding)."""
    return dot(p, p)


def mass(p: torch.Tensor) -> torch.Tensor:
    """Invariant mass sqrt(max(p.p, 0)): negative rounding of massless vectors clips to 0."""
    return torch.sqrt(torch.clamp(mass2(p), min=0.0))


def p3_abs(p: torch.Tensor) -> torch.Tensor:
    """Length of the three-momentum."""
    return torch.linalg.vector_norm(p[..., 1:], dim=-1)


def pt(p: torch.Tensor) -> torch.Tensor:
    """Transverse momentum with respect to the beam (z) axis."""
    return torch.hypot(p[..., 1], p[..., 2])


def eta(p: torch.Tensor) -> torch.Tensor:
    """Pseudorapidity asinh(pz / pT): +-inf along the beam axis."""
    return torch.asinh(p[..., 3] / pt(p))


def rapidity(p: torch.Tensor) -> torch.Tensor:
    """Rapidity 0.5 log((E + pz) / (E - pz))."""
    return 0.5 * torch.log((p[..., 0] + p[..., 3]) / (p[..., 0] - p[..., 3]))


def phi(p: torch.Tensor) -> torch.Tensor:
    """Azimuth in (-pi, pi]."""
    return torch.atan2(p[..., 2], p[..., 1])


def delta_phi(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Azimuthal difference wrapped into [-pi, pi)."""
    d = phi(p) - phi(q)
    return torch.remainder(d + math.pi, 2 * math.pi) - math.pi


def delta_r(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Distance sqrt(Delta eta^2 + Delta phi^2) used by isolation and jet cuts."""
    return torch.hypot(eta(p) - eta(q), delta_phi(p, q))


def boost(p: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """Boost p by the velocity beta (..., 3), |beta| < 1: a particle at rest gets velocity beta.

    Uses the closed form p' = (gamma (E + b.p), p + ((gamma - 1)/b^2 (b.p) + gamma E) b); for
    beta = 0 the vector comes back unchanged (no division by zero).
    """
    b2 = (beta * beta).sum(-1)
    gamma = 1.0 / torch.sqrt(1.0 - b2)
    bp = (beta * p[..., 1:]).sum(-1)
    safe_b2 = torch.where(b2 > 0, b2, torch.ones_like(b2))
    coef = torch.where(b2 > 0, (gamma - 1.0) / safe_b2, torch.zeros_like(b2))
    e = gamma * (p[..., 0] + bp)
    vec = p[..., 1:] + (coef * bp + gamma * p[..., 0]).unsqueeze(-1) * beta
    return torch.cat([e.unsqueeze(-1), vec], dim=-1)


def boost_to_rest_frame(p: torch.Tensor, frame: torch.Tensor) -> torch.Tensor:
    """Boost p into the rest frame of the time-like vector ``frame`` (frame becomes (m,0,0,0))."""
    beta = frame[..., 1:] / frame[..., :1]
    return boost(p, -beta)
