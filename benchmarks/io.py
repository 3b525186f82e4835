"""Event I/O: hepflow's writers and readers against the libraries they sit on, in one run.

Two 4-particle records, built directly as EventBatch with realistic values:

* ``ee_mumu``: e- e+ -> mu- mu+ at sqrt(s) = 91.2 GeV (uniform-ish angles, no colour);
* ``hadronic``: u g -> u g at the LHC (13 TeV beams, boosted partons with x1 != x2, colour
  lines, scale, alpha_s), the four LHE extras set.

Timed (median of ``--repeats``, events per second, wall clock):

* write: hepflow's ``lhe``, ``root``, ``hdf5``, ``hepmc`` writers fed chunks of ``--chunk``
  events; against pylhe building one ``LHEEvent`` (with its ``LHEParticle`` objects) per event
  and ``LHEFile.tofile``, and against raw uproot ``mktree``/``extend`` with the same branches
  from the same numpy columns;
* read: hepflow's ``lhe``, ``root``, ``hdf5`` readers (all the way to EventBatch); against
  pylhe iterating its ``LHEEvent`` objects (no conversion) and raw uproot ``TTree.iterate``
  of the same branches; HepMC is read with pyhepmc's reader (hepflow has no HepMC reader).

Memory: each writer in a fresh subprocess streams ``--memory-events`` (1e6 and 1e7) hadronic
events in chunks; the peak resident set size (VmHWM) after the first two chunks, half-way and
at the end: flat means 1e7 events peak where 1e6 do.

    python benchmarks/io.py --quick            # small sizes, a few minutes
    python benchmarks/io.py                    # N = 1e5 per record, memory 1e6 vs 1e7
    python benchmarks/io.py --events 1e6       # the issue's throughput size
    python benchmarks/io.py --write            # also update BENCHMARKS.md, "## Event I/O"
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

import hepflow

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Event I/O"
RUN_INFO = {"cross_section": {"value": 1234.5, "error": 1.25, "unit": "pb"}, "max_weight": 1.0}
SUFFIX = {"lhe": ".lhe", "root": ".root", "hdf5": ".h5", "hepmc": ".hepmc"}


# -- the two records ---------------------------------------------------------------------------
def make_batch(record: str, n: int, seed: int = 0) -> hepflow.EventBatch:
    g = torch.Generator().manual_seed(seed)

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(n, generator=g, dtype=torch.float64)

    cos, phi = uniform(-1, 1), uniform(0, 2 * math.pi)
    sin = torch.sqrt(1 - cos**2)
    zero = torch.zeros(n, dtype=torch.float64)
    if record == "ee_mumu":
        half = torch.full((n,), 45.6, dtype=torch.float64)
        x1 = x2 = torch.ones(n, dtype=torch.float64)
        pdg = (11, -11, 13, -13)
        color = ((0, 0),) * 4
        extras = {
            "process_id": torch.ones(n, dtype=torch.int64),
            "scale": 2 * half,
            "alpha_qed": torch.full((n,), 1 / 128.9, dtype=torch.float64),
            "alpha_s": torch.full((n,), 0.118, dtype=torch.float64),
        }
    else:
        x1, x2 = torch.exp(uniform(-8, -1)), torch.exp(uniform(-8, -1))
        half = 6500 * torch.sqrt(x1 * x2)
        pdg = (2, 21, 2, 21)
        color = ((501, 0), (502, 501), (503, 0), (502, 503))
        extras = {
            "process_id": torch.full((n,), 2, dtype=torch.int64),
            "scale": half * sin,  # the pT of the outgoing partons
            "alpha_qed": torch.full((n,), 1 / 132.5, dtype=torch.float64),
            "alpha_s": 0.118 / (1 + 0.0122 * torch.log(half**2 / 91.1876**2)),
        }
    out = torch.stack([half, half * sin * torch.cos(phi), half * sin * torch.sin(phi)], -1)
    out = torch.cat([out, (half * cos)[:, None]], -1)
    back = torch.cat([out[:, :1], -out[:, 1:]], -1)
    mom = torch.stack(
        [
            torch.stack([half, zero, zero, half], -1),
            torch.stack([half, zero, zero, -half], -1),
            out,
            back,
        ],
        1,
    )
    # boost from the parton frame along z: rapidity y = log(x1/x2)/2
    y = 0.5 * torch.log(x1 / x2)
    ch, sh = torch.cosh(y)[:, None], torch.sinh(y)[:, None]
    e, pz = mom[..., 0].clone(), mom[..., 3].clone()
    mom[..., 0], mom[..., 3] = ch * e + sh * pz, sh * e + ch * pz
    return hepflow.EventBatch.from_regular(
        pdg_id=torch.tensor(pdg),
        status=torch.tensor((-1, -1, 1, 1)),
        mothers=torch.tensor(((0, 0), (0, 0), (1, 2), (1, 2))),
        color=torch.tensor(color),
        momentum=mom,
        weight=torch.full((n,), RUN_INFO["cross_section"]["value"], dtype=torch.float64),
        mass=torch.zeros(n, 4, dtype=torch.float64),
        spin=torch.full((n, 4), 9.0, dtype=torch.float64),
        extras=extras,
    )


def chunks(batch: hepflow.EventBatch, size: int) -> list[hepflow.EventBatch]:
    n = len(batch)
    return [batch.select(_range_mask(n, a, min(a + size, n))) for a in range(0, n, size)]


def _range_mask(n: int, a: int, b: int) -> torch.Tensor:
    mask = torch.zeros(n, dtype=torch.bool)
    mask[a:b] = True
    return mask


def beam_options(record: str) -> dict:
    if record == "ee_mumu":
        return {}
    return {"beam_pdg": [2212, 2212], "beam_energy": 6500.0}


# -- hepflow --------------------------------------------------------------------------------
def hepflow_write(fmt: str, record: str, parts: list[hepflow.EventBatch], path: Path) -> None:
    options = beam_options(record) if fmt in ("lhe", "hepmc") else {}
    if fmt == "lhe" and record == "hadronic":
        options["pdf_id"] = 303400
    writer = hepflow.create("writer", fmt, path=str(path), run_info=RUN_INFO, **options)
    with writer:
        for part in parts:
            writer.write(part)
        writer.close(RUN_INFO)


def hepflow_read(fmt: str, path: Path, chunk: int) -> int:
    reader = hepflow.create("reader", fmt, path=str(path))
    return sum(len(b) for b in reader.batches(chunk))


def pyhepmc_read(path: Path) -> int:
    import pyhepmc

    n = 0
    with pyhepmc.open(path) as f:
        for ev in f:
            ev.numpy.particles.px  # noqa: B018  (touch the momenta, as a reader would)
            n += 1
    return n


# -- the libraries used directly -----------------------------------------------------------------
def pylhe_write(batch: hepflow.EventBatch, path: Path) -> None:
    """One LHEEvent with its LHEParticle objects per event, then LHEFile.tofile."""
    import pylhe

    cols = {k: v.numpy() for k, v in _columns(batch).items()}
    init = pylhe.LHEInit(
        initInfo=pylhe.LHEInitInfo(
            beamA=11,
            beamB=-11,
            energyA=45.6,
            energyB=45.6,
            PDFgroupA=0,
            PDFgroupB=0,
            PDFsetA=0,
            PDFsetB=0,
            weightingStrategy=3,
            numProcesses=1,
        ),
        procInfo=[pylhe.LHEProcInfo(xSection=1234.5, error=1.25, unitWeight=1.0, procId=1)],
        generators=[],
    )

    def events():
        ints = np.stack([cols["pdg_id"], cols["status"], *cols["mothers"].T, *cols["color"].T], 1)
        floats = np.concatenate(
            [cols["momentum"][:, [1, 2, 3, 0]], cols["mass"][:, None], cols["spin"][:, None]], 1
        )
        ints, floats = ints.tolist(), floats.tolist()
        info = zip(
            cols["process_id"].tolist(),
            cols["weight"].tolist(),
            cols["scale"].tolist(),
            cols["alpha_qed"].tolist(),
            cols["alpha_s"].tolist(),
            strict=True,
        )
        start = 0
        counts = cols["n_particles"].tolist()
        for npart, (pid, w, scale, aqed, aqcd) in zip(counts, info, strict=True):
            particles = [
                pylhe.LHEParticle(*ints[k], *floats[k][:5], 0.0, floats[k][5])
                for k in range(start, start + npart)
            ]
            start += npart
            yield pylhe.LHEEvent(
                eventinfo=pylhe.LHEEventInfo(npart, pid, w, scale, aqed, aqcd),
                particles=particles,
            )

    pylhe.LHEFile(init=init, events=events()).tofile(path)


def pylhe_read(path: Path) -> int:
    import pylhe

    return sum(1 for _ in pylhe.LHEFile.fromfile(path).events)


def _columns(batch: hepflow.EventBatch) -> dict[str, torch.Tensor]:
    return {
        "n_particles": batch.n_particles,
        "pdg_id": batch.pdg_id,
        "status": batch.status,
        "mothers": batch.mothers,
        "color": batch.color,
        "momentum": batch.momentum,
        "mass": batch.mass,
        "spin": batch.spin,
        "weight": batch.weight,
        **batch.extras,
    }


def uproot_write(parts: list[hepflow.EventBatch], path: Path) -> None:
    """Raw uproot: mktree with the branches the root writer makes, one extend per chunk."""
    import awkward as ak
    import uproot

    with uproot.recreate(path) as f:
        tree = None
        for big in parts:
            counts = big.n_particles.numpy()
            mom = big.momentum.numpy()
            data = {}
            for name, col in (
                ("pdg_id", big.pdg_id),
                ("status", big.status),
                ("mother1", big.mothers[:, 0]),
                ("mother2", big.mothers[:, 1]),
                ("color1", big.color[:, 0]),
                ("color2", big.color[:, 1]),
            ):
                data[name] = ak.unflatten(col.numpy().astype(np.int32), counts)
            for i, name in enumerate(("E", "px", "py", "pz")):
                data[name] = ak.unflatten(np.ascontiguousarray(mom[:, i]), counts)
            data["mass"] = ak.unflatten(big.mass.numpy(), counts)
            data["spin"] = ak.unflatten(big.spin.numpy(), counts)
            data["weight"] = big.weight.numpy()
            for k, v in big.extras.items():
                data[k] = v.numpy()
            if tree is None:
                types = {k: v.type if isinstance(v, ak.Array) else v.dtype for k, v in data.items()}
                tree = f.mktree("events", types, counter_name=lambda counted: "n_particles")
            tree.extend(data)
        f["hepflow_summary"] = json.dumps(RUN_INFO)


def uproot_read(path: Path, chunk: int) -> int:
    import uproot

    with uproot.open(path) as f:
        tree = f["events"]
        names = [k for k in tree.keys() if k != "n_particles"]  # noqa: SIM118
        return sum(len(a) for a in tree.iterate(names, step_size=chunk, library="ak"))


# -- timing ---------------------------------------------------------------------------------------
def timed(
    fn: Callable[[], object], repeats: int, before: Callable[[], None]
) -> tuple[float, object]:
    times = []
    for _ in range(repeats):
        before()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def run_throughput(args, tmp: Path) -> list[dict]:
    rows = []
    n = int(args.events)
    for record in args.records:
        batch = make_batch(record, n)
        parts = chunks(batch, args.chunk)
        files = {}
        cases: list[tuple[str, str, Callable[[Path], object]]] = []
        for fmt in args.formats:
            cases.append(
                (fmt, "hepflow", lambda p, f=fmt, r=record, c=parts: hepflow_write(f, r, c, p))
            )
        cases.append(("lhe", "pylhe objects", lambda p, b=batch: pylhe_write(b, p)))
        cases.append(("root", "raw uproot", lambda p, c=parts: uproot_write(c, p)))
        for fmt, impl, fn in cases:
            path = tmp / f"{record}-{impl.replace(' ', '_')}{SUFFIX[fmt]}"
            files[fmt, impl] = path

            def clean(path=path):
                path.unlink(missing_ok=True)

            sec, _ = timed(lambda fn=fn, path=path: fn(path), args.repeats, clean)
            rows.append(dict(record=record, fmt=fmt, impl=impl, op="write", seconds=sec, n=n))
            print(f"{record:9s} write {fmt:6s} {impl:14s} {n / sec:12,.0f} ev/s", flush=True)
        reads: list[tuple[str, str, Callable[[], int]]] = []
        for fmt in args.formats:
            path = files[fmt, "hepflow"]
            if fmt == "hepmc":
                reads.append((fmt, "pyhepmc", lambda p=path: pyhepmc_read(p)))
            else:
                reads.append((fmt, "hepflow", lambda f=fmt, p=path: hepflow_read(f, p, args.chunk)))
        lhe_path, root_path = files["lhe", "hepflow"], files["root", "hepflow"]
        reads.append(("lhe", "pylhe objects", lambda p=lhe_path: pylhe_read(p)))
        reads.append(("root", "raw uproot", lambda p=root_path: uproot_read(p, args.chunk)))
        for fmt, impl, fn in reads:
            sec, count = timed(fn, args.repeats, lambda: None)
            assert count == n, (record, fmt, impl, count)
            rows.append(dict(record=record, fmt=fmt, impl=impl, op="read", seconds=sec, n=n))
            print(f"{record:9s} read  {fmt:6s} {impl:14s} {n / sec:12,.0f} ev/s", flush=True)
        for path in files.values():
            path.unlink(missing_ok=True)
    return rows


# -- memory: one subprocess per writer ------------------------------------------------------------
def _vm(key: str) -> float:
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{key}:\s+(\d+) kB", text, re.M).group(1)) / 1024


def preload() -> None:
    """Import every library first: imports (pylhe pulls in sympy) are not the writers' cost."""
    import awkward  # noqa: F401
    import h5py  # noqa: F401
    import pylhe  # noqa: F401
    import uproot  # noqa: F401

    with contextlib.suppress(ImportError):
        import pyhepmc  # noqa: F401


def memory_child(fmt: str, record: str, total: int, chunk: int, path: str) -> None:
    preload()
    options = beam_options(record) if fmt in ("lhe", "hepmc") else {}
    batch = make_batch(record, chunk)
    writer = hepflow.create("writer", fmt, path=path, run_info=RUN_INFO, **options)
    marks = []
    n_chunks = math.ceil(total / chunk)
    with writer:
        for k in range(n_chunks):
            writer.write(batch)
            if k in (1, n_chunks // 2):
                marks.append(_vm("VmHWM"))
        writer.close(RUN_INFO)
    marks.append(_vm("VmHWM"))
    print(json.dumps({"after_2_chunks_mb": marks[0], "half_mb": marks[-2], "end_mb": marks[-1]}))


def run_memory(args, tmp: Path) -> list[dict]:
    rows = []
    for fmt in args.memory_formats:
        for total in (int(t) for t in args.memory_events):
            path = tmp / f"memory{SUFFIX[fmt]}"
            cmd = [sys.executable, __file__, "--memory-child", fmt, "hadronic", str(total)]
            cmd += [str(args.chunk), str(path)]
            t0 = time.perf_counter()
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            sec = time.perf_counter() - t0
            res = json.loads(out.strip().splitlines()[-1])
            size = path.stat().st_size / 2**20
            path.unlink()
            rows.append(dict(fmt=fmt, total=total, seconds=sec, file_mb=size, **res))
            print(
                f"memory {fmt:6s} {total:,} events: peak RSS {res['after_2_chunks_mb']:.0f} MB "
                f"after 2 chunks, {res['half_mb']:.0f} MB half-way, {res['end_mb']:.0f} MB at "
                f"the end ({size:.0f} MB file, {sec:.0f} s)",
                flush=True,
            )
    return rows


# -- report ----------------------------------------------------------------------------------------
def versions() -> str:
    import awkward
    import h5py
    import pylhe
    import uproot

    try:
        import pyhepmc

        hepmc = f", pyhepmc {pyhepmc.__version__}"
    except ImportError:
        hepmc = ""
    return (
        f"hepflow {hepflow.__version__}, Python {platform.python_version()}, torch "
        f"{torch.__version__}, numpy {np.__version__}, pylhe {pylhe.__version__}, uproot "
        f"{uproot.__version__}, awkward {awkward.__version__}, h5py {h5py.__version__}{hepmc}"
    )


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = re.search(r"Model name:\s*(.+)", out).group(1).strip()
    except (OSError, subprocess.CalledProcessError, AttributeError):
        model = platform.processor() or "unknown CPU"
    return f"{model}, {os.cpu_count()} cores"


def table(rows: list[dict], memory: list[dict], args, command: str) -> str:
    def rate(record, fmt, impl, op):
        for r in rows:
            if (r["record"], r["fmt"], r["impl"], r["op"]) == (record, fmt, impl, op):
                return r["n"] / r["seconds"]
        return math.nan

    lines = [
        SECTION,
        "",
        f"Command: `{command}` (median of {args.repeats}; N = {int(args.events):,} events per "
        f"record, written in chunks of {args.chunk:,}).",
        f"Machine: {cpu_model()}, shared; {versions()}.",
        "",
        "Events per second (higher is better); `x` = hepflow / the library used directly.",
        "",
        "| record | format | write: hepflow | write: library | x | read: hepflow | "
        "read: library | x |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    base = {"lhe": "pylhe objects", "root": "raw uproot"}
    for record in args.records:
        for fmt in args.formats:
            w = rate(record, fmt, "hepflow", "write")
            r = rate(record, fmt, "pyhepmc" if fmt == "hepmc" else "hepflow", "read")
            if fmt in base:
                bw, br = rate(record, fmt, base[fmt], "write"), rate(record, fmt, base[fmt], "read")
                lines.append(
                    f"| {record} | {fmt} | {w:,.0f} | {bw:,.0f} ({base[fmt]}) | {w / bw:.2f} | "
                    f"{r:,.0f} | {br:,.0f} | {r / br:.2f} |"
                )
            else:
                note = " (pyhepmc reader)" if fmt == "hepmc" else ""
                lines.append(f"| {record} | {fmt} | {w:,.0f} | - | - | {r:,.0f}{note} | - | - |")
    lines += [
        "",
        "What is compared: `pylhe objects` builds one `LHEEvent` with its `LHEParticle`s per "
        "event and writes with `LHEFile.tofile` (reading: iterating pylhe's `LHEEvent`s, no "
        "conversion); `raw uproot` is `mktree`/`extend` with the same branches from the same "
        "numpy columns, one `extend` per chunk (reading: `TTree.iterate` of the same branches "
        "to awkward). hepflow's readers go on to an EventBatch; its LHE reader is pylhe's "
        "parser plus that conversion, so it cannot be faster than pylhe alone. HepMC has no "
        "library column: hepflow's writer is pyhepmc (one `GenEvent` per event via "
        "`from_hepevt`, HepMC3's C++ `WriterAscii`), read back with pyhepmc's reader.",
        "",
        "Targets (issue 7):",
        "",
    ]
    for record in args.records:
        root = rate(record, "root", "hepflow", "write") / rate(
            record, "root", "raw uproot", "write"
        )
        lhe = rate(record, "lhe", "hepflow", "write") / rate(
            record, "lhe", "pylhe objects", "write"
        )
        lines.append(
            f"- {record}: ROOT write at {1 / root:.2f}x the time of raw uproot (target <= 1.5x: "
            f"{'met' if 1 / root <= 1.5 else 'NOT met'}); LHE write {lhe:.1f}x faster than pylhe "
            f"objects event by event (target >= 5x: {'met' if lhe >= 5 else 'NOT met'})."
        )
    lines += [
        "",
        "How the LHE writer gets there: Python formats one float in about a microsecond "
        "(`repr`, and numpy's `astype(str)` is no faster), and an event holds 30-odd, so the "
        "writer formats whole columns with numpy integer arithmetic instead "
        "(`plugins/hepflow_io/_format.py`): 17 significant digits (exact round trip) from "
        "round(|x| 10^k) computed exactly as a double-double (Dekker's product), digits by a "
        "4-digit lookup table, rows assembled as a byte matrix and written once per block. "
        "pylhe's `tolhe` rounds momenta to 9 and weights to 5 digits; this writer keeps all 17.",
    ]
    if memory:
        totals = sorted({m["total"] for m in memory})
        lines += [
            "",
            f"Memory: hadronic events streamed in chunks of {args.chunk:,} through each writer, "
            "in a fresh process per writer and size (libraries imported first); peak resident "
            "set size (VmHWM) after the first two chunks and at the end (close included). Flat "
            "means the larger run peaks where the smaller one does.",
            "",
            "| format | events | peak RSS after 2 chunks (MB) | half-way (MB) | at end (MB) | "
            "file (MB) | time (s) |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for m in memory:
            lines.append(
                f"| {m['fmt']} | {m['total']:,} | {m['after_2_chunks_mb']:.0f} | "
                f"{m['half_mb']:.0f} | {m['end_mb']:.0f} | {m['file_mb']:.0f} | "
                f"{m['seconds']:.0f} |"
            )
        if len(totals) > 1:
            lines.append("")
            for fmt in dict.fromkeys(m["fmt"] for m in memory):
                peak = {m["total"]: m["end_mb"] for m in memory if m["fmt"] == fmt}
                lo, hi = peak[totals[0]], peak[totals[-1]]
                lines.append(
                    f"- {fmt}: peak {lo:.0f} MB for {totals[0]:,} events, {hi:.0f} MB for "
                    f"{totals[-1]:,} ({hi - lo:+.0f} MB)."
                )
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    start = old.find(SECTION)
    if start >= 0:
        end = old.find("\n## ", start + len(SECTION))
        old = old[:start] + (old[end + 1 :] if end >= 0 else "")
    path.write_text(old.rstrip("\n") + "\n\n" + text)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--memory-child":
        fmt, record, total, chunk, path = argv[1:6]
        memory_child(fmt, record, int(total), int(chunk), path)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=float, default=1e5, help="N per record (1e6: issue)")
    parser.add_argument("--chunk", type=int, default=50_000, help="events per batch")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--records", nargs="+", default=["ee_mumu", "hadronic"])
    parser.add_argument("--formats", nargs="+", default=["lhe", "root", "hdf5", "hepmc"])
    parser.add_argument(
        "--memory-events",
        type=float,
        nargs="*",
        default=[1e6, 1e7],
        help="events streamed per writer for the memory check (none: skip it)",
    )
    parser.add_argument("--memory-formats", nargs="+", default=["lhe", "root", "hdf5"])
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: N = 2e4, 1 repeat, memory 1e5 vs 4e5"
    )
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.repeats, args.chunk = 2e4, 1, 10_000
        args.memory_events = [1e5, 4e5]
    for required in ("lhe", "root"):
        if required not in args.formats:
            args.formats.insert(0, required)
    preload()
    command = "python benchmarks/io.py " + shlex.join(argv)
    with tempfile.TemporaryDirectory(prefix="hepflow-io-bench-") as tmp:
        rows = run_throughput(args, Path(tmp))
        memory = run_memory(args, Path(tmp)) if args.memory_events else []
    text = table(rows, memory, args, command.strip())
    print()
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
