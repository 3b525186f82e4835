"""|M|^2 throughput of the sm processes and the samplers' overhead next to them.

1. Per process at batch 1e5 on the CPU (or --device cuda): |M|^2 evaluations per second
   (``matrix_element`` on precomputed momenta) and full integrand points per second (phase
   space + cuts + |M|^2), medians of repeats.
2. Sampler overhead on ee_mumu and ee_uuxg: time in ``sample`` + ``adapt`` over the time in
   the integrand, per iteration of 1e5 points, for VEGAS and NIS.
NIS against VEGAS at equal evaluations on ee_uuxg (and Drell-Yan, t t~) is
``benchmarks/nis_physics.py``.

    python benchmarks/matrix_elements.py                  # both parts
    python benchmarks/matrix_elements.py --part throughput --repeats 3
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch

import hepflow
from hepflow.integrate import evaluate

# name, options: the processes at a typical energy (2 -> 3 with their default cuts)
PROCESSES = [
    ("ee_mumu", {"sqrt_s": 91.188}),
    ("uu_ee", {"sqrt_s": 91.188}),
    ("uu_tt", {"sqrt_s": 500.0}),
    ("gg_tt", {"sqrt_s": 500.0}),
    ("gg_gg", {"sqrt_s": 500.0, "ptj": 20.0}),
    ("uux_gg", {"sqrt_s": 500.0, "ptj": 20.0}),
    ("ug_ug", {"sqrt_s": 500.0, "ptj": 20.0}),
    ("ud_ud", {"sqrt_s": 500.0, "ptj": 20.0}),
    ("ee_uuxg", {"sqrt_s": 91.188}),
    ("uux_eeg", {"sqrt_s": 200.0}),
    ("ug_eeu", {"sqrt_s": 200.0}),
]


def _median_time(fn, repeats: int) -> float:
    fn()  # warm-up: helicity filtering, allocations
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _create(name: str, options: dict, device: str):
    try:
        return hepflow.create("integrand", f"sm:{name}", device=device, **options)
    except Exception as exc:  # not registered (yet) or different options: say so, go on
        print(f"  skipping {name}: {str(exc).split('. ')[0]}")
        return None


def throughput(n: int, repeats: int, device: str) -> list[str]:
    rows = ["| process | |M|^2 / s | integrand points / s |", "|---|---:|---:|"]
    gen = torch.Generator(device=device).manual_seed(0)
    for name, options in PROCESSES:
        proc = _create(name, options, device)
        if proc is None:
            continue
        x = torch.rand(n, proc.dim, generator=gen, device=device, dtype=torch.float64)
        p = proc.momenta(x)[0]
        t_me = _median_time(lambda: proc.matrix_element(p), repeats)  # noqa: B023
        t_all = _median_time(lambda: proc(x), repeats)  # noqa: B023
        rows.append(f"| {name} | {n / t_me:.3g} | {n / t_all:.3g} |")
        print(rows[-1], flush=True)
    return rows


def overhead(n: int, iterations: int, device: str) -> list[str]:
    rows = [
        "| process | sampler | integrand s/iter | sample+adapt s/iter | overhead |",
        "|---|---|---:|---:|---:|",
    ]
    for name, options in (PROCESSES[0], ("ee_uuxg", {"sqrt_s": 91.188})):
        proc = _create(name, options, device)
        if proc is None:
            continue
        for sampler_name in ("vegas", "nis"):
            sampler = hepflow.create("sampler", sampler_name, dim=proc.dim, device=device)
            gen = torch.Generator(device=device).manual_seed(1)
            t_f = t_s = 0.0
            for _ in range(iterations):
                t0 = time.perf_counter()
                points = sampler.sample(n, gen)
                t1 = time.perf_counter()
                batch, _ = evaluate(proc, points)
                t2 = time.perf_counter()
                sampler.adapt(batch)
                t3 = time.perf_counter()
                t_f += t2 - t1
                t_s += (t1 - t0) + (t3 - t2)
            rows.append(
                f"| {name} | {sampler_name} | {t_f / iterations:.3f} | {t_s / iterations:.3f} | "
                f"{t_s / t_f:.2f} |"
            )
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["throughput", "overhead"], action="append")
    parser.add_argument("--batch", type=float, default=1e5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    parts = args.part or ["throughput", "overhead"]
    print(
        f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, device {args.device}"
    )
    if "throughput" in parts:
        throughput(int(args.batch), args.repeats, args.device)
    if "overhead" in parts:
        overhead(int(args.batch), 5, args.device)


if __name__ == "__main__":
    main()
