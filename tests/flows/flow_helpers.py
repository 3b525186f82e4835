"""Helpers for the flow tests: every flow kind, built with fixed seeds and pushed far from
the identity (a fresh flow is exactly the identity, which would hide most bugs)."""

from __future__ import annotations

import torch

from hepflow.flows import Flow, coupling_flow, made_flow

TRANSFORMS = ("rqs", "linear", "quadratic")
FAMILIES = ("coupling", "maf", "iaf")
KINDS = [(f, t) for f in FAMILIES for t in TRANSFORMS]


def build(
    family: str,
    transform: str,
    dim: int,
    condition_dim: int = 0,
    seed: int = 1,
    scale: float = 0.2,
    **options,
) -> Flow:
    """A small flow of the given kind with every parameter shifted by N(0, scale^2) noise."""
    options.setdefault("hidden", (16, 16))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if family == "coupling":
            flow = coupling_flow(dim, transform=transform, condition_dim=condition_dim, **options)
        else:
            flow = made_flow(
                dim, transform=transform, condition_dim=condition_dim, mode=family, **options
            )
    gen = torch.Generator().manual_seed(seed + 1000)
    with torch.no_grad():
        for p in flow.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return flow


def conditions(n: int, condition_dim: int, seed: int = 7) -> torch.Tensor | None:
    if condition_dim == 0:
        return None
    return torch.rand(n, condition_dim, generator=torch.Generator().manual_seed(seed))


def shifted_lattice_integral(flow, m: int, shifts: int, condition=None) -> tuple[float, float]:
    """Integral of q over [0,1]^2 on an m x m lattice shifted by a uniform random offset:
    each shift is an unbiased estimate, so the mean over shifts has an honest standard error."""
    gen = torch.Generator().manual_seed(12)
    grid = torch.cartesian_prod(*2 * [torch.arange(m, dtype=torch.float64)])
    offsets = torch.rand(shifts, 1, 2, generator=gen, dtype=torch.float64)
    x = ((grid + offsets) / m).reshape(-1, 2)
    c = None if condition is None else condition.expand(x.shape[0], -1)
    with torch.no_grad():
        estimates = flow.log_prob(x, c).exp().view(shifts, -1).mean(1)
    return estimates.mean().item(), estimates.std().item() / shifts**0.5
