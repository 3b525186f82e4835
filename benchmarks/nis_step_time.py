"""Training time per optimiser step: hepflow NIS against ``madnis`` 1.0.0, interleaved.

Issue 4's target: hepflow's training at most half of madnis's wall time for the same number
of steps and batch. In ``nis_vs_peers.py`` each method trains alone, minutes apart, so the
machine's load moves the ratio by 20% or more between runs. Here the two train in the same
process in alternating rounds, each round timed on its own, so both see the same load:

- madnis: ``rounds`` x ``Integrator.train(steps)`` (its defaults: KL loss, Adam, float32);
- hepflow: ``rounds`` x one batch through ``hepflow.integrate`` with ``nis_vs_peers.py``'s
  one setting (``ONE_SETTING``: madnis's flow size, 20 replay steps per batch, power edges,
  weight decay 0.1, parameter averaging 0.99, the adaptive_moment loss, Fourier features
  where a network sees one coordinate (d = 2), latent strata), i.e.
  21 optimiser steps per round, the integrand and driver included; three times: eagerly with
  the splines' fused numba kernels (hepflow's default on the CPU where numba is installed,
  ``hepflow/flows/spline_kernels.py``), eagerly with the splines' torch code (the default
  without numba, and on GPUs), and with ``compile`` on (each flow as one ``torch.compile``
  graph; its one-off compilation falls in the untimed warm-up rounds and is reported on its
  own).

All train the camel toy at width 0.1 with batch 1024; per-step time does not depend on the
target. Reported: the median CPU ms per optimiser step of each (``time.process_time``, one
thread), the medians of the per-round ratios hepflow / madnis, and after how many steps the
compiled sampler has made up its compilation (its first round's wall time).

    OMP_NUM_THREADS=1 python benchmarks/nis_step_time.py
    OMP_NUM_THREADS=1 python benchmarks/nis_step_time.py --dims 2,4 --rounds 21
    OMP_NUM_THREADS=1 python benchmarks/nis_step_time.py --plain   # madnis's flow, like for like
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time

import torch
from _machine import cpu_model
from madnis.integrator import Integrator
from nis_vs_peers import ONE_SETTING, flow_layers, nis_options, parser

import hepflow
from hepflow.flows import spline_kernels

# the one setting of the toy tables in BENCHMARKS.md, as nis_vs_peers.py builds it, and
# hepflow's defaults at madnis's flow size (``--plain``: none of the one setting's additions)
SETTINGS = {"one": parser().parse_args(list(ONE_SETTING)), "plain": parser().parse_args([])}


def hepflow_round(f, sampler, batch: int, seed: int, kernels: bool = True) -> tuple[float, int]:
    """CPU seconds and optimiser steps of one training batch; ``kernels=False``: the splines
    run their torch code."""
    before = sampler.steps
    with _kernels(kernels):
        start = time.process_time()
        hepflow.integrate(f, sampler, iterations=1, evals=batch, seed=seed)
        seconds = time.process_time() - start
    return seconds, sampler.steps - before


@contextlib.contextmanager
def _kernels(on: bool):
    """The splines' fused numba kernels on (where numba is installed) or off."""
    saved = spline_kernels.AVAILABLE
    spline_kernels.AVAILABLE = saved and on
    try:
        yield
    finally:
        spline_kernels.AVAILABLE = saved


def madnis_round(integ: Integrator, steps: int) -> float:
    start = time.process_time()
    integ.train(steps)
    return time.process_time() - start


def measure(
    dim: int, batch: int, rounds: int, warmup: int, setting: str = "one"
) -> dict[str, float]:
    """Median ms per step (eager with the kernels, eager with torch splines, compiled,
    madnis), the median per-round ratios, and the wall seconds of the compiled sampler's first
    round (its compilation: the C++ compiler runs in child processes, which this process's CPU
    clock does not see)."""
    f = hepflow.create("integrand", "camel", dim=dim, alpha=0.1)
    options = nis_options(dim, SETTINGS[setting])
    eager = hepflow.create("sampler", "nis", seed=0, **{**options, "compile": False})
    torch_splines = hepflow.create("sampler", "nis", seed=0, **{**options, "compile": False})
    fused = hepflow.create("sampler", "nis", seed=0, **{**options, "compile": True})
    torch.manual_seed(0)
    integ = Integrator(lambda x: f(x.to(torch.float64)).to(x.dtype), dims=dim, batch_size=batch)
    ms: dict[str, list[float]] = {"eager": [], "torch": [], "compiled": [], "madnis": []}
    first_round_s = 0.0
    for r in range(warmup + rounds):
        eager_s, steps = hepflow_round(f, eager, batch, seed=r)
        torch_s, _ = hepflow_round(f, torch_splines, batch, seed=r, kernels=False)
        wall = time.perf_counter()
        fused_s, _ = hepflow_round(f, fused, batch, seed=r)
        first_round_s = first_round_s or time.perf_counter() - wall
        madnis_s = madnis_round(integ, steps)
        if r >= warmup:
            for key, seconds in zip(ms, (eager_s, torch_s, fused_s, madnis_s), strict=True):
                ms[key].append(1e3 * seconds / steps)
    out = {key: statistics.median(values) for key, values in ms.items()}
    for key in ("eager", "torch", "compiled"):
        ratios = [a / b for a, b in zip(ms[key], ms["madnis"], strict=True)]
        out[f"{key} / madnis"] = statistics.median(ratios)
    out["compile s"] = first_round_s
    return out


def break_even(m: dict[str, float]) -> str:
    """Optimiser steps after which the compiled sampler has made up its first round's
    compilation (that round's seconds over the milliseconds a step saves)."""
    saved_ms = m["eager"] - m["compiled"]
    return f"{1e3 * m['compile s'] / saved_ms:.0f}" if saved_ms > 0 else "never"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--dims", default="2,4,8,16", help="comma-separated dimensions")
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--rounds", type=int, default=11, help="timed rounds per method")
    p.add_argument("--warmup", type=int, default=3, help="untimed rounds first")
    p.add_argument(
        "--plain",
        action="store_true",
        help="hepflow's defaults at madnis's flow size (adaptive loss; no power edges, Fourier "
        "features, averaging or weight decay) instead of the one setting",
    )
    args = p.parse_args(argv)
    setting = "plain" if args.plain else "one"
    torch.set_num_threads(1)
    print(
        f"# NIS step time: {cpu_model()}, torch {torch.__version__}, 1 thread, batch {args.batch}"
    )
    steps = SETTINGS[setting].reuse + 1
    print(f"# {args.rounds} rounds of {steps} optimiser steps each, interleaved; {setting} setting")
    print()
    print(
        "| d | coupling layers | hepflow ms / step | torch splines | compiled | madnis "
        "| hepflow / madnis | torch splines / madnis | compiled / madnis "
        "| first compiled round, wall s | compile made up after, steps |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for dim in (int(d) for d in args.dims.split(",")):
        m = measure(dim, args.batch, args.rounds, args.warmup, setting)
        print(
            f"| {dim} | {flow_layers(dim)} | {m['eager']:.2f} | {m['torch']:.2f} "
            f"| {m['compiled']:.2f} | {m['madnis']:.2f} | {m['eager / madnis']:.2f} "
            f"| {m['torch / madnis']:.2f} | {m['compiled / madnis']:.2f} "
            f"| {m['compile s']:.0f} | {break_even(m)} |"
        )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
