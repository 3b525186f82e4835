"""PDF evaluation speed: hepflow's batched ``xfxQ2_all`` against scipy on the same grid.

The project's target: PDF evaluations per second at batch 1e6, all 13 partons, at least those of
the fastest numpy/scipy interpolation of the same grid on CPU (LHAPDF itself has no PyPI wheel
and cannot be installed here; with ``lhapdf`` importable its row is added).

Grid: the embedded nn23lo1 (NNPDF23_lo_as_0130_qed, 100 x 60 knots, 13 partons). Points:
``--batch`` (x, Q^2) pairs, log-uniform over the whole grid (x in [1e-9, 1], Q in [1, 1e6] GeV),
float64. Every method gets the same (x, Q^2) arrays and returns the same (n, 13) array of x·f,
so the logarithms scipy needs are inside its timing, as hepflow's are inside hepflow's.

* hepflow ``nn23lo1``: MadGraph's polynomial interpolation (what load_pdf("nn23lo1") uses);
* hepflow log-bicubic: LHAPDF's interpolation (the lhagrid1 path) on the same grid, through the
  same ``PDF.xfxQ2_all`` (input checks included);
* scipy ``RegularGridInterpolator(method="cubic")`` on (ln x, ln Q^2), all 13 partons as one
  vector-valued grid;
* scipy ``RectBivariateSpline`` (cubic) per parton on (ln x, ln Q^2), ``ev`` (``--no-rbs`` skips
  it: it takes ~10 s a pass).

Timing: one warm-up pass of each method, then ``--repeats`` rounds in which every method runs
once, in turn (interleaved, so a change in machine load hits all of them alike); the median of
each method's times is reported. Run with ``OMP_NUM_THREADS=1`` for a one-core comparison (it
also pins numpy/scipy).

    OMP_NUM_THREADS=1 python benchmarks/pdf.py          # batch 1e6, CPU
    python benchmarks/pdf.py --device cuda              # hepflow rows on the GPU too
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from _machine import cpu_model

from hepflow.physics.pdf import PDF, load_pdf
from hepflow.physics.pdf.interpolate import LogBicubicGrid
from hepflow.physics.pdf.pdf import _embedded_grid


def machine() -> str:
    model = cpu_model()
    return f"{model}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads)"


def points(n: int, xs: np.ndarray, q2s: np.ndarray, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """n points log-uniform over the grid's x and Q^2 ranges (clipped onto it against rounding)."""
    rng = np.random.default_rng(seed)
    x = np.exp(rng.uniform(math.log(xs[0]), math.log(xs[-1]), n)).clip(xs[0], xs[-1])
    q2 = np.exp(rng.uniform(math.log(q2s[0]), math.log(q2s[-1]), n)).clip(q2s[0], q2s[-1])
    return x, q2


def hepflow_methods(dev: str, x_np: np.ndarray, q2_np: np.ndarray) -> dict[str, Callable]:
    """hepflow's two interpolations of the nn23lo1 grid on one device, as ``PDF.xfxQ2_all``."""
    sync = torch.cuda.synchronize if dev.startswith("cuda") else (lambda: None)
    x, q2 = torch.tensor(x_np, device=dev), torch.tensor(q2_np, device=dev)
    mg = load_pdf("nn23lo1", device=dev)
    g = _embedded_grid("nn23lo1", 0)

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, dtype=torch.float64, device=dev)

    bic = PDF(
        name="nn23lo1 log-bicubic",
        lhapdf_id=None,
        member=0,
        order_qcd=0,
        pids=g.pids[:13],
        evaluate=LogBicubicGrid([(t(g.xs), t(g.q2s), t(g.xf[:, :, :13]))], "nearest"),
        alphas=None,
        x_range=(float(g.xs[0]), float(g.xs[-1])),
        q_range=(math.sqrt(g.q2s[0]), math.sqrt(g.q2s[-1])),
        device=dev,
    )

    def run(pdf: PDF) -> Callable[[], torch.Tensor]:
        def f() -> torch.Tensor:
            out = pdf.xfxQ2_all(x, q2)
            sync()
            return out

        return f

    return {
        f"hepflow nn23lo1 (MadGraph polynomial), {dev}": run(mg),
        f"hepflow log-bicubic (LHAPDF rule), {dev}": run(bic),
    }


def scipy_methods(x: np.ndarray, q2: np.ndarray, rbs: bool) -> dict[str, Callable]:
    from scipy.interpolate import RectBivariateSpline, RegularGridInterpolator

    g = _embedded_grid("nn23lo1", 0)
    lx, lq = np.log(g.xs), np.log(g.q2s)
    rgi = RegularGridInterpolator((lx, lq), g.xf[:, :, :13], method="cubic")
    methods = {
        "scipy RegularGridInterpolator cubic": lambda: rgi(np.stack([np.log(x), np.log(q2)], 1))
    }
    if rbs:
        splines = [RectBivariateSpline(lx, lq, g.xf[:, :, k], kx=3, ky=3, s=0) for k in range(13)]

        def rbs_all() -> np.ndarray:
            lxp, lqp = np.log(x), np.log(q2)
            return np.stack([s.ev(lxp, lqp) for s in splines], 1)

        methods["scipy RectBivariateSpline x13 (cubic)"] = rbs_all
    return methods


def lhapdf_methods(x: np.ndarray, q2: np.ndarray) -> dict[str, Callable]:
    """LHAPDF's own evaluation where the module and the set are installed."""
    try:
        import lhapdf  # type: ignore[import-not-found]

        pdf = lhapdf.mkPDF("NNPDF23_lo_as_0130_qed", 0)
    except Exception:  # absent module or set: no row
        return {}
    pids = [p if p != 0 else 21 for p in range(-6, 7)]

    def run() -> np.ndarray:
        out = np.empty((x.size, 13))
        for k, (xi, qi) in enumerate(zip(x, q2, strict=True)):
            out[k] = [pdf.xfxQ2(p, xi, qi) for p in pids]
        return out

    return {"LHAPDF 6 (python module, xfxQ2 per point)": run}


def interleaved(methods: dict[str, Callable], repeats: int) -> dict[str, float]:
    """Median wall time of each method over ``repeats`` rounds, methods in turn each round."""
    for f in methods.values():
        f()
    times: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(repeats):
        for name, f in methods.items():
            t0 = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--batch", type=float, default=1e6)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--no-rbs", action="store_true", help="skip RectBivariateSpline (slow)")
    ap.add_argument("--rgi-batch", type=float, default=None, help=argparse.SUPPRESS)  # old flag
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    n = int(args.batch)
    g = _embedded_grid("nn23lo1", 0)
    x, q2 = points(n, g.xs, g.q2s)

    methods: dict[str, Callable] = {}
    for dev in ["cpu"] + ([args.device] if args.device != "cpu" else []):
        methods.update(hepflow_methods(dev, x, q2))
    methods.update(scipy_methods(x, q2, rbs=not args.no_rbs))
    methods.update(lhapdf_methods(x, q2))

    # the same job: every method returns the (n, 13) x·f; the cubic schemes differ only at the
    # interpolation-error level, which this shows (points where some parton has x·f > 1e-3)
    sub = slice(0, 10000)
    ref = np.asarray(methods["scipy RegularGridInterpolator cubic"]())[sub]
    scale = np.abs(ref).max(1)
    keep = scale > 1e-3
    agree = {}
    for name, f in methods.items():
        if name.startswith("hepflow"):
            got = f().cpu().numpy()[sub]
            agree[name] = float(np.median((np.abs(got - ref).max(1) / scale)[keep]))
    times = interleaved(methods, args.repeats)

    best_scipy = min(sec for name, sec in times.items() if name.startswith("scipy"))
    print(
        f"\nPDF evaluation, all 13 partons, batch {n:.0e}, median of {args.repeats} interleaved "
        f"rounds — {machine()}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}\n"
    )
    print("| method | time [s] | points / s | speed vs fastest scipy |")
    print("| --- | ---: | ---: | ---: |")
    for name, sec in times.items():
        print(f"| {name} | {sec:.3f} | {n / sec:.3g} | {best_scipy / sec:.2f}x |")
    print()
    for name, d in agree.items():
        print(
            f"{name}: vs scipy RGI cubic, median over 1e4 points of max|diff| / max|x·f| = {d:.1e}"
        )


if __name__ == "__main__":
    main()
