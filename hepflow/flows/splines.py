"""Monotone rational-quadratic spline on [0, 1] (Durkan et al. 2019, "Neural Spline Flows").

Unlike zuko's spline on [-B, B] with identity tails, the knots here span exactly [0, 1] and the
end-point derivatives are learnable too, so the map is a bijection of the unit interval that
fixes 0 and 1: what importance sampling on the unit hypercube needs.

Speed (at flow batch sizes every tensor operation costs about its launch, so the count
matters): the knots are laid out bins-first, so that the softmax sums and the bin search run
across contiguous rows; only the edges that locate a point's bin are built for every bin, the
other axis's edges and the derivatives only at the point's own two knots; the exponentials run
in the network's precision (float32). The knots are then widened to float64 and the spline
through them is evaluated in float64, so the bijection, its inverse and its log-derivative
stay exact and consistent whatever precision chose the knots: an edge comes out bit for bit
the same whichever route built it.
"""

from __future__ import annotations

import functools
import math

import torch
from torch import Tensor
from torch.nn.functional import softplus

__all__ = ["MIN_BIN", "MIN_DERIVATIVE", "bin_index", "derivatives", "edges", "knots"]
__all__ += ["rational_quadratic"]

MIN_BIN = 1e-3  # smallest bin width/height, as a fraction of 1 / bins
MIN_DERIVATIVE = 1e-3
# softplus(0 + shift) == 1 - MIN_DERIVATIVE: zero network output -> unit derivative
DERIVATIVE_SHIFT = math.log(math.expm1(1.0 - MIN_DERIVATIVE))


# -- bins-first helpers: logits (K, ...) -> edges (K+1, ...) ---------------------------------
def _cumulative(logits: Tensor) -> Tensor:
    """Unnormalised cumulative softmax (K+1, ...), starting at 0, in the logits' precision.

    As one product with a (K+1, K) strictly lower-triangular matrix of ones: half the time of
    cumsum along the leading axis plus the cat of the zero row, forward and backward."""
    e = torch.exp(logits - logits.detach().amax(0, keepdim=True))  # any shift: same softmax
    bins = e.shape[0]
    return (_lower(bins, e.dtype, e.device) @ e.reshape(bins, -1)).view(bins + 1, *e.shape[1:])


def _lower(bins: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    """(bins+1, bins) ones strictly below the diagonal: row i sums the first i entries
    (built once per process; in a compiled graph it is a constant anyway)."""
    if torch.compiler.is_compiling():
        return _ones_below(bins, dtype, device)
    return _cached_ones_below(bins, dtype, device)


def _ones_below(bins: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    return torch.ones(bins + 1, bins, dtype=dtype, device=device).tril(-1)


_cached_ones_below = functools.cache(_ones_below)


def _edge(cumulative: Tensor, total: Tensor, index: Tensor, bins: int) -> Tensor:
    """Edge ``index`` (float64): a floor of MIN_BIN / K per bin plus the softmax mass below."""
    share = cumulative.to(torch.float64) / total.to(torch.float64)
    return (MIN_BIN / bins) * index.to(torch.float64) + (1 - MIN_BIN) * share


def _arange(bins: int, like: Tensor) -> Tensor:
    """Edge indices 0..K as a column (K+1, 1, ...) that broadcasts against ``like``."""
    return torch.arange(bins + 1, device=like.device).view(-1, *[1] * like.ndim)


# -- public helpers in the usual layout: logits (..., K) ---------------------------------------
def edges(logits: Tensor) -> Tensor:
    """K+1 float64 bin edges from K logits (softmax with a floor), the first 0, the last 1."""
    rows = logits.movedim(-1, 0)
    cumulative = _cumulative(rows)
    index = _arange(rows.shape[0], rows[0])
    return _edge(cumulative, cumulative[-1:], index, rows.shape[0]).movedim(0, -1)


def knots(logits: Tensor) -> tuple[Tensor, Tensor]:
    """Bin sizes and their K+1 edges (``edges``), float64."""
    e = edges(logits)
    return e[..., 1:] - e[..., :-1], e


def derivatives(logits: Tensor) -> Tensor:
    """Knot derivatives >= about MIN_DERIVATIVE, float64; exactly 1 where a logit is 0 (so a
    zero network output is the identity in any precision)."""
    unit = softplus(logits.new_tensor(DERIVATIVE_SHIFT))
    return 1.0 + (softplus(logits + DERIVATIVE_SHIFT) - unit).to(torch.float64)


def bin_index(edges: Tensor, values: Tensor) -> Tensor:
    """Index (..., 1) of the bin of ``edges`` (..., K+1) that holds each of ``values`` (...)."""
    inner = edges[..., 1:-1].contiguous()
    return torch.searchsorted(inner, values[..., None].contiguous(), right=True)


def rational_quadratic(x: Tensor, params: Tensor, inverse: bool = False) -> tuple[Tensor, Tensor]:
    """Apply the spline element-wise; ``params`` (..., 3K+1) = width, height, derivative logits.

    Returns ``(y, log|dy/dx|)`` (element-wise, float64). With ``inverse`` the map is inverted
    and the log-derivative is that of the inverse map.
    """
    bins = (params.shape[-1] - 1) // 3
    rows = params.movedim(-1, 0).contiguous()  # (3K+1, ...): every slice below is contiguous
    width_logits, height_logits, derivative_logits = rows.split([bins, bins, bins + 1])
    located, other = (height_logits, width_logits) if inverse else (width_logits, height_logits)

    x = x.to(torch.float64)  # outside [0, 1] the bin index and theta are clamped below
    located_cumulative, other_cumulative = _cumulative(located), _cumulative(other)
    with torch.no_grad():  # the search needs every edge, the gradient only the two used
        every = _edge(located_cumulative, located_cumulative[-1:], _arange(bins, x), bins)
        k = (x >= every[1:-1]).sum(0, keepdim=True)  # the bin of each point
    k01 = torch.cat([k, k + 1])  # its two knots

    def knots01(cumulative: Tensor) -> Tensor:  # bit for bit the edges the search used
        return _edge(cumulative.gather(0, k01), cumulative[-1:], k01, bins)

    located01, other01 = knots01(located_cumulative), knots01(other_cumulative)
    d0, d1 = derivatives(derivative_logits.gather(0, k01))
    xs, ys = (other01, located01) if inverse else (located01, other01)
    (x0, x1), (y0, y1) = xs.unbind(0), ys.unbind(0)
    w, h = x1 - x0, y1 - y0
    s = h / w
    curvature = torch.add(d0 + d1, s, alpha=-2.0)

    if inverse:  # theta solves the quadratic a theta^2 + b theta + c = 0, c = -s dy (stable root)
        dy = x - y0
        a = torch.addcmul(h * (s - d0), dy, curvature)
        b = torch.addcmul(h * d0, dy, curvature, value=-1.0)
        sdy = s * dy
        root = torch.sqrt(torch.addcmul(b * b, a, sdy, value=4.0).clamp(min=0.0))
        theta = (2 * sdy / (b + root)).clamp(0.0, 1.0)
    else:
        theta = ((x - x0) / w).clamp(0.0, 1.0)
    rest = 1 - theta
    t1 = theta * rest
    denominator = torch.addcmul(s, curvature, t1)
    slope_numerator = torch.addcmul(torch.addcmul(d1 * theta * theta, d0 * rest, rest), s, 2 * t1)
    if inverse:
        log_slope = torch.log(denominator * denominator / (s * s * slope_numerator))
        return torch.addcmul(x0, theta, w).clamp(0.0, 1.0), log_slope
    log_slope = torch.log(s * s * slope_numerator / (denominator * denominator))
    y = torch.addcmul(y0, h, torch.addcmul(s * theta * theta, d0, t1) / denominator)
    return y.clamp(0.0, 1.0), log_slope
