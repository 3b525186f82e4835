"""Shared helpers of the io plugin tests: a varied EventBatch and a strict comparison.

Imported by the test modules beside it (pytest puts this folder on sys.path)."""

from __future__ import annotations

from pathlib import Path

import torch

import hepflow

DATA = Path(__file__).resolve().parent.parent / "data" / "lhe"
RUN_INFO = {
    "cross_section": {"value": 1.2345678901234567, "error": 0.0123456789, "unit": "pb"},
    "max_weight": 3.5,
}


def make_events(n: int = 9, seed: int = 0, variations: bool = True) -> hepflow.EventBatch:
    """Events of 3 to 6 particles with awkward floats (full 17 digits), negative weights,
    weight variations with ids that are not identifiers, and the four LHE extras."""
    g = torch.Generator().manual_seed(seed)
    counts = torch.randint(3, 7, (n,), generator=g)
    p = int(counts.sum())

    def real(*shape: int, scale: float = 1.0) -> torch.Tensor:
        return torch.randn(*shape, generator=g, dtype=torch.float64) * scale

    wv = {"mur=0.5 muf=1": real(n), "1002": real(n) * 1e-7} if variations else {}
    return hepflow.EventBatch(
        n_particles=counts,
        pdg_id=torch.randint(-6, 25, (p,), generator=g),
        status=torch.randint(-1, 3, (p,), generator=g),
        mothers=torch.randint(0, 3, (p, 2), generator=g),
        color=torch.randint(0, 505, (p, 2), generator=g),
        momentum=real(p, 4, scale=50.0),
        weight=real(n),
        mass=torch.rand(p, generator=g, dtype=torch.float64),
        spin=torch.randint(-1, 2, (p,), generator=g).to(torch.float64),
        weight_variations=wv,
        extras={
            "process_id": torch.randint(1, 3, (n,), generator=g),
            "scale": torch.rand(n, generator=g, dtype=torch.float64) * 100,
            "alpha_qed": torch.full((n,), 1 / 127.9, dtype=torch.float64),
            "alpha_s": torch.rand(n, generator=g, dtype=torch.float64) * 0.2,
        },
    )


def assert_same_events(a: hepflow.EventBatch, b: hepflow.EventBatch) -> None:
    """Every column equal bit for bit, same optional columns, same names in the same order."""
    for name in ("n_particles", "pdg_id", "status", "mothers", "color", "momentum", "weight"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        assert torch.equal(x, y), name
    for name in ("mass", "spin"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            assert torch.equal(x, y), name
    for attr in ("weight_variations", "extras"):
        x, y = getattr(a, attr), getattr(b, attr)
        assert list(x) == list(y), attr
        for k in x:
            assert x[k].dtype == y[k].dtype, (attr, k)
            assert torch.equal(x[k], y[k]), (attr, k)
