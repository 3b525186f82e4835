"""hepflow's neural importance sampling against ``madnis`` 1.0.0, hepflow VEGAS and ``vegas``.

Every method gets the SAME total number of integrand evaluations: a training phase of
``steps`` batches of ``batch`` points (the flows: one fresh batch per training step; the VEGAS
samplers: ``vegas_iterations`` adapting iterations of steps * batch / vegas_iterations points),
then a frozen integration phase of ``evals`` points. Reported per method, measured on the
integration phase only:

- rel. std per evaluation: sigma / |I| * sqrt(N_integration) (what sets the cost of a target
  precision; for the stratified VEGAS samplers, their own stratified sigma);
- pull: (I - I_exact) / sigma;
- unweighting efficiency <min(|w|, w_max)> / w_max, with w_max the 99.9% quantile of the
  non-zero |w| (``hepflow.stats.max_weight_quantile``) and, in brackets, with the plain maximum;
  the same estimator on the integration-phase weights of every method (for ``vegas``: its
  per-point weights N * wgt * f from ``random_batch`` on a second frozen pass, not counted);
- methods: ``nis`` (flat start), ``nis_anneal`` (the same, with an annealed target for its
  first ``--anneal`` batches, by default 25 per 8 dimensions and at least 25), ``nis_vegas``
  (started from a VEGAS grid), ``madnis``, ``vegas_hepflow`` and ``vegas``;
- training time (CPU seconds of this single-threaded process, integrand included: on a shared
  machine wall time measures the neighbours) and the number of optimiser steps it made.

    python benchmarks/nis_vs_peers.py            # the full table (~20 CPU-minutes; split it
                                                 # over processes with --cases)
    python benchmarks/nis_vs_peers.py --quick    # a small subset
    python benchmarks/nis_vs_peers.py --cases camel4_0.1 --methods nis,madnis --seeds 0,1

The one hepflow NIS setting of BENCHMARKS.md's toy tables is ``nis_anneal`` with the flags in
``ONE_SETTING``: ``--methods nis_anneal --weight-decay 0.1 --power-edges --ema 0.99 --loss
adaptive_moment --fourier 4 --fourier-max-inputs 1``.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import gvar
import numpy as np
import torch
import vegas
from _counted import Counted
from _machine import cpu_model
from madnis.integrator import Integrator

import hepflow
from hepflow.stats import max_weight_quantile, unweighting_efficiency

QUANTILE = 0.999

# name: (toy, options); camel widths are the toy's alpha (= sqrt(2) standard deviations) per axis
CASES: dict[str, tuple[str, dict]] = {
    **{
        f"camel{d}_{a}": ("camel", {"dim": d, "alpha": a})
        for a in (0.1, 0.01)
        for d in (2, 4, 8, 16)
    },
    "gaussian8": ("gaussian", {"dim": 8}),
    "slashed_circle": ("slashed_circle", {}),
    "sinusoidal2": ("sinusoidal", {"dim": 2}),
    "product4": ("product", {"dim": 4}),
}
QUICK = ["camel4_0.1", "camel8_0.1", "product4"]
# the flags of the one hepflow NIS setting that BENCHMARKS.md's toy tables use for every case
ONE_SETTING = (
    *("--weight-decay", "0.1", "--power-edges", "--ema", "0.99"),
    *("--loss", "adaptive_moment", "--fourier", "4", "--fourier-max-inputs", "1"),
)
METHODS = ("nis", "nis_anneal", "madnis", "vegas_hepflow", "vegas")


@dataclass
class Outcome:
    mean: float
    sdev: float
    n_int: int
    weights: torch.Tensor  # integration-phase per-point weights (mean = integral)
    train_s: float
    opt_steps: int
    n_train: int

    def rel_std(self) -> float:
        if self.mean == 0:  # every point zero: nothing was found
            return math.inf
        return self.sdev / abs(self.mean) * math.sqrt(self.n_int)

    def pull(self, reference: float) -> float:
        return (self.mean - reference) / self.sdev if self.sdev > 0 else math.inf

    def efficiency(self) -> tuple[float, float]:
        w = self.weights.double().abs()
        if not bool((w > 0).any()):
            return 0.0, 0.0
        return (
            unweighting_efficiency(w, max_weight_quantile(w, QUANTILE)),
            unweighting_efficiency(w),
        )


def flow_layers(dim: int) -> int:
    """madnis's default coupling blocks ('log' permutations): 2 ceil(log2 d), at least 2."""
    return max(2, 2 * math.ceil(math.log2(dim)))


def nis_options(dim: int, args) -> dict:
    """The hepflow NIS settings: by default madnis's flow size (blocks, 2 x 32 hidden, 10 RQ
    bins); ``--layers`` and ``--hidden`` change it."""
    return {
        "dim": dim,
        "layers": args.layers or flow_layers(dim),
        "hidden": args.hidden,
        "bins": args.bins,
        "lr": args.lr,
        "lr_half_life": args.lr_half_life,
        "switch_at": args.switch_at,
        "moment_at": args.moment_at,
        "reuse_steps": args.reuse,
        "buffer_size": args.buffer,
        "loss": args.loss,
        "moment_order": args.moment_order,
        "ema": args.ema,
        "weight_decay": args.weight_decay,
        "power_edges": args.power_edges,
        "fourier": args.fourier,
        "fourier_max_inputs": args.fourier_max_inputs,
        "stratify": not args.no_stratify,
        "compile": args.compile,
    }


def frozen_phase(f: Counted, sampler, evals: int, seed: int) -> tuple[float, float, torch.Tensor]:
    """One frozen iteration of ``evals`` points through hepflow's driver; its weights."""
    kept: list[torch.Tensor] = []
    res = hepflow.integrate(
        f,
        sampler,
        iterations=1,
        evals=evals,
        adapt_refine=False,
        seed=seed,
        on_iteration=lambda record, batch: kept.append(batch.weights.detach()),
    )
    return res.mean, res.sdev, kept[0]


def frozen_outcome(f: Counted, sampler, args, seed: int, train_s: float, opt_steps: int) -> Outcome:
    """The integration phase of a hepflow sampler trained on the ``f.n`` evaluations so far."""
    n_train = f.n
    f.n = 0
    mean, sdev, w = frozen_phase(f, sampler, args.evals, seed + 2000)
    return Outcome(mean, sdev, f.n, w, train_s, opt_steps, n_train)


def run_nis(f: Counted, args, seed: int, anneal: int = 0) -> Outcome:
    options = nis_options(f.dim, args)
    if anneal:
        options.update(anneal=anneal, anneal_from=args.anneal_from)
    sampler = hepflow.create("sampler", "nis", seed=seed, **options)
    f.n = 0
    start = time.process_time()
    hepflow.integrate(f, sampler, iterations=args.steps, evals=args.batch, seed=seed + 1000)
    train_s = time.process_time() - start
    sampler.adapting = False
    return frozen_outcome(f, sampler, args, seed, train_s, sampler.steps)


def anneal_batches(dim: int) -> int:
    """The annealed batches of the one setting: 25 per 8 dimensions, at least 25.

    log f at a peak grows with the dimension, so a step in beta sharpens the tempered target
    |f|^beta in proportion to d; as annealed importance sampling needs a number of temperatures
    that grows linearly with d (Neal, arXiv:physics/9803008), the flows get batches in
    proportion to d. With 25 at d = 16, camel16 lost a hump on one seed of three; with 50, on
    none (BENCHMARKS.md, "Annealing in proportion to the dimension")."""
    return max(25, math.ceil(25 * dim / 8))


def run_nis_annealed(f: Counted, args, seed: int) -> Outcome:
    """hepflow NIS whose first ``anneal`` training batches learn |f|^beta, beta rising
    geometrically from ``anneal_from`` to 1: every separated peak is seen before it sharpens."""
    anneal = anneal_batches(f.dim) if args.anneal is None else args.anneal
    return run_nis(f, args, seed, anneal=anneal)


def run_nis_pretrained(f: Counted, args, seed: int) -> Outcome:
    """hepflow NIS started from VEGAS: ``pre_batches`` of the training batches go to VEGAS
    (5 adapting iterations), the flow is fitted to the VEGAS density by maximum likelihood
    (``NISSampler.pretrain``, no integrand calls), then trains on the remaining batches. VEGAS
    finds every peak of a factorisable target, so the flow cannot lock onto one of them."""
    sampler = hepflow.create("sampler", "nis", seed=seed, **nis_options(f.dim, args))
    grid = hepflow.create("sampler", "vegas", dim=f.dim)
    pre = args.pre_batches
    f.n = 0
    start = time.process_time()
    hepflow.integrate(f, grid, iterations=5, evals=pre * args.batch // 5, seed=seed + 3000)
    sampler.pretrain(grid, 200, args.batch, torch.Generator().manual_seed(seed + 4000))
    hepflow.integrate(f, sampler, iterations=args.steps - pre, evals=args.batch, seed=seed + 1000)
    train_s = time.process_time() - start
    sampler.adapting = False
    return frozen_outcome(f, sampler, args, seed, train_s, sampler.steps)


def run_madnis(f: Counted, args, seed: int) -> Outcome:
    """madnis with its defaults (KL loss, Adam 1e-3, batch 1024, 2 x 32 hidden, 10 bins,
    float32), the batch and the number of steps set to the benchmark's."""
    torch.manual_seed(seed)  # madnis draws from torch's global generator
    probe = torch.rand(args.batch, f.dim, dtype=torch.float64)
    if not bool((f.f(probe) != 0).any()):  # madnis 1.0.0 then never finishes a step
        raise RuntimeError("integrand zero on a flat batch: madnis cannot start (it hangs)")

    def fm(x: torch.Tensor) -> torch.Tensor:
        return f(x.to(torch.float64)).to(x.dtype)

    integ = Integrator(fm, dims=f.dim, batch_size=args.batch)
    f.n = 0
    start = time.process_time()
    integ.train(args.steps)
    train_s, n_train = time.process_time() - start, f.n
    f.n = 0
    with torch.no_grad():
        w = integ.sample(args.evals).weights.to(torch.float64)
    mean = float(w.mean())
    sdev = float(w.std() / math.sqrt(len(w)))
    return Outcome(mean, sdev, f.n, w, train_s, integ.step, n_train)


def run_vegas_hepflow(f: Counted, args, seed: int) -> Outcome:
    sampler = hepflow.create("sampler", "vegas", dim=f.dim)
    it = args.vegas_iterations
    f.n = 0
    start = time.process_time()
    hepflow.integrate(
        f, sampler, iterations=it, evals=args.steps * args.batch // it, seed=seed + 1000
    )
    return frozen_outcome(f, sampler, args, seed, time.process_time() - start, it)


def run_vegas(f: Counted, args, seed: int) -> Outcome:
    @vegas.lbatchintegrand
    def fv(x):
        return f(torch.from_numpy(np.asarray(x))).numpy()

    gvar.ranseed(seed)
    it = args.vegas_iterations
    integ = vegas.Integrator(f.dim * [[0.0, 1.0]])
    f.n = 0
    start = time.process_time()
    integ(fv, nitn=it, neval=args.steps * args.batch // it)
    train_s, n_train = time.process_time() - start, f.n
    f.n = 0
    res = integ(fv, nitn=1, neval=args.evals, adapt=False)
    n_int = f.n
    integ.set(neval=args.evals, adapt=False)  # a second frozen pass for per-point weights
    parts = []
    for x, wgt in integ.random_batch():
        parts.append(torch.from_numpy(np.asarray(wgt) * fv(x)))
    w = torch.cat(parts)
    w = w * len(w)
    return Outcome(res.mean, res.sdev, n_int, w, train_s, it, n_train)


RUNNERS: dict[str, Callable[[Counted, argparse.Namespace, int], Outcome]] = {
    "nis": run_nis,
    "nis_anneal": run_nis_annealed,
    "nis_vegas": run_nis_pretrained,
    "madnis": run_madnis,
    "vegas_hepflow": run_vegas_hepflow,
    "vegas": run_vegas,
}


def machine() -> str:
    model = cpu_model()
    return f"{os.cpu_count()}-core CPU ({model}), torch {torch.__version__}, {torch.get_num_threads()} thread(s)"


def parser() -> argparse.ArgumentParser:
    """The benchmark's options; ``nis_options`` reads the hepflow NIS ones from them."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cases", default=None, help="comma-separated: " + ", ".join(CASES))
    p.add_argument("--quick", action="store_true", help="cases " + ", ".join(QUICK))
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--seeds", default="0", help="comma-separated seeds (medians are shown)")
    p.add_argument("--steps", type=int, default=150, help="training batches (flow steps)")
    p.add_argument("--batch", type=int, default=1024, help="points per training batch")
    p.add_argument("--evals", type=int, default=100_000, help="integration-phase evaluations")
    p.add_argument("--vegas-iterations", type=int, default=10, help="VEGAS adapting iterations")
    p.add_argument("--lr", type=float, default=3e-3, help="hepflow NIS learning rate")
    p.add_argument(
        "--lr-half-life", type=float, default=None, help="hepflow NIS lr half-life [opt. steps]"
    )
    p.add_argument("--switch-at", type=float, default=1.0, help="hepflow NIS KL -> variance")
    p.add_argument("--reuse", type=int, default=20, help="hepflow NIS buffer steps per batch")
    p.add_argument("--buffer", type=int, default=20_480, help="hepflow NIS replay buffer size")
    p.add_argument(
        "--pre-batches", type=int, default=50, help="nis_vegas: training batches for VEGAS"
    )
    p.add_argument("--loss", default="adaptive", help="hepflow NIS loss")
    p.add_argument("--moment-order", type=float, default=4.0, help="hepflow NIS moment losses")
    p.add_argument(
        "--moment-at",
        type=float,
        default=0.5,
        help="hepflow NIS adaptive_moment: variance -> moment",
    )
    p.add_argument("--layers", type=int, default=None, help="hepflow NIS coupling layers")
    p.add_argument(
        "--hidden",
        type=lambda v: tuple(int(h) for h in v.split(",")),
        default=(32, 32),
        help="hepflow NIS hidden widths, comma-separated",
    )
    p.add_argument("--bins", type=int, default=10, help="hepflow NIS spline bins")
    p.add_argument("--ema", type=float, default=0.0, help="hepflow NIS parameter averaging")
    p.add_argument(
        "--weight-decay", type=float, default=0.0, help="hepflow NIS decoupled weight decay"
    )
    p.add_argument(
        "--power-edges", action="store_true", help="hepflow NIS flows with a PowerEdges layer"
    )
    p.add_argument(
        "--fourier", type=int, default=0, help="hepflow NIS Fourier features per network input"
    )
    p.add_argument(
        "--fourier-max-inputs",
        type=int,
        default=None,
        help="hepflow NIS: Fourier features only where a network sees at most this many inputs",
    )
    p.add_argument(
        "--no-stratify", action="store_true", help="hepflow NIS latent points unstratified"
    )
    p.add_argument(
        "--compile",
        action="store_true",
        help="hepflow NIS flows through torch.compile, one graph each",
    )
    p.add_argument(
        "--anneal",
        type=int,
        default=None,
        help="nis_anneal: batches annealed (default: 25 per 8 dimensions, at least 25)",
    )
    p.add_argument("--anneal-from", type=float, default=1e-3, help="nis_anneal: first beta")
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    cases = args.cases.split(",") if args.cases else (QUICK if args.quick else list(CASES))
    methods = args.methods.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    for name in cases + methods:
        if name not in CASES and name not in RUNNERS:
            p.error(f"unknown case or method {name!r}")

    total = args.steps * args.batch + args.evals
    print(f"# NIS vs peers: {machine()}, madnis 1.0.0, vegas {vegas.__version__}")
    print(
        f"# budget per method: {args.steps} x {args.batch} training + {args.evals} integration "
        f"= {total} evaluations; seeds {seeds}; hepflow NIS: {nis_options(2, args)} "
        "(layers = 2 ceil(log2 d))"
    )
    print()
    print(
        "| case | method | result | rel. std/eval | pull | unw. eff. q99.9 (max) | train CPU [s] "
        "| opt. steps | ms / step |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    wall = time.perf_counter()
    for case in cases:
        toy, options = CASES[case]
        f = Counted(hepflow.create("integrand", toy, **options))
        for method in methods:
            outs = []
            for seed in seeds:
                try:
                    outs.append(RUNNERS[method](f, args, seed))
                    print(
                        f"# {case} {method} seed {seed}: {outs[-1].mean:.5g} +- "
                        f"{outs[-1].sdev:.2g}, rel. std {outs[-1].rel_std():.3g}, "
                        f"eff. {outs[-1].efficiency()[0]:.3g}",
                        file=sys.stderr,
                        flush=True,
                    )
                except Exception as exc:  # a peer failing on a case is a result, not a crash
                    print(f"| {case} | {method} | failed: {type(exc).__name__}: {exc} |||||")
                    outs = []
                    break
            if not outs:
                continue
            med = statistics.median
            first = outs[0]
            eff = [o.efficiency() for o in outs]
            print(
                f"| {case} | {method} | {hepflow.stats.format_uncertainty(first.mean, first.sdev)}"
                f" | {med(o.rel_std() for o in outs):.3g}"
                f" | {max((o.pull(f.reference) for o in outs), key=abs):+.1f}"
                f" | {med(e[0] for e in eff):.3g} ({med(e[1] for e in eff):.3g})"
                f" | {med(o.train_s for o in outs):.2f} | {first.opt_steps}"
                f" | {med(1e3 * o.train_s / o.opt_steps for o in outs):.1f} |",
                flush=True,
            )
    print(f"\n# total wall time {time.perf_counter() - wall:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
