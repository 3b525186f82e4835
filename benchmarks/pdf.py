"""PDF evaluation speed: hepflow's batched ``xfxQ2_all`` against scipy on the same grid.

Grid: the embedded nn23lo1 (NNPDF23_lo_as_0130_qed, 100 x 60 knots, 13 partons). Points:
``--batch`` (x, Q^2) pairs, log-uniform in x in [1e-6, 0.9] and Q in [2, 5000] GeV, float64.

Timed (wall clock, median of ``--repeats`` after one warm-up), all 13 partons per point:

* hepflow ``nn23lo1``: MadGraph's polynomial interpolation (what load_pdf("nn23lo1") uses);
* hepflow log-bicubic: LHAPDF's interpolation (the lhagrid1 path) on the same grid;
* scipy ``RectBivariateSpline`` (cubic, kx = ky = 3) per flavour on (ln x, ln Q^2), built once,
  evaluated with ``ev``: the numpy/scipy way to do the same job;
* scipy ``RegularGridInterpolator(method="cubic")`` on (ln x, ln Q^2) with all 13 flavours as
  one vector-valued grid, on ``--rgi-batch`` points (it is much slower) and scaled to per-point.

LHAPDF itself is not in the table: it has no PyPI wheel and cannot be installed here.

    python benchmarks/pdf.py                       # batch 1e6, CPU
    python benchmarks/pdf.py --device cuda         # hepflow rows on the GPU too
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from hepflow.physics.pdf import load_pdf
from hepflow.physics.pdf.interpolate import LogBicubicGrid
from hepflow.physics.pdf.pdf import _embedded_grid


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads)"


def timeit(
    fn: Callable[[], object], repeats: int, sync: Callable[[], None] = lambda: None
) -> float:
    fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def points(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.exp(rng.uniform(math.log(1e-6), math.log(0.9), n))
    q = np.exp(rng.uniform(math.log(2.0), math.log(5000.0), n))
    return x, q * q


def hepflow_rows(
    dev: str, x_np: np.ndarray, q2_np: np.ndarray, repeats: int
) -> list[tuple[str, float]]:
    """Time hepflow's two interpolations of the nn23lo1 grid on one device."""
    sync = torch.cuda.synchronize if dev.startswith("cuda") else (lambda: None)
    x, q2 = torch.tensor(x_np, device=dev), torch.tensor(q2_np, device=dev)
    pdf = load_pdf("nn23lo1", device=dev)
    g = _embedded_grid("nn23lo1", 0)

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, dtype=torch.float64, device=dev)

    bic = LogBicubicGrid([(t(g.xs), t(g.q2s), t(g.xf[:, :, :13]))], "nearest")
    return [
        (
            f"hepflow nn23lo1 (MadGraph polynomial), {dev}",
            timeit(lambda: pdf.xfxQ2_all(x, q2), repeats, sync),
        ),
        (f"hepflow log-bicubic (LHAPDF rule), {dev}", timeit(lambda: bic(x, q2), repeats, sync)),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--batch", type=float, default=1e6)
    ap.add_argument("--rgi-batch", type=float, default=2e4)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from scipy.interpolate import RectBivariateSpline, RegularGridInterpolator

    n = int(args.batch)
    x_np, q2_np = points(n)
    g = _embedded_grid("nn23lo1", 0)
    lx, lq = np.log(g.xs), np.log(g.q2s)
    rows: list[tuple[str, float]] = []

    devices = ["cpu"] + ([args.device] if args.device != "cpu" else [])
    for dev in devices:
        rows += hepflow_rows(dev, x_np, q2_np, args.repeats)

    splines = [RectBivariateSpline(lx, lq, g.xf[:, :, k], kx=3, ky=3, s=0) for k in range(13)]
    lxp, lqp = np.log(x_np), np.log(q2_np)
    rows.append(
        (
            "scipy RectBivariateSpline x13 (cubic)",
            timeit(lambda: np.stack([s.ev(lxp, lqp) for s in splines], 1), args.repeats),
        )
    )
    m = int(args.rgi_batch)
    rgi = RegularGridInterpolator((lx, lq), g.xf[:, :, :13], method="cubic")
    pts = np.stack([lxp[:m], lqp[:m]], 1)
    t_rgi = timeit(lambda: rgi(pts), max(1, args.repeats // 2)) * n / m
    rows.append((f"scipy RegularGridInterpolator cubic (timed on {m}, scaled)", t_rgi))

    base = rows[0][1]
    print(
        f"\nPDF evaluation, all 13 partons, batch {n:.0e}, median of {args.repeats} — {machine()}\n"
    )
    print("| method | time [s] | points / s | vs hepflow nn23lo1 cpu |")
    print("| --- | ---: | ---: | ---: |")
    for name, sec in rows:
        print(f"| {name} | {sec:.3f} | {n / sec:.3g} | {sec / base:.2f}x time |")


if __name__ == "__main__":
    main()
