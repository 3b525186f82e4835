"""The rational-quadratic spline's fused CPU kernels (numba, ``spline_kernels``): the same map
and gradient as the torch code of ``splines.py``, and taken by the flows where they apply."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from flow_helpers import build

from hepflow.flows import spline_kernels
from hepflow.flows.spline_kernels import fused_rational_quadratic, use_kernels
from hepflow.flows.splines import rational_quadratic
from hepflow.flows.transforms import make_transform

pytest.importorskip("numba")  # the kernels are optional (``pip install hepflow[fast]``)

BINS = 10


def _case(n: int, seed: int, dtype: torch.dtype = torch.float64, scale: float = 2.0):
    """Points in [0, 1] with the faces and near-faces among them, and wild logits, laid out
    (2, n) and (2, n, 3K+1) as a coupling layer with two active coordinates has them."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(2, n, generator=gen, dtype=torch.float64)
    x[0, :5] = torch.tensor([0.0, 1.0, 0.5, 1e-12, 1 - 1e-12], dtype=torch.float64)
    params = scale * torch.randn(2, n, 3 * BINS + 1, generator=gen, dtype=torch.float64)
    return x, params.to(dtype)


@pytest.mark.parametrize("inverse", [False, True])
def test_the_kernels_are_the_torch_spline(inverse):
    """Same map to float64 rounding where both see the same (float64) logits, gradients
    included."""
    x, params = _case(3000, seed=1)
    runs = []
    for spline in (fused_rational_quadratic, rational_quadratic):
        xg, pg = x.clone().requires_grad_(), params.clone().requires_grad_()
        y, log_slope = spline(xg, pg, inverse)
        weights = torch.randn(2, 3000, 2, generator=torch.Generator().manual_seed(2))
        (weights[..., 0] * y + weights[..., 1] * log_slope).sum().backward()
        runs.append((y, log_slope, xg.grad, pg.grad))
    for fused, reference in zip(*runs, strict=True):
        torch.testing.assert_close(fused, reference, rtol=1e-10, atol=1e-10)
    with torch.no_grad():  # the pass that keeps nothing for a backward: the same numbers
        y, log_slope = fused_rational_quadratic(x, params, inverse)
    assert torch.equal(y, runs[0][0]) and torch.equal(log_slope, runs[0][1])


@pytest.mark.parametrize("inverse", [False, True])
def test_float32_logits_are_taken_exactly(inverse):
    """The kernels widen float32 logits before anything else, so they compute the float64
    spline of those logits (the torch code takes their exponentials in float32 instead)."""
    x, params = _case(2000, seed=3, dtype=torch.float32)
    y, log_slope = fused_rational_quadratic(x, params, inverse)
    y_ref, log_slope_ref = rational_quadratic(x, params.double(), inverse)
    torch.testing.assert_close(y, y_ref, rtol=0, atol=1e-12)
    torch.testing.assert_close(log_slope, log_slope_ref, rtol=0, atol=1e-9)
    grad = torch.ones(2, 2000)
    logits = params.clone().requires_grad_()
    fused_rational_quadratic(x, logits, inverse)[1].backward(grad)
    assert logits.grad.dtype == torch.float32


@pytest.mark.parametrize("inverse", [False, True])
def test_gradcheck(inverse):
    x, params = _case(40, seed=4)
    x[0, :5] = torch.rand(5, dtype=torch.float64)  # gradcheck's nudges must stay inside
    args = (x.requires_grad_(), params.requires_grad_())
    assert torch.autograd.gradcheck(lambda a, b: fused_rational_quadratic(a, b, inverse), args)


def test_inverse_undoes_forward_and_faces_stay_put():
    x, params = _case(2000, seed=5)
    y, log_slope = fused_rational_quadratic(x, params)
    back, log_slope_back = fused_rational_quadratic(y, params, inverse=True)
    # the steepest bins of these logits amplify rounding: the torch code is off by 3.5e-9 too
    torch.testing.assert_close(back, x, rtol=0, atol=1e-8)
    torch.testing.assert_close(log_slope_back, -log_slope, rtol=0, atol=1e-8)
    assert y[0, 0] == 0.0 and y[0, 1] == 1.0


def test_zero_logits_are_the_identity():
    x = torch.linspace(0, 1, 2001, dtype=torch.float64)
    y, log_slope = fused_rational_quadratic(x, torch.zeros(2001, 3 * BINS + 1))
    torch.testing.assert_close(y, x, rtol=0, atol=1e-14)
    torch.testing.assert_close(log_slope, torch.zeros_like(x), rtol=0, atol=1e-14)


def test_nan_points_give_nan_as_the_torch_code_does():
    x = torch.tensor([0.3, float("nan"), 0.7], dtype=torch.float64, requires_grad=True)
    params = torch.randn(3, 3 * BINS + 1, generator=torch.Generator().manual_seed(8))
    y, log_slope = fused_rational_quadratic(x, params)
    assert torch.isnan(y[1]) and torch.isnan(log_slope[1])
    assert torch.isfinite(y[[0, 2]]).all() and torch.isfinite(log_slope[[0, 2]]).all()
    log_slope.sum().backward()
    assert torch.isnan(x.grad[1]) and torch.isfinite(x.grad[[0, 2]]).all()


def test_an_empty_batch():
    y, log_slope = fused_rational_quadratic(torch.empty(0), torch.empty(0, 3 * BINS + 1))
    assert y.shape == log_slope.shape == (0,)


def test_flows_take_the_kernels_on_the_cpu_and_agree_with_the_torch_path(monkeypatch):
    """A coupling flow and a MAF run through the kernels (one autograd node per spline),
    and give the torch path's densities, samples and gradients to float32 rounding."""
    assert use_kernels(torch.zeros(1))
    assert make_transform("rqs", BINS).fuses(torch.zeros(1))
    assert not make_transform("linear", BINS).fuses(torch.zeros(1))
    x = torch.rand(500, 3, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    for family in ("coupling", "maf"):
        results = []
        for kernels in (True, False):
            monkeypatch.setattr(spline_kernels, "AVAILABLE", kernels)
            flow = (
                build(family, "rqs", 3, power_edges=True)
                if family == "coupling"
                else (build(family, "rqs", 3))
            )
            log_q = flow.log_prob(x)
            nodes = _autograd_nodes(log_q)
            log_q.sum().backward()
            with torch.no_grad():
                sample, log_q_sample = flow.sample(200, torch.Generator().manual_seed(7))
            results.append((log_q, sample, log_q_sample, [p.grad for p in flow.parameters()]))
            assert ("_FusedSplineBackward" in nodes) == kernels, family
        (log_q, sample, log_q_sample, grads), reference = results
        torch.testing.assert_close(log_q, reference[0], rtol=0, atol=1e-4)
        torch.testing.assert_close(sample, reference[1], rtol=0, atol=1e-6)
        torch.testing.assert_close(log_q_sample, reference[2], rtol=0, atol=1e-4)
        for grad, grad_ref in zip(grads, reference[3], strict=True):
            torch.testing.assert_close(grad, grad_ref, rtol=1e-3, atol=1e-3)


def _autograd_nodes(t: torch.Tensor) -> set[str]:
    seen, stack, names = set(), [t.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        names.add(type(node).__name__)
        stack.extend(next_fn for next_fn, _ in node.next_functions)
    return names


def test_kernels_compile_where_numba_cannot_cache_them():
    """A read-only install with a read-only home leaves numba no place for its cache: the
    kernels must then compile per process, not fail the import. A function without a source
    file (made by exec) has no cache place either."""
    namespace: dict = {}
    exec("def twice(v):\n    return 2.0 * v\n", namespace)
    assert spline_kernels._jit(namespace["twice"])(1.5) == 3.0


def test_the_environment_variable_turns_the_kernels_off():
    env = {**os.environ, "HEPFLOW_KERNELS": "torch"}
    code = "from hepflow.flows import spline_kernels as k; print(k.AVAILABLE)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
