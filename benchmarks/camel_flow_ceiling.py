"""How well can a coupling flow fit the camel at all? An upper bound for NIS on it.

NIS learns from a finite, importance-weighted sample. This oracle instead fits the same
coupling flow by maximum likelihood to exact samples of the camel (either hump at random, a
Gaussian per axis, truncated to the unit cube), as many as asked, then measures the relative
standard deviation of camel / q on fresh flow samples. No importance-sampling budget can do
better than this with the same flow, so it tells whether a rel. std target is reachable.

    python benchmarks/camel_flow_ceiling.py --layers 4 --hidden 32,32 --steps 2000
    python benchmarks/camel_flow_ceiling.py --layers 8 --hidden 64,64 --steps 2000
"""

from __future__ import annotations

import argparse
import math
import time

import torch

import hepflow
from hepflow.flows import coupling_flow


def exact_camel(n: int, dim: int, alpha: float, generator: torch.Generator) -> torch.Tensor:
    """Points drawn from the camel's normalised density (the toy's alpha = sqrt(2) sigma)."""
    first = torch.rand(n, 1, generator=generator, dtype=torch.float64) < 0.5
    centre = torch.where(first, 1 / 3, 2 / 3).to(torch.float64)
    sigma = alpha / math.sqrt(2)
    x = centre + sigma * torch.randn(n, dim, generator=generator, dtype=torch.float64)
    return x[((x > 0) & (x < 1)).all(dim=1)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dim", type=int, default=4)
    p.add_argument("--alpha", type=float, default=0.1)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--hidden", type=lambda v: tuple(int(h) for h in v.split(",")), default=(32, 32))
    p.add_argument("--bins", type=int, default=10)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch", type=int, default=4096)
    p.add_argument("--samples", type=int, default=2_000_000, help="exact training samples")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    camel = hepflow.create("integrand", "toys:camel", dim=args.dim, alpha=args.alpha)
    generator = torch.Generator().manual_seed(args.seed)
    data = exact_camel(args.samples, args.dim, args.alpha, generator)
    torch.manual_seed(args.seed)
    flow = coupling_flow(args.dim, layers=args.layers, hidden=args.hidden, bins=args.bins)
    optimizer = torch.optim.Adam(flow.parameters(), lr=1e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.steps)
    start = time.process_time()
    for _ in range(args.steps):
        batch = data[torch.randint(len(data), (args.batch,), generator=generator)]
        loss = -flow.log_prob(batch).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    with torch.no_grad():
        x, log_q = flow.sample(200_000, generator=torch.Generator().manual_seed(args.seed + 1))
        w = camel(x) / torch.exp(log_q)
    w = w / w.mean()
    print(
        f"camel{args.dim} alpha {args.alpha}: {args.layers} layers, hidden {args.hidden}, "
        f"{args.bins} bins, {args.steps} steps of {args.batch} from {len(data)} exact samples: "
        f"rel. std of camel / q {float(w.std()):.3f}, max weight / mean {float(w.max()):.1f} "
        f"({time.process_time() - start:.0f} CPU s)"
    )


if __name__ == "__main__":
    main()
