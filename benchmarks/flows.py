"""hepflow's rational-quadratic coupling flow on [0,1]^d against a zuko NSF of the same size.

Why hand-written: zuko's splines live on [-B, B] with identity tails and a Gaussian latent,
while importance sampling needs a bijection of the unit hypercube with exact boundaries and
float64 log-determinants. This checks that the price in speed is small.

Same size: d = 8, 4 coupling layers (hepflow's binary masks; zuko ``passes=2``), 10 bins,
hidden (64, 64). Timed (median of ``--repeats``, wall clock, CPU) for a batch of ``--batch``:

* ``log_prob + backward``: density of data points and a gradient step's backward pass
  (maximum-likelihood training, MAF-style);
* ``sample + log_prob + backward``: reparameterised samples with their log q and backward
  (neural importance sampling's training step).

hepflow evaluates the spline in float64 (networks float32); zuko runs everything in float32.

    python benchmarks/flows.py                    # batch 1e4, 7 repeats, 1 thread
    python benchmarks/flows.py --threads 2 --repeats 11
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import zuko

from hepflow.flows import coupling_flow


def _median_times(steps: list[Callable[[], None]], repeats: int) -> list[float]:
    """Median wall time of each step; runs interleaved so all see the same machine load."""
    times: list[list[float]] = [[] for _ in steps]
    for step in steps:
        step()  # warm-up
    for _ in range(repeats):
        for step, record in zip(steps, times, strict=True):
            start = time.perf_counter()
            step()
            record.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=float, default=1e4)
    parser.add_argument("--dim", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    n, d = int(args.batch), args.dim
    torch.manual_seed(0)

    ours = coupling_flow(d, transform="rqs", bins=10, hidden=(64, 64))
    layers = len(ours.layers)
    theirs = zuko.flows.NSF(d, transforms=layers, bins=10, hidden_features=(64, 64), passes=2)
    with torch.no_grad():  # push both away from the identity so bins are not trivial
        for p in [*ours.parameters(), *theirs.parameters()]:
            p.add_(0.05 * torch.randn_like(p))
    data = torch.rand(n, d, dtype=torch.float64)
    gen = torch.Generator().manual_seed(1)

    def ours_density() -> None:
        ours.zero_grad()
        ours.log_prob(data).mean().backward()

    def ours_sample() -> None:
        ours.zero_grad()
        x, log_q = ours.sample(n, gen)
        (x.sum() + log_q.mean()).backward()

    def theirs_density() -> None:
        theirs.zero_grad()
        theirs().log_prob(data.float()).mean().backward()

    def theirs_sample() -> None:
        theirs.zero_grad()
        x, log_q = theirs().rsample_and_log_prob((n,))
        (x.sum() + log_q.mean()).backward()

    rows = [
        ("log_prob + backward", ours_density, theirs_density),
        ("sample + log_prob + backward", ours_sample, theirs_sample),
    ]
    print(
        f"d = {d}, batch = {n}, {layers} coupling layers, 10 bins, hidden (64, 64), "
        f"{args.threads} thread(s), median of {args.repeats}\n"
    )
    print("| step | hepflow rqs coupling [ms] | zuko NSF [ms] | hepflow / zuko |")
    print("|---|---:|---:|---:|")
    for name, a, b in rows:
        ta, tb = _median_times([a, b], args.repeats)
        print(f"| {name} | {1e3 * ta:.1f} | {1e3 * tb:.1f} | {ta / tb:.2f} |")


if __name__ == "__main__":
    main()
