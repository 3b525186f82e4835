"""REINFORCE against the reparameterisation estimator on an action-dominated target.

The target is the two-flavour Schwinger model with Wilson fermions on an L x L lattice
(``hepflow_toys.lattice.SchwingerModel``): log p = -S_gauge + 2 log|det D|, D a dense
2 L^2 x 2 L^2 complex matrix, as in Białas, Korcyl, Stebel (arXiv:2308.13294). The same flow
and batch are trained with ``NISSampler.train(..., estimator=E, log_density=True)`` for
E = "reinforce" (the target under no_grad) and E = "reparam" (backpropagation through the
flow's sample and slogdet).

Each configuration runs in a fresh subprocess, so its peak resident memory
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is its own; the baseline (torch, the flow,
the optimiser) is read before the first step. Reported: median CPU and wall time per step
(after a warm-up step), peak RSS and peak RSS above the baseline. A second, longer run on a
smaller lattice checks that both estimators actually train: the reverse KL up to log Z,
E_q[log q - log p], and the effective sample size per point (sum w)^2 / (N sum w^2), on fresh
samples before (the flat initial flow) and after training, on the Schwinger model and on
``LinkModel`` (the same determinant with a link-local gauge action, which a generic coupling
flow can learn; the plaquette action's loop correlations need gauge-equivariant flows).

    python benchmarks/reinforce.py                 # L = 16 timing, L = 4 training (~10 min)
    python benchmarks/reinforce.py --size 8 --steps 3 --repeats 1 --train-steps 50   # quick
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

import torch
from hepflow_nis import NISSampler
from hepflow_toys.lattice import SchwingerModel, wilson_dirac

ESTIMATORS = ("reinforce", "reparam")


class LinkModel(SchwingerModel):
    """The same determinant with a link-local action beta sum_links (1 - cos theta): not gauge
    invariant, but each link has a peaked marginal that a generic (non-equivariant) coupling
    flow can learn in a few hundred steps, unlike the plaquette action's loop correlations."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        theta = 2 * math.pi * x.to(torch.float64)
        log_p = -self.beta * (1 - torch.cos(theta)).sum(dim=1)
        _, log_abs = torch.linalg.slogdet(wilson_dirac(theta, self.size, self.kappa))
        return log_p + 2 * log_abs


TARGETS = {"schwinger": SchwingerModel, "link": LinkModel}


def quality(sampler: NISSampler, target: SchwingerModel, n: int, batch: int, seed: int):
    """E_q[log q - log p] (reverse KL up to log Z) and the ESS per point, on n fresh points."""
    gen = torch.Generator().manual_seed(seed)
    log_w = []
    with torch.no_grad():
        for start in range(0, n, batch):
            x, log_q = sampler.flow.sample(min(batch, n - start), generator=gen)
            log_w.append(target(x) - log_q)
    lw = torch.cat(log_w)
    ess = float(torch.exp(2 * torch.logsumexp(lw, 0) - torch.logsumexp(2 * lw, 0))) / len(lw)
    return float(-lw.mean()), ess


def worker(args) -> dict:
    """One configuration in this (fresh) process: train, time, and read the peak RSS."""
    torch.set_num_threads(1)
    target = TARGETS[args.target](args.size, beta=args.beta, kappa=args.kappa)
    sampler = NISSampler(target.dim, hidden=tuple(args.hidden), lr=args.lr, seed=args.seed)
    gen = torch.Generator().manual_seed(args.seed + 1)
    base_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu, wall = [], []
    if args.steps == 0:  # the training check: KL and ESS before and after many steps
        before = quality(sampler, target, args.eval_points, args.batch, seed=12345)
        losses = sampler.train(
            target, args.train_steps, args.batch, gen, estimator=args.worker, log_density=True
        )
        after = quality(sampler, target, args.eval_points, args.batch, seed=12345)
        return {
            "estimator": args.worker,
            "before": before,
            "after": after,
            "finite": all(math.isfinite(v) for v in losses),
        }
    for _ in range(args.steps + 1):
        c0, w0 = time.process_time(), time.perf_counter()
        sampler.train(target, 1, args.batch, gen, estimator=args.worker, log_density=True)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "estimator": args.worker,
        "cpu_per_step": statistics.median(cpu[1:]),
        "wall_per_step": statistics.median(wall[1:]),
        "base_mb": base_kb / 1024,
        "peak_mb": peak_kb / 1024,
    }


def run_config(estimator: str, args, seed: int) -> dict:
    cmd = [sys.executable, __file__, "--worker", estimator, "--seed", str(seed)]
    keys = ("size", "beta", "kappa", "batch", "steps", "lr", "eval_points", "train_steps", "target")
    for key in keys:
        cmd += [f"--{key.replace('_', '-')}", str(getattr(args, key))]
    cmd += ["--hidden", *map(str, args.hidden)]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode:
        raise RuntimeError(f"{estimator} worker failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--size", type=int, default=16, help="lattice extent L (timing, memory)")
    p.add_argument("--beta", type=float, default=2.0)
    p.add_argument("--kappa", type=float, default=0.25)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=8, help="timed training steps (+1 warm-up)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--hidden", type=int, nargs="+", default=[64, 64])
    p.add_argument("--repeats", type=int, default=2, help="subprocesses per estimator")
    p.add_argument("--train-size", type=int, default=4, help="L of the training check")
    p.add_argument("--train-steps", type=int, default=300, help="steps of the training check")
    p.add_argument("--train-batch", type=int, default=128)
    p.add_argument("--train-lr", type=float, default=3e-3, help="(the sampler's default)")
    p.add_argument("--eval-points", type=int, default=4096)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--target", choices=tuple(TARGETS), default="schwinger", help=argparse.SUPPRESS)
    p.add_argument("--worker", choices=ESTIMATORS, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args)))
        return 0

    med = statistics.median
    runs: dict[str, list[dict]] = {e: [] for e in ESTIMATORS}
    for r in range(args.repeats):  # interleaved, so both see the same machine load
        for estimator in ESTIMATORS:
            runs[estimator].append(run_config(estimator, args, args.seed + r))
    dim = 2 * args.size**2
    print(
        f"# Schwinger model L={args.size} (dim {dim}, D {dim} x {dim} complex), beta={args.beta}"
        f", kappa={args.kappa}; flow: NISSampler defaults (rqs, 10 bins, layers for full "
        f"coupling), hidden {tuple(args.hidden)}; batch {args.batch}, {args.steps} timed steps "
        f"(+1 warm-up), Adam lr {args.lr}; {args.repeats} fresh subprocess(es) per estimator, "
        f"interleaved, medians; torch {torch.__version__}, 1 thread, {os.cpu_count()} CPUs"
    )
    print()
    print("| estimator | CPU s/step | wall s/step | peak RSS [MB] | peak - baseline [MB] |")
    print("|---|---:|---:|---:|---:|")
    summary = {}
    for estimator, rs in runs.items():
        row = {
            "cpu": med(r["cpu_per_step"] for r in rs),
            "wall": med(r["wall_per_step"] for r in rs),
            "peak": med(r["peak_mb"] for r in rs),
            "extra": med(r["peak_mb"] - r["base_mb"] for r in rs),
        }
        summary[estimator] = row
        print(
            f"| {estimator} | {row['cpu']:.3f} | {row['wall']:.3f} | {row['peak']:.0f} "
            f"| {row['extra']:.0f} |"
        )
    a, b = summary["reinforce"], summary["reparam"]
    print()
    print(
        f"reparam / reinforce time per step: CPU x{b['cpu'] / a['cpu']:.2f}, wall "
        f"x{b['wall'] / a['wall']:.2f}; REINFORCE peak RSS {100 * (1 - a['peak'] / b['peak']):.0f}%"
        f" lower ({100 * (1 - a['extra'] / b['extra']):.0f}% lower above the baseline)"
    )

    check = argparse.Namespace(**{**vars(args), "size": args.train_size, "steps": 0})
    check.batch, check.lr = args.train_batch, args.train_lr
    print()
    print(
        f"Training check, L={args.train_size}, batch {args.train_batch}, {args.train_steps} "
        f"steps, lr {args.train_lr}; E_q[log q - log p] = KL(q||p) - log Z and ESS/N on "
        f"{args.eval_points} fresh points:"
    )
    print()
    print(
        "| target | estimator | KL - log Z before | after | ESS/N before | after | losses finite |"
    )
    print("|---|---|---:|---:|---:|---:|---|")
    for target in TARGETS:
        check.target = target
        for estimator in ESTIMATORS:
            r = run_config(estimator, check, args.seed)
            (k0, e0), (k1, e1) = r["before"], r["after"]
            print(
                f"| {target} | {estimator} | {k0:.2f} | {k1:.2f} | {e0:.3g} | {e1:.3g} "
                f"| {r['finite']} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
