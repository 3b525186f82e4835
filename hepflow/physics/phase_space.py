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
    "massless_propagator",
    "massless_three_body",
    "massless_volume",
    "rambo",
    "sequential_three_body",
    "two_body",
    "two_body_t_channel",
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


def _decay_momentum(
    parent: torch.Tensor, m1: float | torch.Tensor, m2: float | torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Parent mass M, daughter masses as (N,) tensors, the daughters' momentum |p*| in the
    parent rest frame (0 below threshold), and where the decay is above threshold."""
    big_m2 = mass2(parent)
    big_m = torch.sqrt(torch.clamp(big_m2, min=0.0))
    m1 = torch.as_tensor(m1, dtype=big_m2.dtype, device=big_m2.device).expand_as(big_m2)
    m2 = torch.as_tensor(m2, dtype=big_m2.dtype, device=big_m2.device).expand_as(big_m2)
    lam = kallen(big_m2, m1 * m1, m2 * m2)
    pstar = torch.sqrt(torch.clamp(lam, min=0.0)) / (2 * big_m)
    return big_m, m1, m2, pstar, lam > 0


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
    big_m, m1, m2, pstar, above = _decay_momentum(parent, m1, m2)
    cos = 2 * x[:, 0] - 1
    sin = torch.sqrt(torch.clamp(1 - cos * cos, min=0.0))
    phi = 2 * math.pi * x[:, 1]
    vec = pstar[:, None] * torch.stack([sin * torch.cos(phi), sin * torch.sin(phi), cos], dim=-1)
    e1 = torch.sqrt(pstar * pstar + m1 * m1)
    e2 = torch.sqrt(pstar * pstar + m2 * m2)
    p1 = torch.cat([e1[:, None], vec], dim=-1)
    p2 = torch.cat([e2[:, None], -vec], dim=-1)
    beta = parent[:, 1:] / parent[:, :1]
    weight = torch.where(above, pstar / (4 * math.pi * big_m), torch.zeros_like(pstar))
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


# -- mappings for multi-channel phase space -------------------------------------------------


def massless_propagator(
    x: torch.Tensor, s_min: float, s_max: float, s0: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Invariant s in [s_min, s_max] from x (N,) with density proportional to 1 / (s + s0).

    The map for a massless propagator (photon, soft/collinear gluon, t-channel): flat in
    log(s + s0), so |1/s|-like integrands times ds/dx = (s + s0) log((s_max + s0) / (s_min + s0))
    are flat. ``s0`` >= 0 regulates s_min = 0 (give s_min + s0 > 0). Returns (s, ds/dx).
    """
    if not s_min < s_max:
        raise ValueError(f"massless_propagator needs s_min < s_max, got {s_min}, {s_max}")
    if s0 < 0 or s_min + s0 <= 0:
        raise ValueError(
            f"massless_propagator needs s0 >= 0 and s_min + s0 > 0, got s_min={s_min}, s0={s0}; "
            "give a positive regulator s0 when s_min is 0"
        )
    a, b = math.log(s_min + s0), math.log(s_max + s0)
    s = torch.exp(a + x * (b - a)) - s0
    s = torch.clamp(s, min=s_min, max=s_max)
    return s, (s + s0) * (b - a)


def _axes(n: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Two unit vectors (N, 3) completing the unit vector n (N, 3) to a right-handed frame."""
    ref = torch.zeros_like(n)
    use_x = n[:, 0].abs() < 0.9
    ref[:, 0] = use_x.to(n.dtype)
    ref[:, 1] = (~use_x).to(n.dtype)
    e1 = torch.linalg.cross(ref, n)
    e1 = e1 / torch.linalg.vector_norm(e1, dim=-1, keepdim=True)
    return e1, torch.linalg.cross(n, e1)


def two_body_t_channel(
    x: torch.Tensor,
    parent: torch.Tensor,
    p_a: torch.Tensor,
    m1: float | torch.Tensor = 0.0,
    m2: float | torch.Tensor = 0.0,
    t0: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """parent -> p1 p2 with the invariant t = (p_a - p1)^2 mapped as a t-channel propagator.

    In the parent rest frame the polar angle of p1 is measured from p_a (an incoming momentum,
    e.g. a beam), and -t is drawn by ``massless_propagator`` from x0 with regulator t0 (density
    1 / (-t + t0): a massless exchange between p_a and p1); phi = 2 pi x1. Weight =
    d(-t)/dx0 / (16 pi M |p_a*|), the two-body phase space per unit x. Returns p1, p2, weight.
    """
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"two_body_t_channel takes x of shape (N, 2), got {tuple(x.shape)}")
    big_m, m1, m2, pstar, above = _decay_momentum(parent, m1, m2)
    beta = parent[:, 1:] / parent[:, :1]
    pa = boost(p_a, -beta)
    pa_abs = torch.linalg.vector_norm(pa[:, 1:], dim=-1)
    e1 = torch.sqrt(pstar * pstar + m1 * m1)
    # t = t_mid + 2 |p_a| |p1| cos: t_mid = m_a^2 + m1^2 - 2 E_a E1
    t_mid = mass2(pa) + m1 * m1 - 2 * pa[:, 0] * e1
    half = 2 * pa_abs * pstar
    tau_min, tau_max = -(t_mid + half), -(t_mid - half)
    lo = torch.log(tau_min + t0)
    span = torch.log(tau_max + t0) - lo
    tau = torch.exp(lo + x[:, 0] * span) - t0
    dtau = (tau + t0) * span
    cos = torch.clamp((-tau - t_mid) / torch.where(half > 0, half, torch.ones_like(half)), -1, 1)
    sin = torch.sqrt(torch.clamp(1 - cos * cos, min=0.0))
    phi = 2 * math.pi * x[:, 1]
    n = pa[:, 1:] / pa_abs[:, None]
    ex, ey = _axes(n)
    direction = (
        sin[:, None] * (torch.cos(phi)[:, None] * ex + torch.sin(phi)[:, None] * ey)
        + cos[:, None] * n
    )
    vec = pstar[:, None] * direction
    p1 = torch.cat([e1[:, None], vec], dim=-1)
    p2 = torch.cat([torch.sqrt(pstar * pstar + m2 * m2)[:, None], -vec], dim=-1)
    weight = torch.where(above, dtau / (16 * math.pi * big_m * pa_abs), torch.zeros_like(pstar))
    return boost(p1, beta), boost(p2, beta), weight


def sequential_three_body(
    x: torch.Tensor,
    parent: torch.Tensor,
    s23: torch.Tensor,
    masses: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sequential decay parent -> p1 + q, q -> p2 p3 with q^2 = s23 given, from x (N, 4).

    dPhi_3 = dPhi_2(P; p1, q) ds23 / (2 pi) dPhi_2(q; p2, p3): the weight returned is
    dPhi_2 dPhi_2 / (2 pi) per unit x; multiply by ds23/dx of whatever map drew s23 (flat,
    ``breit_wigner``, ``massless_propagator``). Returns momenta (N, 3, 4) and the weight (N,).
    """
    if x.ndim != 2 or x.shape[1] != 4:
        raise ValueError(f"sequential_three_body takes x of shape (N, 4), got {tuple(x.shape)}")
    m1, m2, m3 = masses
    p1, q, w1 = two_body(x[:, :2], parent, m1, torch.sqrt(torch.clamp(s23, min=0.0)))
    p2, p3, w2 = two_body(x[:, 2:], q, m2, m3)
    return torch.stack([p1, p2, p3], dim=1), w1 * w2 / (2 * math.pi)


def massless_three_body(
    x1: torch.Tensor, x2: torch.Tensor, angles: torch.Tensor, sqrt_s: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Three massless momenta in the centre-of-mass frame from their energy fractions.

    x_i = 2 E_i / sqrt_s for particles 1 and 2 (x3 = 2 - x1 - x2); the event plane is oriented
    by angles (N, 3) in [0, 1]: particle 1 along (cos beta = 2 a0 - 1, alpha = 2 pi a1), the
    plane turned by gamma = 2 pi a2 about it (a uniform rotation). dPhi_3 = s / (128 pi^3)
    dx1 dx2 per unit of the angles, so the weight is s / (128 pi^3) inside the Dalitz region
    (x_i <= 1, x1 + x2 >= 1) and 0 outside; multiply by d(x1, x2)/dx of the energy map.
    Returns momenta (N, 3, 4) and the weight (N,).
    """
    if angles.ndim != 2 or angles.shape[1] != 3:
        raise ValueError(f"massless_three_body takes angles (N, 3), got {tuple(angles.shape)}")
    x3 = 2 - x1 - x2
    inside = (x1 <= 1) & (x2 <= 1) & (x3 <= 1) & (x1 >= 0) & (x2 >= 0) & (x3 >= 0)
    e = 0.5 * sqrt_s
    # angle between 1 and 2: 1 - x3 = x1 x2 (1 - cos12) / 2
    den = torch.where(x1 * x2 > 0, x1 * x2, torch.ones_like(x1))
    cos12 = torch.clamp(1 - 2 * (1 - x3) / den, -1, 1)
    sin12 = torch.sqrt(torch.clamp(1 - cos12 * cos12, min=0.0))
    cb = 2 * angles[:, 0] - 1
    sb = torch.sqrt(torch.clamp(1 - cb * cb, min=0.0))
    al, ga = 2 * math.pi * angles[:, 1], 2 * math.pi * angles[:, 2]
    n = torch.stack([sb * torch.cos(al), sb * torch.sin(al), cb], dim=-1)
    th = torch.stack([cb * torch.cos(al), cb * torch.sin(al), -sb], dim=-1)
    ph = torch.stack([-torch.sin(al), torch.cos(al), torch.zeros_like(al)], dim=-1)
    e1 = torch.cos(ga)[:, None] * th + torch.sin(ga)[:, None] * ph
    v1 = (e * x1)[:, None] * n
    v2 = (e * x2)[:, None] * (cos12[:, None] * n + sin12[:, None] * e1)
    v3 = -(v1 + v2)
    p = torch.stack(
        [
            torch.cat([(e * x1)[:, None], v1], -1),
            torch.cat([(e * x2)[:, None], v2], -1),
            torch.cat([(e * x3)[:, None], v3], -1),
        ],
        dim=1,
    )
    s = sqrt_s * sqrt_s
    weight = torch.where(inside, torch.full_like(x1, s / (128 * math.pi**3)), torch.zeros_like(x1))
    return p, weight
