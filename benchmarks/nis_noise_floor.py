"""The rel. std that NIS training itself leaves behind: NIS and VEGAS on an exactly flat target.

On f = 1 over [0, 1]^dim a flat sampler is exact, and a fresh NIS flow is the identity, so it
starts exact. Whatever rel. std per evaluation the trained flow shows there is what learning
from a finite, importance-weighted sample adds (the fit follows the sample's fluctuations):
a floor under every NIS result with the same budget and settings. It bounds what NIS can reach
on a physics integrand whose map leaves it nearly flat (issue 5's e+ e- -> q q~ g, dim 5).
``--ripple eps`` adds eps * mean_i cos(2 pi x_i) for a target with a little structure
(a flat sampler has rel. std eps / sqrt(2 dim) there).

The plan and the NIS settings are those of nis_physics.py (1e6 evaluations, half of them
training in 100 iterations, NIS_DEFAULTS), so the numbers compare with its ee_uuxg rows:

    OMP_NUM_THREADS=1 python benchmarks/nis_noise_floor.py  # dim 5, seeds 0,1,2; ~6 CPU min
    OMP_NUM_THREADS=1 python benchmarks/nis_noise_floor.py --seeds 0 --nis loss=forward_kl
"""

from __future__ import annotations

import argparse
import math
import os
import statistics

import torch
from nis_physics import NIS_DEFAULTS, _parse_overrides, plan_for

import hepflow
from hepflow.integrate import integrate


class RippledFlat:
    """f(x) = 1 + ripple * mean_i cos(2 pi x_i) on [0, 1]^dim (exactly 1 for ripple 0)."""

    def __init__(self, dim: int, ripple: float) -> None:
        self.dim, self.ripple = dim, ripple

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return 1.0 + self.ripple * torch.cos(2 * math.pi * x).mean(dim=1)


def rel_std(sampler_name: str, options: dict, target: RippledFlat, plan: dict, seed: int) -> float:
    """sigma / I * sqrt(N) of the frozen integration phase, as nis_physics.py reports it."""
    sampler = hepflow.create("sampler", sampler_name, dim=target.dim, **options)
    result = integrate(target, sampler, adapt_refine=False, seed=seed, **plan)
    return result.sdev / abs(result.mean) * math.sqrt(plan["iterations"] * plan["evals"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dim", type=int, default=5)
    p.add_argument("--ripple", type=float, default=0.0)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--evals", type=lambda s: int(float(s)), default=1_000_000)
    p.add_argument("--survey-fraction", type=float, default=0.5)
    p.add_argument("--survey-iterations", type=int, default=100)
    p.add_argument("--iterations", type=int, default=2)
    p.add_argument("--nis", action="append", default=[], help="NIS option KEY=VALUE")
    args = p.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    target = RippledFlat(args.dim, args.ripple)
    plan = plan_for(args.evals, args.survey_fraction, args.survey_iterations, args.iterations)
    overrides = _parse_overrides(args.nis)
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"dim {args.dim}, ripple {args.ripple}, plan {plan}; NIS {NIS_DEFAULTS} {overrides}")
    print(f"a flat sampler's rel. std / eval: {args.ripple / math.sqrt(2 * args.dim):.4f}")
    for label, name in (("NIS", "nis"), ("VEGAS+", "vegas")):
        values = []
        for seed in seeds:
            options = {**NIS_DEFAULTS, **overrides, "seed": seed} if name == "nis" else {}
            values.append(rel_std(name, options, target, plan, seed))
            print(f"  {label} seed {seed}: rel. std / eval {values[-1]:.4f}", flush=True)
        print(f"{label}: median rel. std / eval {statistics.median(values):.4f}", flush=True)


if __name__ == "__main__":
    main()
