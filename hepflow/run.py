"""The pipeline: integrate -> generate -> process -> write, from a validated RunCard.

Data flows one way: the sampler and integrand produce weighted points, unweighting turns them
into EventBatch chunks, the ``hepflow_process_events`` chain (cuts, reweighting, observers)
sees each chunk, and every writer named in the card receives the result. The run summary is
written as JSON beside the outputs, atomically.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
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
    children = np.random.SeedSequence(seed).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]


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
        implicit={"device": str(device), "dim": integrand.dim},
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
) -> dict[str, Any]:
    """The whole job: integrate, generate events into every output, write the summary."""
    registry = registry or get_registry()
    device = resolve_device(card.device)
    out_dir = Path(card.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary_path = out_dir / SUMMARY_NAME
    targets = [out_dir / spec.path for spec in card.outputs]
    if not card.overwrite:
        for target in [*targets, summary_path]:
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

    gen_stats = GenerationStats()
    t1 = time.perf_counter()
    if card.generation.events:
        interrupted = _generate(card, context, integrand, sampler, result, targets, gen_stats)
    else:
        interrupted = False
    t_generate = time.perf_counter() - t1

    summary = {
        "cross_section": _cross_section(result, integrand),
        "integration": result.to_dict(),
        "generation": gen_stats.as_dict() if card.generation.events else None,
        "outputs": [str(t) for t in targets],
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
    if interrupted:  # files and summary are complete for the events so far; now stop
        raise KeyboardInterrupt
    registry.hook.hepflow_run_finished(summary=MappingProxyType(summary), context=context)
    return summary


def _generate(card, context, integrand, sampler, result, targets, stats) -> bool:
    """Stream events to every writer; returns True if Ctrl-C cut the run short (the writers
    are then closed normally, holding the events written so far). Any other exception
    removes the partial outputs."""
    gen = card.generation
    plan = card.integration
    generator = _generator(context.device, child_seeds(card.seed, 2)[1])
    w_max = None
    if gen.mode == "unweighted":
        w_max, stats.max_weight_estimator = survey_max_weight(
            integrand,
            sampler,
            generator,
            n=max(plan.evals, 10 * gen.chunk_size),
            quantile=gen.max_weight_quantile,
            nan_policy=plan.nan_policy,
            batch_size=plan.batch_size,
        )
    header = {"cross_section": _cross_section(result, integrand), "max_weight": w_max}
    with contextlib.ExitStack() as stack:
        writers = []
        for spec, target in zip(card.outputs, targets, strict=True):
            writer = context.registry.create(
                "writer",
                spec.writer,
                {**spec.options, "path": str(target)},
                implicit={"overwrite": card.overwrite, "run_info": header},
                where=f"{card.source}: [[output]] {spec.writer}",
            )
            writers.append(stack.enter_context(writer))
        chunks = generate_events(
            integrand,
            sampler,
            gen.events,
            generator,
            cross_section=result.mean,
            max_weight=w_max,
            mode=gen.mode,
            overweight=gen.overweight,
            chunk_size=gen.chunk_size,
            nan_policy=plan.nan_policy,
            batch_size=plan.batch_size,
            stats=stats,
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
            **header,
            "generation": stats.as_dict(),
            "card": card.as_dict(),
            "interrupted": interrupted,
        }
        for writer in writers:
            writer.close(closing)
    return interrupted


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
    finally:
        if tmp.exists():
            tmp.unlink()
