"""Default depth couples every dimension with every other: the Jacobian is dense (no zeros).

tanh networks, so that no zero comes from a switched-off ReLU rather than the masks.
"""

from __future__ import annotations

import pytest
import torch
from flow_helpers import build

from hepflow.flows import coupling_masks, full_dependence_layers


def _jacobian(flow, dim: int) -> torch.Tensor:
    z = torch.rand(dim, generator=torch.Generator().manual_seed(dim), dtype=torch.float64)
    return torch.autograd.functional.jacobian(lambda v: flow(v[None])[0][0], z)


@pytest.mark.parametrize("masking", ["binary", "alternating"])
@pytest.mark.parametrize("dim", range(2, 10))
def test_default_coupling_depth_gives_dense_jacobian(dim, masking):
    flow = build("coupling", "rqs", dim, masking=masking, hidden=(8,), activation="tanh")
    assert len(flow.layers) == full_dependence_layers(dim, masking) >= 2
    assert bool((_jacobian(flow, dim).abs() > 1e-12).all())
    if len(flow.layers) > 2:  # and it is the smallest such depth
        shallower = build(
            "coupling",
            "rqs",
            dim,
            masking=masking,
            hidden=(8,),
            activation="tanh",
            layers=len(flow.layers) - 1,
        )
        assert not bool((_jacobian(shallower, dim).abs() > 1e-12).all())


@pytest.mark.parametrize("mode", ["maf", "iaf"])
@pytest.mark.parametrize("dim", [2, 5, 9])
def test_made_default_depth_gives_dense_jacobian(dim, mode):
    flow = build(mode, "rqs", dim, hidden=(16,), activation="tanh")
    assert bool((_jacobian(flow, dim).abs() > 1e-12).all())
    single = build(mode, "rqs", dim, hidden=(16,), activation="tanh", layers=1)
    jac = _jacobian(single, dim)  # one MADE layer is triangular: x_i depends on z_<=i only
    torch.testing.assert_close(jac, jac.tril(), rtol=0, atol=0)
    lower = torch.tril_indices(dim, dim)
    assert bool((jac[lower[0], lower[1]].abs() > 1e-12).all())


def test_binary_masks_follow_the_bits_of_the_index():
    masks = coupling_masks(5, "binary", 6)
    expected = [[0, 1, 0, 1, 0], [0, 0, 1, 1, 0], [0, 0, 0, 0, 1]]
    for b, bits in enumerate(expected):
        assert masks[2 * b].tolist() == [bool(v) for v in bits]
        assert masks[2 * b + 1].tolist() == [not v for v in bits]


def test_alternating_and_checkerboard_are_the_same_scheme():
    for dim in (2, 5, 8):
        a = coupling_masks(dim, "alternating", 4)
        c = coupling_masks(dim, "checkerboard", 4)
        assert all(torch.equal(x, y) for x, y in zip(a, c, strict=True))
