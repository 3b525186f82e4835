"""The pipeline: integrate -> generate -> process -> write, from a validated RunCard.

Data flows one way: the sampler and integrand produce weighted points, unweighting turns them
into EventBatch chunks, the ``hepflow_process_events`` chain (cuts, reweighting, observers)
sees each chunk, and every writer named in the card receives the result. The run summary is
written as JSON beside the outputs, atomically.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import platform
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import torch

from . import __version__
from .card import RunCard
from .errors import HepflowError, OutputExistsError
from .integrate import Result, integrate
from .plugins import Registry, get_registry
from .unweight import GenerationStats, generate_events, survey_max_weight

__all__ = [
    "RunContext",
    "build_components",
    "child_seeds",
    "integrate_card",
    "resolve_device",
    "run_pipeline",
]

SUMMARY_NAME = "hepflow_summary.json"


@dataclass
class RunContext:
    """What plugins see of a run: its card, seed, device, output folder and a scratch ``state``."""

    card: RunCard
    seed: int
    device: torch.device
    output_dir: Path
    registry: Registry
    state: dict[str, Any] = field(default_factory=dict)


def resolve_device(name: str) -> torch.device:
    """'auto' picks CUDA when available; asking for CUDA without it is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise HepflowError(
            f"device {name!r} requested but this torch has no usable CUDA device; "
            "use --device cpu (or auto)"
        )
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise HepflowError(f"unknown device {name!r}: {exc}; use cpu, cuda or auto") from exc


def child_seeds(seed: int, n: int) -> list[int]:
    """n independent 63-bit seeds from one run seed (numpy SeedSequence.spawn)."""
    return _as_seeds(np.random.SeedSequence(seed).spawn(n))


def _as_seeds(sequences: list[np.random.SeedSequence]) -> list[int]:
    """One non-negative 63-bit integer per SeedSequence, as torch.Generator.manual_seed takes."""
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in sequences]


def _generator(device: torch.device, seed: int) -> torch.Generator:
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    return gen


def build_components(card: RunCard, registry: Registry, device: torch.device) -> tuple[Any, Any]:
    """The card's integrand and sampler, created through the plugin registry."""
    integrand = registry.create(
        "integrand",
        card.integrand.name,
        card.integrand.options,
        implicit={"device": str(device)},
        where=f"{card.source}: [integrand] {card.integrand.name}",
    )
    sampler = registry.create(
        "sampler",
        card.sampler.name,
        card.sampler.options,
        implicit={
            "device": str(device),
            "dim": integrand.dim,
            "channels": getattr(integrand, "channels", None),
        },
        where=f"{card.source}: [sampler] {card.sampler.name}",
    )
    return integrand, sampler


def integrate_card(
    card: RunCard,
    *,
    registry: Registry | None = None,
    progress: bool = False,
    sampler_state: str | os.PathLike | None = None,
    save_sampler: str | os.PathLike | None = None,
) -> tuple[Result, Any, Any]:
    """Integrate as the card says; returns the Result, the integrand and the adapted sampler.

    A ``sampler_state`` file (from ``save_sampler``) restores a trained sampler, and the
    survey is then skipped.
    """
    registry = registry or get_registry()
    device = resolve_device(card.device)
    integrand, sampler = build_components(card, registry, device)
    plan = card.integration
    if sampler_state is not None:
        sampler.load_state_dict(_load_state(sampler_state))
        plan = replace(plan, survey_iterations=0)
    result = integrate(
        integrand,
        sampler,
        iterations=plan.iterations,
        evals=plan.evals,
        survey_iterations=plan.survey_iterations,
        survey_evals=plan.survey_evals,
        discard_survey=plan.discard_survey,
        adapt_refine=plan.adapt_refine,
        generator=_generator(device, child_seeds(card.seed, 2)[0]),
        device=device,
        nan_policy=plan.nan_policy,
        batch_size=plan.batch_size,
        progress=progress,
        name=card.integrand.name,
    )
    if save_sampler is not None:
        _atomic_write(
            Path(save_sampler), lambda p: torch.save(sampler.state_dict(), p), overwrite=True
        )
    return result, integrand, sampler


def run_pipeline(
    card: RunCard,
    *,
    registry: Registry | None = None,
    progress: bool = False,
    sampler_state: str | os.PathLike | None = None,
    save_sampler: str | os.PathLike | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    workers: int = 2,
) -> dict[str, Any]:
    """The whole job: integrate, generate events into every output, write the summary.

    ``executor="dask"`` generates in shards on a Dask cluster (a new LocalCluster of
    ``workers`` processes, or the one at ``scheduler``): each shard gets the adapted sampler's
    state and an independent random stream, and writes its own files (``NAME.shardK.EXT``).
    """
    if executor not in ("local", "dask"):
        raise HepflowError(f"executor must be 'local' or 'dask', got {executor!r}")
    registry = registry or get_registry()
    device = resolve_device(card.device)
    out_dir = Path(card.output_dir)
    _check_writable(out_dir)
    summary_path = out_dir / SUMMARY_NAME
    n_shards = 1 if executor == "local" else max(1, int(workers))
    targets = [out_dir / spec.path for spec in card.outputs]
    shard_targets = [
        [t if n_shards == 1 else shard_path(t, k, n_shards) for t in targets]
        for k in range(n_shards)
    ]
    if not card.overwrite:
        for target in [*(t for ts in shard_targets for t in ts), summary_path]:
            if target.exists():
                raise OutputExistsError(
                    f"output {str(target)!r} exists; remove it, choose another path, or set "
                    "overwrite = true in the card (--overwrite)"
                )
    context = RunContext(card, card.seed, device, out_dir, registry)
    registry.hook.hepflow_configure(config=MappingProxyType(card.as_dict()), context=context)

    t0 = time.perf_counter()
    result, integrand, sampler = integrate_card(
        card,
        registry=registry,
        progress=progress,
        sampler_state=sampler_state,
        save_sampler=save_sampler,
    )
    t_integrate = time.perf_counter() - t0

    t1 = time.perf_counter()
    generation, shards, interrupted, failures = None, [], False, []
    if card.generation.events:
        header = _run_info(card, context, integrand, sampler, result)
        if executor == "local":
            stats, interrupted = _stream_events(
                card, context, integrand, sampler, header, targets,
                _generator(device, child_seeds(card.seed, 2)[1]), card.generation.events,
            )  # fmt: skip
            shards = [_shard_record(0, card.seed, targets, stats, interrupted)]
        else:
            from .dask_executor import run_shards

            tasks = _shard_tasks(card, sampler.state_dict(), header, shard_targets)
            done, failures = run_shards(tasks, scheduler=scheduler, workers=workers)
            shards = done
            stats = _merge_stats(r["stats"] for r in done)
            interrupted = any(r["interrupted"] for r in done)
        generation = stats.as_dict()
    t_generate = time.perf_counter() - t1

    summary = {
        "cross_section": _cross_section(result, integrand),
        "integration": result.to_dict(),
        "generation": generation,
        "outputs": [p for shard in shards for p in shard["outputs"]],
        "executor": executor,
        "shards": [{k: v for k, v in r.items() if k != "stats"} for r in shards],
        "failed_shards": failures,
        "interrupted": interrupted,
        "timings_s": {"integration": t_integrate, "generation": t_generate},
        "device": str(device),
        "seed": card.seed,
        "versions": _versions(registry),
        "card": card.as_dict(),
    }
    _atomic_write(
        summary_path,
        lambda p: Path(p).write_text(json.dumps(summary, indent=2, default=str)),
        overwrite=True,
    )
    summary["summary_path"] = str(summary_path)
    if failures:
        kept = ", ".join(summary["outputs"]) or "none"
        why = "; ".join(f"shard {f['index']}: {f['error']}" for f in failures)
        raise HepflowError(
            f"{len(failures)} of {n_shards} shards failed ({why}); the other shards' files are "
            f"complete ({kept}), and {summary_path} lists them under 'shards' and the failures "
            "under 'failed_shards'; rerun with another seed or fix the cause"
        )
    if interrupted:  # files and summary are complete for the events so far; now stop
        raise KeyboardInterrupt
    registry.hook.hepflow_run_finished(summary=MappingProxyType(summary), context=context)
    return summary


def shard_path(path: Path, index: int, n_shards: int) -> Path:
    """events.lhe.gz -> events.shard03.lhe.gz: one file per shard, the format suffix kept."""
    stem, dot, suffixes = path.name.partition(".")
    return path.with_name(f"{stem}.shard{index:0{len(str(n_shards - 1))}d}{dot}{suffixes}")


def shard_seeds(seed: int, n: int) -> list[int]:
    """Independent seeds for n generation shards, from the run seed's generation branch."""
    return _as_seeds(np.random.SeedSequence(seed).spawn(2)[1].spawn(n))


@dataclass(frozen=True)
class ShardTask:
    """Everything a worker needs to generate one shard: plain data, pickled to the worker."""

    card: RunCard
    sampler_state: dict[str, Any]
    run_info: dict[str, Any]
    targets: tuple[str, ...]
    seed: int
    n_events: int
    index: int


def generate_shard(task: ShardTask) -> dict[str, Any]:
    """Run on a worker: rebuild the components from installed plugins, restore the sampler,
    stream this shard's events to its own files."""
    card = task.card
    registry = get_registry()
    device = resolve_device(card.device)
    integrand, sampler = build_components(card, registry, device)
    sampler.load_state_dict(task.sampler_state)
    context = RunContext(card, task.seed, device, Path(card.output_dir), registry)
    registry.hook.hepflow_configure(config=MappingProxyType(card.as_dict()), context=context)
    targets = [Path(t) for t in task.targets]
    stats, interrupted = _stream_events(
        card, context, integrand, sampler, task.run_info, targets,
        _generator(device, task.seed), task.n_events,
    )  # fmt: skip
    return _shard_record(task.index, task.seed, targets, stats, interrupted)


def _shard_tasks(card, state, header, shard_targets) -> list[ShardTask]:
    n = len(shard_targets)
    counts = [card.generation.events // n + (k < card.generation.events % n) for k in range(n)]
    state = {k: (v.cpu() if isinstance(v, torch.Tensor) else v) for k, v in state.items()}
    return [
        ShardTask(card, state, header, tuple(map(str, ts)), seed, count, k)
        for k, (ts, seed, count) in enumerate(
            zip(shard_targets, shard_seeds(card.seed, n), counts, strict=True)
        )
    ]


def _shard_record(index, seed, targets, stats, interrupted) -> dict[str, Any]:
    return {
        "index": index,
        "seed": seed,
        "outputs": [str(t) for t in targets],
        "n_events": stats.n_events,
        "cross_section": stats.as_dict()["cross_section"],
        "interrupted": interrupted,
        "stats": stats,
    }


def _merge_stats(all_stats) -> GenerationStats:
    merged = GenerationStats()
    for stats in all_stats:
        merged = merged.merge(stats)
    return merged


def _run_info(card, context, integrand, sampler, result) -> dict[str, Any]:
    """What writers know before the first event: cross section and maximum weight."""
    gen, plan = card.generation, card.integration
    w_max, estimator, draw, abs_cross_section = None, None, "sample", None
    if gen.mode == "unweighted":
        w_max, estimator, draw, abs_cross_section = survey_max_weight(
            integrand,
            sampler,
            _generator(context.device, child_seeds(card.seed, 3)[2]),
            n=max(plan.evals, 10 * gen.chunk_size),
            quantile=gen.max_weight_quantile,
            nan_policy=plan.nan_policy,
            batch_size=plan.batch_size,
        )
    return {
        "cross_section": _cross_section(result, integrand),
        "max_weight": w_max,
        "max_weight_estimator": estimator,
        "event_sampling": draw,
        "abs_cross_section": abs_cross_section,
        "mode": gen.mode,
        "beam_pdg": getattr(integrand, "beam_pdg", None),
        "beam_energy": getattr(integrand, "beam_energy", None),
        "pdf_id": getattr(integrand, "pdf_lhapdf_id", None),
    }


def _stream_events(card, context, integrand, sampler, run_info, targets, generator, n_events):
    """Stream events to every writer; returns (stats, interrupted). Ctrl-C cuts generation
    short but the writers are still closed normally, holding the events written so far; any
    other exception removes the partial outputs."""
    gen, plan = card.generation, card.integration
    stats = GenerationStats(max_weight_estimator=run_info["max_weight_estimator"] or "")
    with contextlib.ExitStack() as stack:
        writers = []
        for spec, target in zip(card.outputs, targets, strict=True):
            writer = context.registry.create(
                "writer",
                spec.writer,
                {**spec.options, "path": str(target)},
                implicit={"overwrite": card.overwrite, "run_info": run_info},
                where=f"{card.source}: [[output]] {spec.writer}",
            )
            writers.append(stack.enter_context(writer))
        chunks = generate_events(
            integrand,
            sampler,
            n_events,
            generator,
            cross_section=run_info["cross_section"]["value"],
            max_weight=run_info["max_weight"],
            mode=gen.mode,
            overweight=gen.overweight,
            chunk_size=gen.chunk_size,
            nan_policy=plan.nan_policy,
            batch_size=plan.batch_size,
            stats=stats,
            draw=run_info.get("event_sampling", "sample"),
            abs_cross_section=run_info.get("abs_cross_section"),
        )
        interrupted = False
        try:
            for events in chunks:
                events = context.registry.process_events(events, context)
                for writer in writers:
                    writer.write(events)
        except KeyboardInterrupt:
            interrupted = True
        closing = {
            **run_info,
            "generation": stats.as_dict(),
            "card": card.as_dict(),
            "interrupted": interrupted,
        }
        for writer in writers:
            writer.close(closing)
    return stats, interrupted


def _cross_section(result: Result, integrand: Any) -> dict[str, Any]:
    return {"value": result.mean, "error": result.sdev, "unit": getattr(integrand, "unit", "")}


def _versions(registry: Registry) -> dict[str, Any]:
    return {
        "hepflow": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "plugins": {p.name: p.version for p in registry.plugins() if p.status == "ok"},
    }


def _load_state(path: str | os.PathLike) -> dict[str, Any]:
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError as exc:
        raise HepflowError(
            f"sampler state {str(path)!r} does not exist; train first with --save-sampler"
        ) from exc


def _atomic_write(target: Path, write, *, overwrite: bool) -> None:
    """Write to a temporary name in the same folder, then rename: never a half-written file."""
    if target.exists() and not overwrite:
        raise OutputExistsError(f"{str(target)!r} exists; remove it or allow overwriting")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, target)
    except OSError as exc:
        raise _write_error(target, exc) from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _write_error(path: Path, exc: OSError) -> HepflowError:
    full = exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
    fix = (
        "free disk space or choose another output_dir"
        if full
        else "choose a writable output_dir in the card, or fix its permissions"
    )
    return HepflowError(f"cannot write {str(path)!r}: {exc.strerror or exc}; {fix}")


def _check_writable(out_dir: Path) -> None:
    """Create the output folder and try a file in it, so that a read-only place fails now,
    not after the integration."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".hepflow-probe-"):
            pass
    except OSError as exc:
        raise _write_error(out_dir, exc) from exc
