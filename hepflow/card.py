"""Run cards: TOML in, a validated ``RunCard`` out.

A card names the integrand and sampler (with their options), the iteration plan, the event
generation and outputs, the device and the seed. Every error names the file, the key, the bad
value and what is allowed; component options are checked later, against the component's own
signature, by ``Registry.create``.

    seed = 1
    device = "cpu"

    [integrand]
    name = "camel"
    dim = 4

    [sampler]
    name = "vegas"

    [integration]
    survey_iterations = 5
    iterations = 10
    evals = 100000

    [generation]
    events = 10000

    [[output]]
    writer = "lhe"
    path = "events.lhe.gz"
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import CardError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "ComponentSpec",
    "GenerationSpec",
    "IntegrationSpec",
    "OutputSpec",
    "RunCard",
    "load_card",
    "parse_card",
]


@dataclass(frozen=True)
class ComponentSpec:
    """A component by name with its options, as written in a card table."""

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IntegrationSpec:
    """The iteration plan: survey (adapt; optionally discarded), then refine."""

    iterations: int = 10
    evals: int = 10_000
    survey_iterations: int = 0
    survey_evals: int | None = None
    discard_survey: bool = True
    adapt_refine: bool = True
    nan_policy: str = "raise"
    batch_size: int | None = None


@dataclass(frozen=True)
class GenerationSpec:
    """Event generation after integration (``events = 0``: integrate only)."""

    events: int = 0
    mode: str = "unweighted"
    chunk_size: int = 10_000
    max_weight_quantile: float = 1.0
    overweight: str = "keep"


@dataclass(frozen=True)
class OutputSpec:
    """One writer and where it writes."""

    writer: str
    path: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunCard:
    integrand: ComponentSpec
    sampler: ComponentSpec = field(default_factory=lambda: ComponentSpec("vegas"))
    integration: IntegrationSpec = field(default_factory=IntegrationSpec)
    generation: GenerationSpec = field(default_factory=GenerationSpec)
    outputs: tuple[OutputSpec, ...] = ()
    seed: int = 1
    device: str = "cpu"
    output_dir: str = "."
    overwrite: bool = False
    plugins: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: str = "<card>"

    def with_overrides(self, **changes: Any) -> RunCard:
        """A copy with top-level fields replaced (command-line flags win over the card)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def as_dict(self) -> dict[str, Any]:
        """The card as plain data, for the run summary and file headers."""
        return asdict(self)


# -- value checks: each returns an error phrase or None ---------------------------------------
def _positive_int(v: Any) -> str | None:
    ok = isinstance(v, int) and not isinstance(v, bool) and v > 0
    return None if ok else "must be a positive integer"


def _non_negative_int(v: Any) -> str | None:
    ok = isinstance(v, int) and not isinstance(v, bool) and v >= 0
    return None if ok else "must be a non-negative integer"


def _bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


def _string(v: Any) -> str | None:
    return None if isinstance(v, str) and v else "must be a non-empty string"


def _one_of(*allowed: str) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        return None if v in allowed else f"must be one of {', '.join(map(repr, allowed))}"

    return check


def _quantile(v: Any) -> str | None:
    ok = isinstance(v, int | float) and not isinstance(v, bool) and 0 < v <= 1
    return None if ok else "must be a number in (0, 1]"


def _device(v: Any) -> str | None:
    ok = isinstance(v, str) and (v in ("cpu", "cuda", "auto", "mps") or v.startswith("cuda:"))
    return None if ok else "must be 'cpu', 'cuda', 'cuda:N' or 'auto'"


_INTEGRATION = {
    "iterations": _positive_int,
    "evals": _positive_int,
    "survey_iterations": _non_negative_int,
    "survey_evals": _positive_int,
    "discard_survey": _bool,
    "adapt_refine": _bool,
    "nan_policy": _one_of("raise", "drop"),
    "batch_size": _positive_int,
}
_GENERATION = {
    "events": _non_negative_int,
    "mode": _one_of("unweighted", "weighted"),
    "chunk_size": _positive_int,
    "max_weight_quantile": _quantile,
    "overweight": _one_of("keep", "cap"),
}
_TOP = {
    "seed": _non_negative_int,
    "device": _device,
    "output_dir": _string,
    "overwrite": _bool,
}
_TABLES = ("integrand", "sampler", "integration", "generation", "output", "plugins")


def load_card(path: str | Path) -> RunCard:
    """Read and validate a TOML run card."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CardError(f"cannot read run card {str(path)!r}: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CardError(f"{path}: not valid TOML: {exc}") from exc
    card = parse_card(data, source=str(path))
    # Relative output paths are relative to the card, so a card runs the same from anywhere.
    out_dir = Path(card.output_dir)
    if not out_dir.is_absolute():
        out_dir = path.parent / out_dir
    return replace(card, output_dir=str(out_dir))


def parse_card(data: Mapping[str, Any], *, source: str = "<card>") -> RunCard:
    """Validate a card already parsed into a mapping (from TOML or built in Python)."""
    where = _Where(source)
    allowed = sorted([*_TOP, *_TABLES])
    for key in data:
        if key not in _TOP and key not in _TABLES:
            where.fail(key, data[key], f"is not a run-card key; allowed: {', '.join(allowed)}")
    top = {k: where.check(k, data[k], check) for k, check in _TOP.items() if k in data}

    if "integrand" not in data:
        raise CardError(f'{source}: missing [integrand] table (with at least name = "...")')
    integrand = _component(where, "integrand", data["integrand"])
    sampler = _component(where, "sampler", data.get("sampler", {"name": "vegas"}))
    integration = IntegrationSpec(**_section(where, "integration", data, _INTEGRATION))
    generation = GenerationSpec(**_section(where, "generation", data, _GENERATION))
    outputs = tuple(_outputs(where, data.get("output", [])))
    if generation.events and not outputs:
        where.fail(
            "generation.events", generation.events, "asks for events but no [[output]] is given"
        )
    plugins = data.get("plugins", {})
    if not isinstance(plugins, Mapping) or not all(
        isinstance(v, Mapping) for v in plugins.values()
    ):
        where.fail("plugins", plugins, "must hold one table per plugin, e.g. [plugins.myplugin]")
    return RunCard(
        integrand=integrand,
        sampler=sampler,
        integration=integration,
        generation=generation,
        outputs=outputs,
        plugins={k: dict(v) for k, v in plugins.items()},
        source=source,
        **top,
    )


class _Where:
    """Formats errors as 'FILE: [table] key = value: problem'."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, value: Any, problem: str) -> None:
        table, _, leaf = key.rpartition(".")
        location = f"[{table}] {leaf}" if table else leaf
        raise CardError(f"{self.source}: {location} = {value!r}: {problem}")

    def check(self, key: str, value: Any, check: Callable[[Any], str | None]) -> Any:
        problem = check(value)
        if problem:
            self.fail(key, value, problem)
        return value


def _section(where: _Where, name: str, data: Mapping[str, Any], schema: dict) -> dict[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, Mapping):
        where.fail(name, table, f"must be a table: [{name}]")
    for key in table:
        if key not in schema:
            where.fail(f"{name}.{key}", table[key], f"unknown key; allowed: {', '.join(schema)}")
    return {k: where.check(f"{name}.{k}", v, schema[k]) for k, v in table.items()}


def _component(where: _Where, table_name: str, table: Any) -> ComponentSpec:
    if isinstance(table, str):  # integrand = "camel" shorthand
        table = {"name": table}
    if not isinstance(table, Mapping):
        where.fail(table_name, table, f'must be a table [{table_name}] with name = "..."')
    if "name" not in table:
        raise CardError(
            f'{where.source}: [{table_name}] needs name = "..." (see `hepflow plugins`)'
        )
    where.check(f"{table_name}.name", table["name"], _string)
    options = {k: v for k, v in table.items() if k != "name"}
    return ComponentSpec(name=table["name"], options=options)


def _outputs(where: _Where, entries: Any) -> list[OutputSpec]:
    if isinstance(entries, Mapping):
        entries = [entries]
    if not isinstance(entries, list):
        where.fail("output", entries, "must be [[output]] tables with writer and path")
    specs = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            where.fail(f"output.{i}", entry, "must be a table with writer and path")
        for key in ("writer", "path"):
            if key not in entry:
                raise CardError(f'{where.source}: [[output]] number {i + 1} needs {key} = "..."')
            where.check(f"output.{key}", entry[key], _string)
        options = {k: v for k, v in entry.items() if k not in ("writer", "path")}
        specs.append(OutputSpec(writer=entry["writer"], path=entry["path"], options=options))
    paths = [s.path for s in specs]
    for p in paths:
        if paths.count(p) > 1:
            where.fail("output.path", p, "is used by two outputs; give each its own file")
    return specs
