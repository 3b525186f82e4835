"""The ``hepflow`` command: ``plugins``, ``integrate``, ``run``.

Errors in the user's input (a bad card, an unknown plugin, a NaN from an integrand) are printed
as one line naming the problem and the fix, with exit status 2; ``--json`` prints a
machine-readable result on stdout and nothing else there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from . import __version__
from .card import ComponentSpec, IntegrationSpec, RunCard, load_card, parse_card
from .errors import HepflowError
from .plugins import KINDS, PluginWarning, Registry, get_registry
from .run import integrate_card, run_pipeline

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    warnings.showwarning = _show_warning
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "integrate":
        parser.error(f"unrecognised arguments: {' '.join(extra)}")
    try:
        return args.func(args, extra)
    except HepflowError as exc:
        print(f"hepflow: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hepflow: interrupted; outputs already complete were kept", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `hepflow ... | head`: the reader left; no traceback for that
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Plugin problems as one line each, without the source line pluggy users don't need."""
    if issubclass(category, PluginWarning):
        print(f"hepflow: warning: {message}", file=sys.stderr)
    else:
        print(
            warnings.formatwarning(message, category, filename, lineno, line),
            file=sys.stderr,
            end="",
        )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hepflow", description="Plugin-based event generation for high-energy physics."
    )
    parser.add_argument("--version", action="version", version=f"hepflow {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("plugins", help="list installed plugins and their components")
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    p.set_defaults(func=_cmd_plugins)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--seed", type=int, help="random seed (same seed, same result)")
    common.add_argument("--device", help="cpu, cuda, cuda:N or auto")
    common.add_argument("--json", action="store_true", help="print a JSON result on stdout")
    common.add_argument("--quiet", action="store_true", help="no progress bar, no table")
    common.add_argument("--sampler-state", metavar="FILE", help="start from a saved sampler")
    common.add_argument("--save-sampler", metavar="FILE", help="save the adapted sampler")

    p = sub.add_parser(
        "integrate",
        parents=[common],
        help="integrate an integrand with a sampler",
        description="Integrate from flags or a card. Other --key value flags are passed to the "
        "integrand or sampler that takes that option (e.g. --width 0.1).",
    )
    p.add_argument("--card", help="TOML run card (flags override it)")
    p.add_argument("--integrand", help="integrand name, e.g. camel or toys:camel")
    p.add_argument("--dim", type=int, help="dimension, for integrands defined in any d")
    p.add_argument("--sampler", help="sampler name (default: vegas)")
    p.add_argument("--iterations", type=int, help="refine iterations")
    p.add_argument("--evals", type=int, help="integrand evaluations per iteration")
    p.add_argument("--survey-iterations", type=int, help="adapting iterations, discarded")
    p.add_argument("--survey-evals", type=int, help="evaluations per survey iteration")
    p.add_argument("--keep-survey", action="store_true", help="count survey iterations too")
    p.add_argument("--freeze", action="store_true", help="no adaptation in refine iterations")
    p.add_argument("--nan-policy", choices=["raise", "drop"], help="what to do with NaN/inf")
    p.add_argument("--batch-size", type=int, help="evaluate the integrand in chunks")
    p.add_argument(
        "-I",
        dest="integrand_options",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="integrand option",
    )
    p.add_argument(
        "-S",
        dest="sampler_options",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="sampler option",
    )
    p.set_defaults(func=_cmd_integrate)

    p = sub.add_parser("run", parents=[common], help="run the whole pipeline from a card")
    p.add_argument("card", help="TOML run card")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument(
        "--executor", choices=["local", "dask"], default="local", help="where events are generated"
    )
    p.add_argument(
        "--scheduler", metavar="ADDR", help="existing Dask scheduler (default: a LocalCluster)"
    )
    p.add_argument(
        "--workers", type=int, default=2, help="shards (and LocalCluster workers) for dask"
    )
    p.set_defaults(func=_cmd_run)
    return parser


# -- plugins ----------------------------------------------------------------------------------
def _cmd_plugins(args: argparse.Namespace, extra: list[str]) -> int:
    registry = get_registry()
    rows = [
        {
            "name": p.name,
            "distribution": p.distribution,
            "version": p.version,
            "status": p.status,
            "error": p.error,
            "components": p.components,
        }
        for p in registry.plugins()
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(_plugin_table(rows))
    for kind in KINDS:
        comps = registry.components(kind)
        if comps:
            print(f"\n{kind}s:")
            width = max(len(c.qualified_name) for c in comps)
            for c in comps:
                print(f"  {c.qualified_name:<{width}}  {c.summary}")
    return 0


def _plugin_table(rows: list[dict[str, Any]]) -> str:
    def comps(row: dict[str, Any]) -> str:
        if row["error"]:
            return f"error: {row['error']}"
        return "; ".join(f"{k}: {', '.join(v)}" for k, v in row["components"].items()) or "-"

    table = [("plugin", "version", "status", "components")]
    table += [(r["name"], r["version"] or "-", r["status"], comps(r)) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d}" for a, b, c, d in table]
    lines.insert(1, "-" * max(len(line) for line in lines))
    return "\n".join(lines)


# -- integrate --------------------------------------------------------------------------------
def _cmd_integrate(args: argparse.Namespace, extra: list[str]) -> int:
    registry = get_registry()
    card = load_card(args.card) if args.card else None
    card = _integrate_card(args, card, registry, extra)
    result, _, _ = integrate_card(
        card,
        registry=registry,
        progress=not (args.quiet or args.json),
        sampler_state=args.sampler_state,
        save_sampler=args.save_sampler,
    )
    if args.json:
        payload = {
            "integrand": registry.lookup("integrand", card.integrand.name).qualified_name,
            "sampler": registry.lookup("sampler", card.sampler.name).qualified_name,
            "seed": card.seed,
            **result.to_dict(),
        }
        print(json.dumps(payload, indent=2))
    elif args.quiet:
        print(f"{result.combined}")
    else:
        print(result)
        if result.reference is not None:
            print(f"exact  = {result.reference:.10g}    pull = {result.pull():+.2f} sigma")
    return 0


def _integrate_card(
    args: argparse.Namespace, card: RunCard | None, registry: Registry, extra: list[str]
) -> RunCard:
    """Merge the card (if any) with flags; flags win."""
    if card is None:
        if not args.integrand:
            raise HepflowError("give --integrand NAME or --card FILE (see `hepflow plugins`)")
        card = parse_card({"integrand": {"name": args.integrand}}, source="command line")
    same = not args.integrand or args.integrand == card.integrand.name
    integrand = card.integrand if same else ComponentSpec(args.integrand)
    sampler = card.sampler if not args.sampler else ComponentSpec(args.sampler)
    i_opts = {**integrand.options, **_key_values(args.integrand_options, "-I")}
    s_opts = {**sampler.options, **_key_values(args.sampler_options, "-S")}
    if args.dim is not None:
        i_opts["dim"] = args.dim
    for key, value in _extra_options(extra).items():
        takes_i = key in registry.lookup("integrand", integrand.name).options()
        takes_s = key in registry.lookup("sampler", sampler.name).options()
        if not (takes_i or takes_s):
            raise HepflowError(
                f"--{key.replace('_', '-')}: neither integrand {integrand.name!r} nor sampler "
                f"{sampler.name!r} takes option {key!r}; see `hepflow plugins`, or use -I/-S"
            )
        if takes_i and takes_s:
            raise HepflowError(
                f"--{key.replace('_', '-')}: both integrand {integrand.name!r} and sampler "
                f"{sampler.name!r} take option {key!r}; say which with -I {key}=... or -S {key}=..."
            )
        (i_opts if takes_i else s_opts)[key] = value
    plan = card.integration
    changes = {
        "iterations": args.iterations,
        "evals": args.evals,
        "survey_iterations": args.survey_iterations,
        "survey_evals": args.survey_evals,
        "nan_policy": args.nan_policy,
        "batch_size": args.batch_size,
    }
    if args.keep_survey:
        changes["discard_survey"] = False
    if args.freeze:
        changes["adapt_refine"] = False
    plan = replace(plan, **{k: v for k, v in changes.items() if v is not None})
    # re-validate the merged plan through the card schema, so flags get the card's messages
    checked = parse_card(
        {
            "integrand": {"name": integrand.name},
            "integration": {k: v for k, v in vars(plan).items() if v is not None},
            **({"seed": args.seed} if args.seed is not None else {}),
            **({"device": args.device} if args.device else {}),
        },
        source="command line",
    )
    return replace(
        card,
        integrand=ComponentSpec(integrand.name, i_opts),
        sampler=ComponentSpec(sampler.name, s_opts),
        integration=IntegrationSpec(**vars(checked.integration)),
        seed=checked.seed if args.seed is not None else card.seed,
        device=checked.device if args.device else card.device,
    )


def _key_values(items: list[str], flag: str) -> dict[str, Any]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise HepflowError(f"{flag} {item!r}: expected KEY=VALUE, e.g. {flag} width=0.1")
        out[key.strip()] = _literal(value.strip())
    return out


def _extra_options(tokens: list[str]) -> dict[str, Any]:
    """--some-key value / --some-key=value / --flag -> {'some_key': value, 'flag': True}."""
    out: dict[str, Any] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not token.startswith("--") or len(token) < 3:
            raise HepflowError(f"unexpected argument {token!r}; options look like --key value")
        key, sep, value = token[2:].partition("=")
        if not sep:
            if i + 1 < len(tokens) and not tokens[i + 1].startswith("--"):
                value, i = tokens[i + 1], i + 1
            else:
                value = "true"
        out[key.replace("-", "_")] = _literal(value)
        i += 1
    return out


def _literal(text: str) -> Any:
    """A TOML literal (int, float, bool, array) if the text is one, else the string."""
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


# -- run --------------------------------------------------------------------------------------
def _cmd_run(args: argparse.Namespace, extra: list[str]) -> int:
    card = load_card(args.card)
    overrides = {"seed": args.seed, "device": args.device}
    if args.overwrite:
        overrides["overwrite"] = True
    checked = parse_card(
        {"integrand": "x", **{k: v for k, v in overrides.items() if v is not None}},
        source="command line",
    )
    card = card.with_overrides(
        seed=checked.seed if args.seed is not None else None,
        device=checked.device if args.device else None,
        overwrite=True if args.overwrite else None,
    )
    summary = run_pipeline(
        card,
        progress=not (args.quiet or args.json),
        sampler_state=args.sampler_state,
        save_sampler=args.save_sampler,
        executor=args.executor,
        scheduler=args.scheduler,
        workers=args.workers,
    )
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
        return 0
    xs = summary["cross_section"]
    integration = summary["integration"]
    print(
        f"cross section = {xs['value']:.8g} +- {xs['error']:.3g} {xs['unit']}".rstrip()
        + f"   chi2/dof = {integration['chi2_dof']:.2f}  Q = {integration['Q']:.2f}"
    )
    gen = summary["generation"]
    if gen:
        print(
            f"events = {gen['n_events']} (efficiency {gen['unweighting_efficiency']:.3g}, "
            f"{gen['n_overweight']} overweight)"
        )
    for path in summary["outputs"]:
        print(f"wrote {path}")
    print(f"summary: {summary['summary_path']}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
