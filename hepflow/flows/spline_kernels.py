"""The rational-quadratic spline as two fused CPU kernels (numba): its map and its gradient.

On the CPU a flow's training step at batch 1024 is bound by the launch cost of its tensor
operations, not by arithmetic: the torch spline of ``splines.py`` runs about 90 of them
forward and as many autograd nodes backward, for a few dozen numbers per point. Here one loop
over the points does a spline's whole map, and one more its whole gradient (reverse mode,
derived by hand from the same scalar formulas and checked by ``gradcheck``), so autograd sees
one node. It is the same map: knots from softmax logits with a floor of MIN_BIN / K per bin,
derivatives MIN_DERIVATIVE + softplus(logit + shift) (exactly 1 at a zero logit), the same
segment formulas, the bin found among the very edges that are then used. Every step runs in
float64, the exponentials included (the torch path takes those in float32), so the two
agree to float32 rounding of the logits' exponentials, not bit for bit.

The logits come point-major, (m, 3K+1) with each point's parameters contiguous, as a plain
network output is laid out. Numba compiles the kernels on first use (a few seconds, then
cached on disk beside this file or in the user's cache directory; ``_jit``).
``use_kernels`` says when they apply: numba importable, CPU tensors, not inside
``torch.compile``, and ``HEPFLOW_KERNELS`` not set to ``torch``.
"""

from __future__ import annotations

import math
import os

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from .splines import DERIVATIVE_SHIFT as SHIFT
from .splines import MIN_BIN

try:  # optional: without numba the torch code of splines.py runs
    import numba
except ImportError:  # pragma: no cover - exercised where numba is missing
    numba = None

__all__ = ["AVAILABLE", "fused_rational_quadratic", "use_kernels"]

#: numba is importable and ``HEPFLOW_KERNELS`` does not ask for the torch code
AVAILABLE = numba is not None and os.environ.get("HEPFLOW_KERNELS", "numba") != "torch"


# per point, what the forward pass leaves for the backward pass (columns of the tape)
_K, _X0, _W, _Y0, _H, _D0, _D1, _SIG0, _SIG1, _CUM_X, _INV_X, _CUM_Y, _INV_Y = range(13)
_TAPE = _INV_Y + 1


def use_kernels(*tensors: Tensor) -> bool:
    """Whether the fused kernels can take a call on these tensors."""
    return (
        AVAILABLE
        and all(t.device.type == "cpu" for t in tensors)
        and not torch.compiler.is_compiling()
    )


def _jit(fn):
    """numba.njit with the compilation cached on disk, where numba finds a writable place
    (beside this file, else the user's cache directory); where it finds none (a read-only
    install and home), compiled anew in each process rather than failing the import.
    error_model="numpy": a division by zero gives inf/nan as in torch, not an exception."""
    if numba is None:
        return fn
    try:
        return numba.njit(cache=True, nogil=True, error_model="numpy")(fn)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return numba.njit(nogil=True, error_model="numpy")(fn)


@_jit
def _softplus_sigmoid(v):
    """softplus(v) and its derivative sigmoid(v), from one exponential."""
    t = math.exp(-abs(v))
    return max(v, 0.0) + math.log1p(t), (1.0 if v >= 0.0 else t) / (1.0 + t)


@_jit
def _exponentials(p, j, start, bins, e, r):
    """exp(logit - max) of p[j, start:start+K] into e[r, start:start+K]; returns their sum."""
    top = -math.inf
    for i in range(start, start + bins):
        top = max(top, float(p[j, i]))
    total = 0.0
    for i in range(start, start + bins):
        v = math.exp(float(p[j, i]) - top)
        e[r, i] = v
        total += v
    return total


@_jit
def _segment(v, x0, w, y0, h, d0, d1, inverse):
    """The segment formulas at v, as both kernels need them: s, c, the inverse's quadratic
    (dy, a, b, sdy, root; zeros forward), theta before and after its clamp, rest, t1, den and
    sn (the slope's numerator)."""
    s = h / w
    c = d0 + d1 - 2.0 * s
    dy = a = b = sdy = root = 0.0
    if inverse:  # theta solves a theta^2 + b theta + c = 0, c = -s dy (the stable root)
        dy = v - y0
        a = h * (s - d0) + dy * c
        b = h * d0 - dy * c
        sdy = s * dy
        root = math.sqrt(max(b * b + 4.0 * a * sdy, 0.0))
        theta_raw = 2.0 * sdy / (b + root)
    else:
        theta_raw = (v - x0) / w
    theta = min(max(theta_raw, 0.0), 1.0)
    rest = 1.0 - theta
    t1 = theta * rest
    den = s + c * t1
    sn = d1 * theta * theta + 2.0 * s * t1 + d0 * rest * rest
    return s, c, dy, a, b, sdy, root, theta_raw, theta, rest, t1, den, sn


@_jit
def _forward_kernel(x, p, inverse, y, log_slope, e, tape):
    """y and log_slope of every point; e and tape keep, per point, what the backward needs
    (with a single row each, nothing is kept: a pass without gradients)."""
    bins = (p.shape[1] - 1) // 3
    keep = e.shape[0] == x.shape[0]
    step = MIN_BIN / bins
    unit = _softplus_sigmoid(SHIFT)[0]
    for j in range(x.shape[0]):
        r = j if keep else 0  # the row of e and tape
        if math.isnan(x[j]):  # no bin: NaN out, as from the torch code (and NaN gradients)
            y[j], log_slope[j] = math.nan, math.nan
            for i in range(_TAPE):
                tape[r, i] = math.nan
            tape[r, _K] = 0
            for i in range(2 * bins):
                e[r, i] = math.nan
            continue
        total_x = _exponentials(p, j, 0, bins, e, r)
        total_y = _exponentials(p, j, bins, bins, e, r)
        # edge_i = MIN/K i + (1 - MIN) C_i / S, C_i = sum_{l<i} e_l, S = C_K; the last is 1
        located, total, other, total_o = (
            (bins, total_y, 0, total_x) if inverse else (0, total_x, bins, total_y)
        )
        inv, inv_o = 1.0 / total, 1.0 / total_o
        cum, lo, hi, k = 0.0, 0.0, 1.0, 0
        for i in range(1, bins):  # the inner edges at or below x: its bin k
            nxt = cum + e[r, located + i - 1]
            edge = step * i + (1.0 - MIN_BIN) * (nxt * inv)
            if x[j] < edge:
                hi = edge
                break
            k, cum, lo = i, nxt, edge
        cum_o = 0.0
        for i in range(k):
            cum_o += e[r, other + i]
        lo_o = step * k + (1.0 - MIN_BIN) * (cum_o * inv_o)
        hi_o = 1.0
        if k + 1 < bins:
            hi_o = step * (k + 1) + (1.0 - MIN_BIN) * ((cum_o + e[r, other + k]) * inv_o)
        sp0, sig0 = _softplus_sigmoid(float(p[j, 2 * bins + k]) + SHIFT)
        sp1, sig1 = _softplus_sigmoid(float(p[j, 2 * bins + k + 1]) + SHIFT)
        d0, d1 = 1.0 + (sp0 - unit), 1.0 + (sp1 - unit)
        if inverse:
            x0, w, y0, h = lo_o, hi_o - lo_o, lo, hi - lo
            cum_x, inv_x, cum_y, inv_y = cum_o, inv_o, cum, inv
        else:
            x0, w, y0, h = lo, hi - lo, lo_o, hi_o - lo_o
            cum_x, inv_x, cum_y, inv_y = cum, inv, cum_o, inv_o
        s, _, _, _, _, _, _, _, theta, _, t1, den, sn = _segment(
            x[j], x0, w, y0, h, d0, d1, inverse
        )
        if inverse:
            y[j] = min(max(x0 + theta * w, 0.0), 1.0)
            log_slope[j] = math.log(den * den / (s * s * sn))
        else:
            y[j] = min(max(y0 + h * (s * theta * theta + d0 * t1) / den, 0.0), 1.0)
            log_slope[j] = math.log(s * s * sn / (den * den))
        tape[r, _K] = k
        tape[r, _X0], tape[r, _W], tape[r, _Y0], tape[r, _H] = x0, w, y0, h
        tape[r, _D0], tape[r, _D1], tape[r, _SIG0], tape[r, _SIG1] = d0, d1, sig0, sig1
        tape[r, _CUM_X], tape[r, _INV_X], tape[r, _CUM_Y], tape[r, _INV_Y] = (
            cum_x,
            inv_x,
            cum_y,
            inv_y,
        )


@_jit
def _edge_adjoint(grad, e, j, start, bins, k, cum, inv, g_lo, g_hi):
    """Chain the adjoints of edges k (g_lo) and k+1 (g_hi) into the K logits at ``start``:
    d edge_i / d e_l = (1 - MIN) (1[l < i] / S - C_i / S^2), d e_l / d logit_l = e_l."""
    if k + 1 == bins:  # the last edge is the constant 1
        g_hi = 0.0
    scale = (1.0 - MIN_BIN) * inv
    common = scale * inv * (g_lo * cum + g_hi * (cum + e[j, start + k]))
    for i in range(bins):
        inner = (g_lo if i < k else 0.0) + (g_hi if i <= k else 0.0)
        grad[j, start + i] = e[j, start + i] * (scale * inner - common)


@_jit
def _backward_kernel(x, e, tape, inverse, gy, gl, gx, gp):
    bins = (gp.shape[1] - 1) // 3
    for j in range(x.shape[0]):
        k = int(tape[j, _K])
        x0, w, y0, h = tape[j, _X0], tape[j, _W], tape[j, _Y0], tape[j, _H]
        d0, d1 = tape[j, _D0], tape[j, _D1]
        # the forward formulas again, keeping what the adjoints need
        s, c, dy, a, b, sdy, root, theta_raw, theta, rest, t1, den, sn = _segment(
            x[j], x0, w, y0, h, d0, d1, inverse
        )
        inside = 0.0 <= theta_raw <= 1.0
        # -- adjoints (reverse mode), *_b = dL/d*
        s_b = 0.0
        theta_b = 0.0
        d0_b = 0.0
        d1_b = 0.0
        t1_b = 0.0
        den_b = 0.0
        h_b = 0.0
        w_b = 0.0
        x0_b = 0.0
        y0_b = 0.0
        x_b = 0.0
        g_y = gy[j]
        g_l = gl[j]
        if inverse:
            out = x0 + theta * w
            if 0.0 <= out <= 1.0:
                x0_b += g_y
                theta_b += g_y * w
                w_b += g_y * theta
            den_b += 2.0 * g_l / den
            s_b -= 2.0 * g_l / s
            sn_b = -g_l / sn
        else:
            q = (s * theta * theta + d0 * t1) / den
            out = y0 + h * q
            if 0.0 <= out <= 1.0:
                y0_b += g_y
                h_b += g_y * q
                q_b = g_y * h
                num_b = q_b / den
                den_b -= q_b * q / den
                s_b += num_b * theta * theta
                theta_b += num_b * 2.0 * s * theta
                d0_b += num_b * t1
                t1_b += num_b * d0
            s_b += 2.0 * g_l / s
            sn_b = g_l / sn
            den_b -= 2.0 * g_l / den
        # sn = d1 theta^2 + 2 s t1 + d0 rest^2
        d1_b += sn_b * theta * theta
        theta_b += sn_b * 2.0 * d1 * theta
        s_b += sn_b * 2.0 * t1
        t1_b += sn_b * 2.0 * s
        d0_b += sn_b * rest * rest
        theta_b -= sn_b * 2.0 * d0 * rest
        # den = s + c t1
        s_b += den_b
        c_b = den_b * t1
        t1_b += den_b * c
        # t1 = theta (1 - theta)
        theta_b += t1_b * (1.0 - 2.0 * theta)
        theta_raw_b = theta_b if inside else 0.0
        if inverse:
            # theta = 2 sdy / (b + root)
            sum_br = b + root
            sdy_b = theta_raw_b * 2.0 / sum_br
            b_b = -theta_raw_b * theta_raw / sum_br
            root_b = b_b
            disc_b = root_b / (2.0 * root) if root > 0.0 else 0.0
            b_b += disc_b * 2.0 * b
            a_b = disc_b * 4.0 * sdy
            sdy_b += disc_b * 4.0 * a
            s_b += sdy_b * dy
            dy_b = sdy_b * s
            h_b += b_b * d0
            d0_b += b_b * h
            dy_b -= b_b * c
            c_b -= b_b * dy
            h_b += a_b * (s - d0)
            s_b += a_b * h
            d0_b -= a_b * h
            dy_b += a_b * c
            c_b += a_b * dy
            x_b += dy_b
            y0_b -= dy_b
        else:
            x_b += theta_raw_b / w
            x0_b -= theta_raw_b / w
            w_b -= theta_raw_b * theta_raw / w
        # c = d0 + d1 - 2 s; s = h / w
        d0_b += c_b
        d1_b += c_b
        s_b -= 2.0 * c_b
        h_b += s_b / w
        w_b -= s_b * s / w
        # w = x1 - x0, h = y1 - y0: the adjoints of each side's two edges
        gx[j] = x_b
        _edge_adjoint(gp, e, j, 0, bins, k, tape[j, _CUM_X], tape[j, _INV_X], x0_b - w_b, w_b)
        _edge_adjoint(gp, e, j, bins, bins, k, tape[j, _CUM_Y], tape[j, _INV_Y], y0_b - h_b, h_b)
        for i in range(2 * bins, 3 * bins + 1):
            gp[j, i] = 0.0
        gp[j, 2 * bins + k] = d0_b * tape[j, _SIG0]  # softplus' = sigmoid
        gp[j, 2 * bins + k + 1] = d1_b * tape[j, _SIG1]


def _run_forward(x: Tensor, logits: Tensor, inverse: bool, keep: bool):
    """The forward kernel on x (m,) float64 and logits (m, 3K+1): y, log_slope, and the
    exponentials and tape for the backward (``keep``) or scratch rows of them."""
    m, n_params = logits.shape
    rows = m if keep else 1
    y, log_slope = torch.empty(m, dtype=torch.float64), torch.empty(m, dtype=torch.float64)
    e = torch.empty(rows, 2 * ((n_params - 1) // 3), dtype=torch.float64)
    tape = torch.empty(rows, _TAPE, dtype=torch.float64)
    _forward_kernel(
        x.numpy(), logits.numpy(), inverse, y.numpy(), log_slope.numpy(), e.numpy(), tape.numpy()
    )
    return y, log_slope, e, tape


class _FusedSpline(torch.autograd.Function):
    """x (m,) float64 and logits (m, 3K+1) -> y, log|dy/dx| (m,): one autograd node."""

    @staticmethod
    def forward(ctx, x: Tensor, logits: Tensor, inverse: bool):
        x = x.detach()
        y, log_slope, e, tape = _run_forward(x, logits.detach(), inverse, keep=True)
        ctx.save_for_backward(x, e, tape)
        ctx.inverse, ctx.logits_dtype, ctx.n_params = inverse, logits.dtype, logits.shape[1]
        return y, log_slope

    @staticmethod
    @once_differentiable  # the kernels' gradient has no gradient: say so if one is asked for
    def backward(ctx, grad_y: Tensor | None, grad_log: Tensor | None):
        x, e, tape = ctx.saved_tensors
        gy = torch.zeros_like(x) if grad_y is None else grad_y.contiguous()
        gl = torch.zeros_like(x) if grad_log is None else grad_log.contiguous()
        gx = torch.empty_like(x)
        gp = torch.empty(x.shape[0], ctx.n_params, dtype=torch.float64)
        _backward_kernel(
            x.numpy(),
            e.numpy(),
            tape.numpy(),
            ctx.inverse,
            gy.numpy(),
            gl.numpy(),
            gx.numpy(),
            gp.numpy(),
        )
        return gx, gp.to(ctx.logits_dtype), None


def fused_rational_quadratic(
    x: Tensor, params: Tensor, inverse: bool = False
) -> tuple[Tensor, Tensor]:
    """``splines.rational_quadratic`` by the fused kernels; fastest with ``params`` laid out
    point-major (contiguous in its last axis), which costs no copy. Without gradients
    (sampling, ``no_grad``) nothing is kept for a backward pass."""
    logits = params.reshape(-1, params.shape[-1]).contiguous()
    flat = x.to(torch.float64).reshape(-1).contiguous()
    if torch.is_grad_enabled() and (flat.requires_grad or logits.requires_grad):
        y, log_slope = _FusedSpline.apply(flat, logits, inverse)
    else:
        y, log_slope, _, _ = _run_forward(flat, logits, inverse, keep=False)
    return y.view(x.shape), log_slope.view(x.shape)
