"""Flows whose chain of layers runs through torch.compile (``compile=True``): the same
bijection, density and gradients as eager mode to float32 rounding, and an eager fallback
where compilation fails."""

from __future__ import annotations

import copy
import pickle
import warnings

import pytest
import torch
from flow_helpers import build

from hepflow.flows import FlowError, coupling_flow
from hepflow.flows.compiled import compiled

pytestmark = pytest.mark.slow  # the first compilation in a process takes half a minute


def _pair(family: str, transform: str = "rqs", **options):
    """The same flow (same seeds and parameters) eager and compiled."""
    return (
        build(family, transform, 3, **options),
        build(family, transform, 3, compile=True, **options),
    )


def _points(n: int, dim: int = 3, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("family", ["coupling", "maf"])
def test_compiled_flow_is_the_eager_flow(family):
    eager, fused = _pair(family, power_edges=True) if family == "coupling" else _pair(family)
    x = _points(500)
    log_q_eager, log_q_fused = eager.log_prob(x), fused.log_prob(x)
    # the knots' float32 exponentials round differently when fused: log q to ~1e-5
    torch.testing.assert_close(log_q_fused, log_q_eager, rtol=0, atol=1e-4)
    log_q_eager.sum().backward()
    log_q_fused.sum().backward()
    for p_eager, p_fused in zip(eager.parameters(), fused.parameters(), strict=True):
        torch.testing.assert_close(p_fused.grad, p_eager.grad, rtol=1e-3, atol=1e-3)
    with torch.no_grad():
        z = _points(500, seed=1)
        x_fused, log_det = fused(z)
        torch.testing.assert_close(x_fused, eager(z)[0], rtol=0, atol=1e-6)
        back, log_det_inverse = fused.inverse(x_fused)
    torch.testing.assert_close(back, z, rtol=0, atol=1e-8)
    torch.testing.assert_close(log_det_inverse, -log_det, rtol=0, atol=1e-6)


def test_a_copied_flow_shares_the_compilation():
    """Parameter averaging deep-copies the flows, and a pickled flow comes back: neither may
    compile again."""
    _, fused = _pair("coupling")
    x = _points(20)
    for twin in (copy.deepcopy(fused), pickle.loads(pickle.dumps(fused))):
        assert twin._chain is fused._chain
        torch.testing.assert_close(twin.log_prob(x), fused.log_prob(x))
    assert build("maf", "linear", 2, compile=True)._chain is fused._chain


def test_a_failed_compilation_warns_once_and_runs_eagerly():
    import torch._inductor.config as inductor

    def halve_and_add_one(x):
        return torch.exp(x) * 0.5 + 1.0

    fn = compiled(halve_and_add_one)
    x = _points(10, dim=1)
    # no C++ compiler, and no cached kernel that would spare compiling
    with inductor.patch({"cpp.cxx": ("no-such-c++-compiler",), "fx_graph_cache": False}):
        with pytest.warns(RuntimeWarning, match="could not compile halve_and_add_one"):
            assert torch.equal(fn(x), halve_and_add_one(x))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert torch.equal(fn(x), halve_and_add_one(x))


def test_an_error_inside_the_function_is_not_taken_for_a_failed_compilation():
    def add(x, y):
        return x + y

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeError, match="size"):
            compiled(add)(torch.zeros(3), torch.zeros(4))


def test_compile_must_be_a_flag():
    with pytest.raises(FlowError, match="compile"):
        coupling_flow(2, compile="yes")
