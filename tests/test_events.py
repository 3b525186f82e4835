"""The containers that cross the contracts: EventBatch, PointBatch, WeightedBatch."""

from __future__ import annotations

import re

import awkward as ak
import numpy as np
import pytest
import torch

from hepflow.errors import HepflowError
from hepflow.events import EventBatch, PointBatch, WeightedBatch

COUNTS = [3, 2, 4, 1]  # events of different multiplicity in one batch


def _jagged(counts=COUNTS, *, seed=0, optional=True) -> EventBatch:
    """Particle j of event i has pdg_id 100 i + j, so alignment is checkable after any operation."""
    gen = torch.Generator().manual_seed(seed)
    n_part = sum(counts)
    event = torch.repeat_interleave(torch.arange(len(counts)), torch.tensor(counts))
    within = torch.cat([torch.arange(c) for c in counts])
    kwargs = {}
    if optional:
        kwargs = {
            "mass": torch.rand(n_part, generator=gen, dtype=torch.float64),
            "spin": torch.full((n_part,), 9.0, dtype=torch.float64),
            "weight_variations": {"muR2": torch.arange(len(counts), dtype=torch.float64) * 2},
            "extras": {"scale": torch.arange(len(counts), dtype=torch.float64) + 91.0},
        }
    return EventBatch(
        n_particles=torch.tensor(counts, dtype=torch.int64),
        pdg_id=100 * event + within,
        status=torch.where(within < 2, -1, 1),
        mothers=torch.stack([within, within + 1], 1),
        color=torch.stack([501 + within, 0 * within], 1),
        momentum=torch.rand(n_part, 4, generator=gen, dtype=torch.float64),
        weight=torch.arange(len(counts), dtype=torch.float64) + 0.5,
        **kwargs,
    )


def _fields(ev: EventBatch) -> dict:
    return {k: getattr(ev, k) for k in ev.__dataclass_fields__}


# -- construction and validation ------------------------------------------------------------------
def test_lengths_offsets_and_event_index():
    ev = _jagged()
    assert len(ev) == 4
    assert ev.offsets.tolist() == [0, 3, 5, 9, 10]
    assert ev.particle_event_index().tolist() == [0, 0, 0, 1, 1, 2, 2, 2, 2, 3]
    assert ev.device == torch.device("cpu")


@pytest.mark.parametrize(
    ("column", "bad"),
    [
        ("pdg_id", torch.zeros(9, dtype=torch.int64)),
        ("status", torch.zeros(10, 1, dtype=torch.int64)),
        ("mothers", torch.zeros(10, 3, dtype=torch.int64)),
        ("color", torch.zeros(10, dtype=torch.int64)),
        ("momentum", torch.zeros(10, 3, dtype=torch.float64)),
        ("weight", torch.zeros(10, dtype=torch.float64)),
        ("mass", torch.zeros(4, dtype=torch.float64)),
        ("spin", torch.zeros(11, dtype=torch.float64)),
    ],
)
def test_a_column_of_the_wrong_shape_is_named(column, bad):
    fields = _fields(_jagged())
    fields[column] = bad
    msg = f"EventBatch column {column} has shape {tuple(bad.shape)}, expected"
    with pytest.raises(HepflowError, match=re.escape(msg)):
        EventBatch(**fields)


def test_named_columns_of_the_wrong_length_are_named():
    good = _jagged()
    with pytest.raises(HepflowError, match=r"extras\['scale'\]"):
        EventBatch(**{**_fields(good), "extras": {"scale": torch.zeros(10)}})
    with pytest.raises(HepflowError, match=r"weight_variations\['muR2'\]"):
        EventBatch(**{**_fields(good), "weight_variations": {"muR2": torch.zeros(3)}})


def test_from_regular_flattens_fixed_multiplicity_events():
    n, p = 5, 3
    gen = torch.Generator().manual_seed(1)
    momentum = torch.rand(n, p, 4, generator=gen, dtype=torch.float64)
    mass = torch.rand(n, p, generator=gen, dtype=torch.float64)
    ev = EventBatch.from_regular(
        pdg_id=torch.tensor([21, 21, 25]),  # (p,) broadcast to every event
        status=torch.tensor([-1, -1, 1]),
        mothers=torch.tensor([[0, 0], [0, 0], [1, 2]]),
        color=torch.tensor([[501, 502], [502, 501], [0, 0]]).expand(n, p, 2),  # (N, p, 2)
        momentum=momentum,
        weight=torch.full((n,), 0.25, dtype=torch.float64),
        mass=mass,
        extras={"scale": torch.full((n,), 125.0, dtype=torch.float64)},
    )
    assert len(ev) == n
    assert ev.n_particles.tolist() == [p] * n
    assert ev.n_particles.dtype == torch.int64
    assert ev.pdg_id.tolist() == [21, 21, 25] * n
    assert ev.status.tolist() == [-1, -1, 1] * n
    assert ev.mothers.tolist() == [[0, 0], [0, 0], [1, 2]] * n
    assert ev.color.tolist() == [[501, 502], [502, 501], [0, 0]] * n
    for i in range(n):
        torch.testing.assert_close(ev.momentum[3 * i : 3 * i + 3], momentum[i], rtol=0, atol=0)
        torch.testing.assert_close(ev.mass[3 * i : 3 * i + 3], mass[i], rtol=0, atol=0)
    assert ev.spin is None
    assert ev.extras["scale"].tolist() == [125.0] * n


# -- operations -----------------------------------------------------------------------------------
def test_select_keeps_particles_aligned_with_their_events():
    ev = _jagged()
    kept = ev.select(torch.tensor([True, False, True, False]))
    assert kept.n_particles.tolist() == [3, 4]
    # every particle of a kept event comes along, in order, and nothing else
    assert kept.pdg_id.tolist() == [0, 1, 2, 200, 201, 202, 203]
    pmask = torch.tensor([True] * 3 + [False] * 2 + [True] * 4 + [False])
    for name in ("status", "mothers", "color", "momentum", "mass", "spin"):
        assert torch.equal(getattr(kept, name), getattr(ev, name)[pmask]), name
    assert kept.weight.tolist() == [0.5, 2.5]
    assert kept.weight_variations["muR2"].tolist() == [0.0, 4.0]
    assert kept.extras["scale"].tolist() == [91.0, 93.0]


def test_select_from_a_cut_on_particles():
    """A typical cut: keep events whose leading particle has E > 0.5, computed per particle."""
    ev = _jagged(counts=[2, 5, 1, 3, 4, 2], seed=3)
    first = ev.offsets[:-1]
    mask = ev.momentum[first, 0] > 0.5
    kept = ev.select(mask)
    assert len(kept) == int(mask.sum())
    events = (kept.pdg_id // 100).tolist()
    expected = [i for i in range(len(ev)) if mask[i] for _ in range(int(ev.n_particles[i]))]
    assert events == expected
    assert torch.all(kept.momentum[kept.offsets[:-1], 0] > 0.5)


def test_select_nothing_and_everything():
    ev = _jagged()
    none = ev.select(torch.zeros(4, dtype=torch.bool))
    assert len(none) == 0 and none.pdg_id.numel() == 0 and none.offsets.tolist() == [0]
    assert torch.equal(ev.select(torch.ones(4, dtype=torch.bool)).momentum, ev.momentum)


def test_concat_joins_event_wise():
    a, b = _jagged(seed=1), _jagged(counts=[2, 2], seed=2)
    c = EventBatch.concat([a, b])
    assert c.n_particles.tolist() == [*COUNTS, 2, 2]
    assert c.offsets.tolist() == [0, 3, 5, 9, 10, 12, 14]
    assert torch.equal(c.momentum, torch.cat([a.momentum, b.momentum]))
    assert torch.equal(c.weight, torch.cat([a.weight, b.weight]))
    assert c.extras["scale"].tolist() == [91.0, 92.0, 93.0, 94.0, 91.0, 92.0]
    assert torch.equal(c.select(torch.tensor([0, 0, 0, 0, 1, 1]).bool()).momentum, b.momentum)


def test_concat_refuses_mismatched_columns():
    with pytest.raises(HepflowError, match="at least one"):
        EventBatch.concat([])
    with pytest.raises(HepflowError, match="optional columns"):
        EventBatch.concat([_jagged(), _jagged(optional=False)])
    plain = _jagged(optional=False)
    other = EventBatch(**{**_fields(plain), "extras": {"alpha_s": torch.zeros(4)}})
    with pytest.raises(HepflowError, match="named columns"):
        EventBatch.concat([plain, other])


def test_with_weights_returns_a_copy():
    ev = _jagged()
    new = ev.with_weights(ev.weight * 2, muF2=ev.weight * 3)
    assert new.weight.tolist() == [1.0, 3.0, 5.0, 7.0]
    assert set(new.weight_variations) == {"muR2", "muF2"}
    assert new.weight_variations["muF2"].tolist() == [1.5, 4.5, 7.5, 10.5]
    assert ev.weight.tolist() == [0.5, 1.5, 2.5, 3.5]  # the original is untouched
    assert set(ev.weight_variations) == {"muR2"}
    with pytest.raises(HepflowError, match="column weight has shape"):
        ev.with_weights(torch.ones(3, dtype=torch.float64))


def test_to_device_keeps_everything():
    ev = _jagged()
    moved = ev.to("cpu")
    for k, v in _fields(ev).items():
        if isinstance(v, torch.Tensor):
            assert torch.equal(getattr(moved, k), v), k
    assert torch.equal(moved.extras["scale"], ev.extras["scale"])


def test_to_awkward_gives_jagged_particles_with_the_right_values():
    ev = _jagged()
    arr = ev.to_awkward()
    assert len(arr) == 4
    assert ak.num(arr.particles, axis=1).tolist() == COUNTS
    assert arr.particles.pdg_id.tolist() == [[0, 1, 2], [100, 101], [200, 201, 202, 203], [300]]
    np.testing.assert_array_equal(ak.flatten(arr.particles.E).to_numpy(), ev.momentum[:, 0])
    np.testing.assert_array_equal(ak.flatten(arr.particles.pz).to_numpy(), ev.momentum[:, 3])
    np.testing.assert_array_equal(ak.flatten(arr.particles.mother2).to_numpy(), ev.mothers[:, 1])
    np.testing.assert_array_equal(ak.flatten(arr.particles.color1).to_numpy(), ev.color[:, 0])
    np.testing.assert_array_equal(ak.flatten(arr.particles.mass).to_numpy(), ev.mass)
    assert arr.weight.tolist() == [0.5, 1.5, 2.5, 3.5]
    assert arr.scale.tolist() == [91.0, 92.0, 93.0, 94.0]
    assert arr.weight_muR2.tolist() == [0.0, 2.0, 4.0, 6.0]
    # one record per event: particles of event 2 are the 4 with pdg_id 2xx
    assert arr[2].particles.pdg_id.tolist() == [200, 201, 202, 203]
    plain = _jagged(optional=False).to_awkward()
    assert "mass" not in plain.particles.fields and "spin" not in plain.particles.fields


# -- points -------------------------------------------------------------------------------------
def _points(n=6, dim=2):
    gen = torch.Generator().manual_seed(4)
    return PointBatch(
        x=torch.rand(n, dim, generator=gen, dtype=torch.float64),
        q=torch.linspace(0.5, 2.0, n, dtype=torch.float64),
        stratum=torch.tensor([0, 0, 1, 1, 2, 2]),
        extras={
            "y": torch.arange(n * dim, dtype=torch.float64).reshape(n, dim),
            "grid": torch.zeros(50),
            "scalar": torch.tensor(3.0),
        },
    )


def test_point_batch_select_filters_per_point_columns_only():
    pts = _points()
    assert (len(pts), pts.dim) == (6, 2)
    mask = torch.tensor([True, False, False, True, True, False])
    kept = pts.select(mask)
    assert len(kept) == 3
    assert torch.equal(kept.x, pts.x[mask])
    assert torch.equal(kept.q, pts.q[mask])
    assert kept.stratum.tolist() == [0, 1, 2]
    assert torch.equal(kept.extras["y"], pts.extras["y"][mask])
    assert kept.extras["grid"].shape == (50,)  # not per point: kept whole
    assert float(kept.extras["scalar"]) == 3.0


def test_weighted_batch_weights_and_select():
    pts = _points()
    f = torch.tensor([1.0, 2.0, 0.0, -1.0, 4.0, 3.0], dtype=torch.float64)
    wb = pts.evaluated(f)
    assert isinstance(wb, WeightedBatch)
    torch.testing.assert_close(wb.weights, f / pts.q, rtol=0, atol=0)
    assert torch.equal(wb.x, pts.x) and wb.stratum is pts.stratum
    mask = wb.weights != 0
    kept = wb.select(mask)
    assert isinstance(kept, WeightedBatch)
    assert kept.f.tolist() == [1.0, 2.0, -1.0, 4.0, 3.0]
    torch.testing.assert_close(kept.weights, (f / pts.q)[mask], rtol=0, atol=0)
    assert len(kept) == 5 and kept.stratum.tolist() == [0, 0, 1, 2, 2]


def test_weighted_batch_needs_f():
    pts = _points()
    with pytest.raises(HepflowError, match="integrand values f"):
        WeightedBatch(x=pts.x, q=pts.q)
