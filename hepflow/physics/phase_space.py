"""Phase-space maps from the unit hypercube to momenta, each with its exact weight.

Convention: the weight is the Lorentz-invariant phase-space measure
dPhi_n = (2pi)^4 delta^4(P - sum p_i) prod_i d^3p_i / ((2pi)^3 2E_i) per unit volume of the
random numbers, so that the mean of ``weight`` over uniform x is the phase-space volume and a
cross section is mean(|M|^2 * weight) / flux. Maps take (N, d) float64 tensors on any device.
"""

from __future__ import annotations

import math

import torch

from .vectors import boost, mass, mass2

__all__ = [
    "breit_wigner",
    "check_momentum_conservation",
    "check_on_shell",
    "kallen",
    "massless_volume",
    "rambo",
    "two_body",
]


def kallen(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Kaellen function lambda(a, b, c) = a^2 + b^2 + c^2 - 2ab - 2ac - 2bc."""
    return a * a + b * b + c * c - 2 * (a * b + a * c + b * c)


def massless_volume(n: int, s: float) -> float:
    """Volume of massless n-body phase space at energy squared s (n >= 2).

    (2pi)^(4-3n) (pi/2)^(n-1) s^(n-2) / ((n-1)! (n-2)!)  [Kleiss, Stirling, Ellis, CPC 40 (1986) 359].
    """
    if n < 2:
        raise ValueError(f"n must be at least 2 for a phase-space volume, got {n}")
    return (
        (2 * math.pi) ** (4 - 3 * n)
        * (math.pi / 2) ** (n - 1)
        * s ** (n - 2)
        / (math.factorial(n - 1) * math.factorial(n - 2))
    )


def rambo(
    x: torch.Tensor, sqrt_s: float, masses: list[float] | tuple[float, ...] | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """RAMBO: n momenta in the centre-of-mass frame from x of shape (N, 4n).

    Kleiss, Stirling, Ellis, Comput. Phys. Commun. 40 (1986) 359: isotropic massless vectors
    with energies distributed as q0 exp(-q0) are boosted and scaled to total momentum
    (sqrt_s, 0, 0, 0). Massless, the map is flat: every point has the full volume
    ``massless_volume(n, s)`` as weight. With ``masses``, the momenta are rescaled by the
    xi that puts them on shell (Newton iteration) and the weight gets the paper's factor
    xi^(2n-3) prod(|k_i|/E_i) sqrt_s / sum(|k_i|^2/E_i). Returns momenta (N, n, 4), weight (N,).
    """
    if x.ndim != 2 or x.shape[1] % 4 or x.shape[1] < 8:
        raise ValueError(f"rambo takes x of shape (N, 4n) with n >= 2, got {tuple(x.shape)}")
    n_ev, n = x.shape[0], x.shape[1] // 4
    r = x.reshape(n_ev, n, 4)
    tiny = torch.finfo(x.dtype).tiny
    c = 2 * r[..., 0] - 1
    sin = torch.sqrt(torch.clamp(1 - c * c, min=0.0))
    f = 2 * math.pi * r[..., 1]
    q0 = -torch.log(torch.clamp(r[..., 2] * r[..., 3], min=tiny))
    q = torch.stack([q0, q0 * sin * torch.cos(f), q0 * sin * torch.sin(f), q0 * c], dim=-1)
    big_q = q.sum(1)
    m = mass(big_q)
    b = -big_q[:, 1:] / m[:, None]
    gamma = big_q[:, 0] / m
    a = 1 / (1 + gamma)
    xs = torch.as_tensor(sqrt_s, dtype=x.dtype, device=x.device) / m
    bq = (b[:, None, :] * q[..., 1:]).sum(-1)
    p0 = xs[:, None] * (gamma[:, None] * q[..., 0] + bq)
    pv = xs[:, None, None] * (
        q[..., 1:] + b[:, None, :] * q[..., :1] + (a[:, None] * bq)[..., None] * b[:, None, :]
    )
    p = torch.cat([p0[..., None], pv], dim=-1)
    s = float(sqrt_s) ** 2
    weight = torch.full((n_ev,), massless_volume(n, s), dtype=x.dtype, device=x.device)
    if masses is None or not any(masses):
        return p, weight
    return _rambo_masses(p, weight, float(sqrt_s), masses)


def _rambo_masses(
    p: torch.Tensor, weight: torch.Tensor, sqrt_s: float, masses
) -> tuple[torch.Tensor, torch.Tensor]:
    """Put massless RAMBO momenta on their mass shells, keeping the total (sqrt_s, 0)."""
    n = p.shape[1]
    if len(masses) != n:
        raise ValueError(f"rambo: {len(masses)} masses given for {n} momenta")
    if sum(masses) >= sqrt_s:
        raise ValueError(f"rambo: sqrt_s = {sqrt_s} is below the threshold sum(masses)")
    m2 = torch.as_tensor(masses, dtype=p.dtype, device=p.device) ** 2
    e = p[..., 0]
    xi = torch.full_like(e[:, 0], math.sqrt(1 - (sum(masses) / sqrt_s) ** 2))
    for _ in range(100):  # Newton on f(xi) = sum sqrt(m^2 + xi^2 E^2) - sqrt_s, convex
        root = torch.sqrt(m2 + (xi[:, None] * e) ** 2)
        f = root.sum(1) - sqrt_s
        xi = xi - f / (xi * (e * e / root).sum(1))
        if float(f.abs().max()) < 1e-14 * sqrt_s:
            break
    energy = torch.sqrt(m2 + (xi[:, None] * e) ** 2)
    k = torch.cat([energy[..., None], xi[:, None, None] * p[..., 1:]], dim=-1)
    kabs = xi[:, None] * e
    factor = xi ** (2 * n - 3) * (kabs / energy).prod(1) * sqrt_s / (kabs * kabs / energy).sum(1)
    return k, weight * factor


def two_body(
    x: torch.Tensor,
    parent: torch.Tensor,
    m1: float | torch.Tensor = 0.0,
    m2: float | torch.Tensor = 0.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Two-body decay parent -> p1 p2 from x (N, 2): cos(theta) = 2 x0 - 1, phi = 2 pi x1.

    The angles are those of p1 in the parent rest frame, measured from the lab axes (the
    parent is boosted along its own velocity, no rotation). Weight = |p*| / (4 pi M), the
    two-body phase space dPhi_2 = |p*| / (16 pi^2 M) dOmega times the Jacobian 4 pi of
    x -> Omega; zero below threshold. The daughter masses may be floats or (N,) tensors
    (sequential decays with a sampled intermediate mass). Returns p1, p2 (N, 4), weight (N,).
    """
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"two_body takes x of shape (N, 2), got {tuple(x.shape)}")
    big_m2 = mass2(parent)
    big_m = torch.sqrt(torch.clamp(big_m2, min=0.0))
    m1 = torch.as_tensor(m1, dtype=big_m2.dtype, device=big_m2.device).expand_as(big_m2)
    m2 = torch.as_tensor(m2, dtype=big_m2.dtype, device=big_m2.device).expand_as(big_m2)
    lam = kallen(big_m2, m1 * m1, m2 * m2)
    pstar = torch.sqrt(torch.clamp(lam, min=0.0)) / (2 * big_m)
    cos = 2 * x[:, 0] - 1
    sin = torch.sqrt(torch.clamp(1 - cos * cos, min=0.0))
    phi = 2 * math.pi * x[:, 1]
    vec = pstar[:, None] * torch.stack([sin * torch.cos(phi), sin * torch.sin(phi), cos], dim=-1)
    e1 = torch.sqrt(pstar * pstar + m1 * m1)
    e2 = torch.sqrt(pstar * pstar + m2 * m2)
    p1 = torch.cat([e1[:, None], vec], dim=-1)
    p2 = torch.cat([e2[:, None], -vec], dim=-1)
    beta = parent[:, 1:] / parent[:, :1]
    weight = torch.where(lam > 0, pstar / (4 * math.pi * big_m), torch.zeros_like(pstar))
    return boost(p1, beta), boost(p2, beta), weight


def breit_wigner(
    x: torch.Tensor, mass: float, width: float, s_min: float, s_max: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Invariant mass squared s in [s_min, s_max] from x (N,), flat in the Breit-Wigner angle.

    s = M^2 + M G tan(rho), rho uniform between the angles of s_min and s_max, so that a
    resonant propagator 1 / ((s - M^2)^2 + M^2 G^2) times the Jacobian
    ds/dx = (rho_max - rho_min) ((s - M^2)^2 + M^2 G^2) / (M G) is constant. Returns (s, ds/dx).
    """
    if mass <= 0 or width <= 0:
        raise ValueError(f"breit_wigner needs mass > 0 and width > 0, got {mass}, {width}")
    if not s_min < s_max:
        raise ValueError(f"breit_wigner needs s_min < s_max, got {s_min}, {s_max}")
    mg = mass * width
    rho_min = math.atan((s_min - mass * mass) / mg)
    rho_max = math.atan((s_max - mass * mass) / mg)
    rho = rho_min + x * (rho_max - rho_min)
    s = mass * mass + mg * torch.tan(rho)
    s = torch.clamp(s, min=s_min, max=s_max)
    jac = (rho_max - rho_min) * ((s - mass * mass) ** 2 + mg * mg) / mg
    return s, jac


def check_momentum_conservation(
    incoming: torch.Tensor, outgoing: torch.Tensor, rtol: float = 1e-12
) -> torch.Tensor:
    """Largest |sum p_in - sum p_out| per event relative to the total energy; raises if > rtol.

    incoming (N, k, 4), outgoing (N, m, 4). Returns the (N,) relative violations.
    """
    diff = incoming.sum(1) - outgoing.sum(1)
    scale = incoming[..., 0].sum(1).abs()
    viol = diff.abs().amax(-1) / scale
    worst = float(viol.max()) if viol.numel() else 0.0
    if worst > rtol:
        raise AssertionError(f"momentum not conserved: relative violation {worst:.3g} > {rtol}")
    return viol


def check_on_shell(
    p: torch.Tensor, masses: torch.Tensor | float, rtol: float = 1e-12
) -> torch.Tensor:
    """|p^2 - m^2| / E^2 per particle for p (..., 4); raises if any exceeds rtol."""
    m = torch.as_tensor(masses, dtype=p.dtype, device=p.device)
    viol = (mass2(p) - m * m).abs() / (p[..., 0] ** 2)
    worst = float(viol.max()) if viol.numel() else 0.0
    if worst > rtol:
        raise AssertionError(f"momenta off shell: relative violation {worst:.3g} > {rtol}")
    return viol
