"""The 2-D U(1) lattice gauge theory with two flavours of Wilson fermions (Schwinger model).

An expensive target whose cost is dominated by the action, as in Białas, Korcyl and Stebel,
"Gradient estimators for normalising flows" (arXiv:2308.13294): every configuration needs the
determinant of a dense 2 L^2 x 2 L^2 complex Wilson-Dirac matrix. Points of the unit
hypercube [0, 1]^(2 L^2) are link angles theta = 2 pi x, ordered (direction mu, t, s); the
target is the log density (up to a constant)

    log p = -S_gauge + log det(D D^dagger) = -beta sum_P (1 - cos theta_P) + 2 log|det D|,

with the Wilson-Dirac operator in the hopping-parameter form (periodic in space,
antiperiodic in time for the fermions), gamma_0 = sigma_1, gamma_1 = sigma_2:

    D psi(x) = psi(x) - kappa sum_mu [(1 - gamma_mu) U_mu(x) psi(x + mu)
                                       + (1 + gamma_mu) U_mu(x - mu)^* psi(x - mu)].

D is built densely and differentiably in torch, so the same target serves the REINFORCE
estimator (no gradient of the target) and the reparameterisation one (gradient through
slogdet).
"""

from __future__ import annotations

import math

import torch

__all__ = ["SchwingerModel", "free_log_det", "gauge_action", "plaquette_angles", "wilson_dirac"]

_GAMMA = (
    torch.tensor([[0, 1], [1, 0]], dtype=torch.complex128),  # sigma_1
    torch.tensor([[0, -1j], [1j, 0]], dtype=torch.complex128),  # sigma_2
)
_ID2 = torch.eye(2, dtype=torch.complex128)


def _links(theta: torch.Tensor, size: int) -> torch.Tensor:
    """Angles (n, 2 L^2) -> (n, 2, L, L), checking the shape."""
    if theta.ndim != 2 or theta.shape[1] != 2 * size * size:
        raise ValueError(
            f"link angles have shape {tuple(theta.shape)}; expected (n, {2 * size * size}) "
            f"for an L = {size} lattice (two directions per site)"
        )
    return theta.reshape(-1, 2, size, size)


def plaquette_angles(theta: torch.Tensor, size: int) -> torch.Tensor:
    """theta_P(t, s) = th_0(t,s) + th_1(t+1,s) - th_0(t,s+1) - th_1(t,s), shape (n, L, L)."""
    th = _links(theta, size)
    t0, t1 = th[:, 0], th[:, 1]
    return t0 + t1.roll(-1, dims=1) - t0.roll(-1, dims=2) - t1


def gauge_action(theta: torch.Tensor, size: int, beta: float) -> torch.Tensor:
    """Wilson's plaquette action beta sum_P (1 - cos theta_P), shape (n,)."""
    return beta * (1 - torch.cos(plaquette_angles(theta, size))).sum(dim=(1, 2))


def _hopping_pattern(size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Where the hopping terms of D sit: flat matrix indices (16 V,), the link (16 V,) each
    term multiplies, whether it is the conjugated (backward) hop, and its constant factor
    -(1 -+ gamma_mu)_ab times the boundary sign."""
    volume = size * size
    site = torch.arange(volume).reshape(size, size)
    rows, cols, link, back, coef = [], [], [], [], []
    for mu in range(2):
        neighbour = site.roll(-1, dims=mu).reshape(-1)
        sign = torch.ones(size, size, dtype=torch.complex128)
        if mu == 0:
            sign[-1, :] = -1.0  # antiperiodic in time: hopping across t = L-1 -> 0
        sign = sign.reshape(-1)
        here = site.reshape(-1)
        for backward, proj in ((False, _ID2 - _GAMMA[mu]), (True, _ID2 + _GAMMA[mu])):
            for a in range(2):
                for b in range(2):
                    if proj[a, b] == 0:
                        continue
                    # forward: D[x a, (x+mu) b] ~ U_mu(x); backward: D[(x+mu) a, x b] ~ U_mu(x)^*
                    r, c = (neighbour, here) if backward else (here, neighbour)
                    rows.append(2 * r + a)
                    cols.append(2 * c + b)
                    link.append(mu * volume + here)
                    back.append(torch.full((volume,), backward))
                    coef.append(-proj[a, b] * sign)
    flat = torch.cat(rows) * (2 * volume) + torch.cat(cols)
    return flat, torch.cat(link), torch.cat(back), torch.cat(coef)


def wilson_dirac(theta: torch.Tensor, size: int, kappa: float) -> torch.Tensor:
    """The dense Wilson-Dirac matrices (n, 2V, 2V), complex128, index 2 * site + spin.

    Only the 2V diagonal and at most 16V hopping entries are non-zero; they are scattered into
    a zero matrix, which keeps the construction (and its gradient) cheap next to the
    determinant.
    """
    th = _links(theta, size).reshape(theta.shape[0], -1)
    n, volume = th.shape[0], size * size
    flat, link, back, coef = (t.to(theta.device) for t in _hopping_pattern(size))
    u = torch.polar(torch.ones_like(th), th)[:, link]
    u = torch.where(back, u.conj(), u)
    values = kappa * coef * u
    d = torch.zeros(n, (2 * volume) ** 2, dtype=torch.complex128, device=theta.device)
    d = d.index_add(1, flat, values)
    diag = torch.arange(2 * volume, device=theta.device) * (2 * volume + 1)
    d = d.index_add(1, diag, torch.ones(n, 2 * volume, dtype=d.dtype, device=d.device))
    return d.reshape(n, 2 * volume, 2 * volume)


def free_log_det(size: int, kappa: float) -> float:
    """log det D at U = 1, in closed form: the product over momenta (antiperiodic in time)
    of (1 - 2 kappa sum_mu cos p_mu)^2 + 4 kappa^2 sum_mu sin^2 p_mu."""
    total = 0.0
    for nt in range(size):
        p0 = 2 * math.pi * (nt + 0.5) / size
        for ns in range(size):
            p1 = 2 * math.pi * ns / size
            a = 1 - 2 * kappa * (math.cos(p0) + math.cos(p1))
            total += math.log(a * a + 4 * kappa**2 * (math.sin(p0) ** 2 + math.sin(p1) ** 2))
    return total


class SchwingerModel:
    """log p(x) of the two-flavour Schwinger model for x in [0, 1]^(2 L^2) (theta = 2 pi x).

    Returns a log density (``log_density=True`` in ``NISSampler.train``), not a density: exp
    of minus an action over- or underflows. The default couplings beta = 2, kappa = 0.25 are
    those of a small test lattice, not tuned to a physical point.
    """

    name = "schwinger"

    def __init__(self, size: int = 8, beta: float = 2.0, kappa: float = 0.25) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 2:
            raise ValueError(f"size (L) must be an integer >= 2, got {size!r}")
        if not beta >= 0:
            raise ValueError(f"beta must be >= 0, got {beta!r}")
        if not 0 <= kappa < 0.5:
            raise ValueError(f"kappa must be in [0, 0.5) (0: quenched), got {kappa!r}")
        self.size, self.beta, self.kappa = size, float(beta), float(kappa)
        self.dim = 2 * size * size

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        theta = 2 * math.pi * x.to(torch.float64)
        log_p = -gauge_action(theta, self.size, self.beta)
        if self.kappa > 0:
            _, log_abs = torch.linalg.slogdet(wilson_dirac(theta, self.size, self.kappa))
            log_p = log_p + 2 * log_abs
        return log_p
