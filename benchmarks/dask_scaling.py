"""Event generation on Dask: wall time with 1 and 2 local workers against one process.

The quickstart process (examples/quickstart.toml: e+e- -> mu+mu- at the Z pole, VEGAS+),
N unweighted events written to ROOT (``--lhe`` adds the gzipped LHE file), generated

* in this process (``--executor local``),
* in shards on a fresh ``distributed.LocalCluster`` of 1 and of 2 worker processes.

Every configuration runs the whole pipeline with the same seed (so the same integration and
maximum weight); the timing is the pipeline's ``generation`` phase (cluster start-up, shipping
the sampler, generating, writing, merging), and the total. The merged cross section of the
shards' generation weights is compared with the single-process one: they are independent
estimates (different random streams), so their pull (difference over the combined error)
should be a standard normal number.

    python benchmarks/dask_scaling.py                 # N = 4e6 (the issue's size)
    python benchmarks/dask_scaling.py --events 2e5    # quick
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import tempfile
import time
from pathlib import Path

import tomllib
import torch

import hepflow
from hepflow.card import parse_card
from hepflow.run import run_pipeline

ROOT = Path(__file__).resolve().parent.parent


def quickstart_card(out: Path, events: int, chunk: int, lhe: bool):
    raw = tomllib.loads((ROOT / "examples" / "quickstart.toml").read_text())
    raw["output_dir"] = str(out)
    raw["overwrite"] = True
    raw["generation"] = {**raw.get("generation", {}), "events": events, "chunk_size": chunk}
    raw["output"] = [{"writer": "root", "path": "events.root"}]
    if lhe:
        raw["output"].append({"writer": "lhe", "path": "events.lhe.gz"})
    return parse_card(raw, source="quickstart.toml (benchmark)")


def run(name: str, card, **executor) -> dict:
    t0 = time.perf_counter()
    summary = run_pipeline(card, **executor)
    wall = time.perf_counter() - t0
    gen = summary["generation"]
    xs = gen["cross_section"]
    print(
        f"{name:18s} total {wall:7.1f} s  generation {summary['timings_s']['generation']:7.1f} s"
        f"  {gen['n_events']:,} events ({gen['n_events'] / summary['timings_s']['generation']:,.0f}"
        f" ev/s)  sigma(gen) = {xs['value']:.3f} +- {xs['error']:.3f} pb  "
        f"efficiency {gen['unweighting_efficiency']:.3f}",
        flush=True,
    )
    return {"name": name, "wall": wall, **summary}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=float, default=4e6, help="unweighted events (4e6)")
    parser.add_argument("--chunk", type=int, default=100_000, help="events per chunk")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--lhe", action="store_true", help="also write events.lhe.gz")
    args = parser.parse_args(argv)
    n = int(args.events)
    print(
        f"hepflow {hepflow.__version__}, Python {platform.python_version()}, torch "
        f"{torch.__version__}, {os.cpu_count()} cores; {n:,} events of the quickstart process "
        f"to ROOT{' and LHE' if args.lhe else ''}",
        flush=True,
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="hepflow-dask-bench-") as tmp:
        for name, executor in [("single process", {"executor": "local"})] + [
            (f"dask, {w} worker{'s' * (w > 1)}", {"executor": "dask", "workers": w})
            for w in args.workers
        ]:
            out = Path(tmp) / name.replace(" ", "_").replace(",", "")
            rows.append(run(name, quickstart_card(out, n, args.chunk, args.lhe), **executor))
    base = rows[0]
    ref = base["generation"]["cross_section"]
    print()
    print("| executor | generation wall time (s) | events/s | speed-up | sigma (pb) | pull |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        xs = r["generation"]["cross_section"]
        t = r["timings_s"]["generation"]
        pull = (
            0.0
            if r is base
            else (xs["value"] - ref["value"]) / math.hypot(xs["error"], ref["error"])
        )
        print(
            f"| {r['name']} | {t:.1f} | {r['generation']['n_events'] / t:,.0f} | "
            f"{base['timings_s']['generation'] / t:.2f} | {xs['value']:.3f} +- {xs['error']:.3f}"
            f" | {pull:+.2f} |"
        )
    integ = base["cross_section"]
    print(
        f"\nintegration (same seed in every run): {integ['value']:.3f} +- {integ['error']:.3f} pb"
    )


if __name__ == "__main__":
    main()
