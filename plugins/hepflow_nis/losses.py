"""Training losses for neural importance sampling, written for samples drawn from ANY density.

Every loss takes the flow's current log-density ``log_q`` at points x (differentiable in the
flow's parameters), the log-density ``log_q_sample`` the points were drawn from, and the
integrand values ``f`` there. Points drawn from an older flow (a replay buffer) or from a flat
survey then give unbiased gradients of the same objective, which is what makes sample reuse
correct (ZüNIS "backward" training, MadNIS buffers). The target density is p = |f| / I.

- ``forward_kl``: KL(p || q), mode covering and robust early in training;
- ``variance``: the relative variance of f/q (chi^2 divergence), what integration cares about;
- ``moment``: the relative moment E_q[(f/q)^k] of a higher order k, whose k-th root tends to
  the largest weight, what unweighting pays for (k = 2 is ``variance``);
- ``guarded_moment``: ``moment`` on the minibatches whose weights can estimate it, else
  ``variance``: a high moment that one or two large weights cannot take over;
- ``reverse_kl_reinforce``: KL(q || p) by the score-function (REINFORCE) estimator: the target
  is never differentiated (Białas, Korcyl, Stebel, arXiv:2308.13294);
- ``reverse_kl_reparam``: KL(q || p) by the reparameterisation trick, for points x = T(z) that
  carry the flow's graph and a differentiable f.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = [
    "LOSSES",
    "MIN_MOMENT_SHARE",
    "forward_kl",
    "guarded_moment",
    "log_target",
    "moment",
    "reverse_kl_reinforce",
    "reverse_kl_reparam",
    "variance",
]

#: the smallest fraction of a minibatch that must carry a moment's estimate (``guarded_moment``)
MIN_MOMENT_SHARE = 0.05


def _ratio(f: torch.Tensor, log_q_sample: torch.Tensor) -> torch.Tensor:
    """|f| / q_sample: the importance weights of the drawn points (no gradient)."""
    return f.detach().abs() * torch.exp(-log_q_sample.detach())


def forward_kl(log_q: torch.Tensor, log_q_sample: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """-E_p[log q] (up to a constant), estimated with weights |f|/q_sample normalised by their mean."""
    w = _ratio(f, log_q_sample)
    return -(w * log_q).mean() / w.mean().clamp_min(torch.finfo(w.dtype).tiny)


def variance(log_q: torch.Tensor, log_q_sample: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """E_q[(f/q)^2] / I^2 = int f^2/q / I^2, whose minimum (over q) is the zero-variance q = p."""
    w = _ratio(f, log_q_sample)
    integral = w.mean().clamp_min(torch.finfo(w.dtype).tiny)
    return (w * (f.detach().abs() * torch.exp(-log_q))).mean() / integral**2


def _moment_terms(
    log_q: torch.Tensor, log_q_sample: torch.Tensor, f: torch.Tensor, order: float
) -> torch.Tensor:
    """Per-point terms whose mean estimates E_q[(f/q)^order] / I^order."""
    w = _ratio(f, log_q_sample)
    integral = w.mean().clamp_min(torch.finfo(w.dtype).tiny)
    current = f.detach().abs() * torch.exp(-log_q) / integral
    return w / integral * current ** (order - 1)


def moment(
    log_q: torch.Tensor, log_q_sample: torch.Tensor, f: torch.Tensor, order: float = 4.0
) -> torch.Tensor:
    """E_q[(f/q)^order] / I^order. As the order grows its root approaches max f/q / I, the
    inverse of the unweighting efficiency, so a flow trained on it spreads its error to keep
    the largest weights down rather than the variance."""
    return _moment_terms(log_q, log_q_sample, f, order).mean()


def guarded_moment(
    log_q: torch.Tensor,
    log_q_sample: torch.Tensor,
    f: torch.Tensor,
    order: float = 4.0,
    min_share: float = MIN_MOMENT_SHARE,
) -> torch.Tensor:
    """``moment`` where the minibatch can estimate it, ``variance`` where it cannot.

    A high moment is carried by the largest weights. Where fewer than ``min_share`` of the
    points carry it (Kish's effective sample size of its terms), its gradient follows one or
    two points and throws a peaked flow off its peaks (gaussian8 at order 8: rel. std 0.1 ->
    1.3); such a minibatch trains on the variance instead. The moment enters as its 2/order
    power, 1 + (order - 1) sigma^2 near q = p, so both losses keep the variance's scale. The
    guard does not make a high moment safe on narrow separated peaks: there a flow can still
    lose one (BENCHMARKS.md, "adaptive_moment").
    """
    terms = _moment_terms(log_q, log_q_sample, f, order)
    with torch.no_grad():
        share = terms.sum() ** 2 / (terms * terms).sum() / len(terms)
    if not bool(share >= min_share):  # also NaN: no point carries it
        return variance(log_q, log_q_sample, f)
    return terms.mean() ** (2.0 / order)


def log_target(f: torch.Tensor) -> torch.Tensor:
    """log |f|, with zeros (cuts) lifted to a floor far below the typical value.

    Reverse KL is infinite where q > 0 but f = 0; a floor 1e-30 times the largest |f| keeps
    the gradient finite and pushes q down there hard.
    """
    a = f.detach().abs()
    floor = (a.max() * 1e-30).clamp_min(torch.finfo(a.dtype).tiny)
    return torch.log(torch.maximum(a, floor))


def reverse_kl_reinforce(
    log_q: torch.Tensor,
    log_q_sample: torch.Tensor,
    f: torch.Tensor,
    log_f: torch.Tensor | None = None,
) -> torch.Tensor:
    """Surrogate whose gradient is the score-function estimate of grad KL(q || p).

    grad KL = E_q[(log q - log p) grad log q]; with points from q_sample the expectation takes
    the weight q/q_sample, and the mean of (log q - log p) is subtracted as a baseline (allowed
    because E_q[grad log q] = 0), which removes the unknown log I and most of the noise. x and
    f carry no graph: the target is never differentiated. ``log_f`` replaces log|f| for
    targets given as a log density (lattice actions: f = exp(-S) under- or overflows).
    """
    lf = log_target(f) if log_f is None else log_f.detach()
    with torch.no_grad():
        r = torch.exp(log_q.detach() - log_q_sample.detach())
        r = r / r.mean()
        advantage = log_q.detach() - lf
        advantage = r * (advantage - (r * advantage).mean())
    return (advantage * log_q).mean()


def reverse_kl_reparam(log_q: torch.Tensor, log_f: torch.Tensor) -> torch.Tensor:
    """E_q[log q - log f] for points x = T(z) drawn with the graph: the gradient flows
    through x into f, so the target must be differentiable."""
    return (log_q - log_f).mean()


LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]

#: the losses usable on stored (x, q_sample, f) samples, by their option name
LOSSES: dict[str, LossFn] = {
    "forward_kl": forward_kl,
    "variance": variance,
    "moment": moment,
    "guarded_moment": guarded_moment,
    "reinforce": reverse_kl_reinforce,
}
