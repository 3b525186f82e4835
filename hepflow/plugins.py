"""The plugin manager: entry points, broken-plugin isolation, the component registry, create().

Plugins are found through the ``hepflow`` entry-point group, first-party ones included. A
plugin that fails to import, misspells a hook or raises while registering is recorded as broken
(name and error) and left out; every other plugin keeps working. ``HEPFLOW_DISABLE_PLUGINS``
(comma-separated entry-point names) turns plugins off without uninstalling them.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import inspect
import os
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy

from . import hookspecs, protocols
from .errors import ComponentError, PluginError

__all__ = [
    "KINDS",
    "ComponentInfo",
    "PluginInfo",
    "PluginWarning",
    "Registry",
    "create",
    "get_registry",
    "reset_registry",
]

ENTRY_POINT_GROUP = "hepflow"
DISABLE_ENV = "HEPFLOW_DISABLE_PLUGINS"

KINDS: dict[str, str] = {
    "integrand": "hepflow_integrands",
    "sampler": "hepflow_samplers",
    "generator": "hepflow_generators",
    "writer": "hepflow_writers",
    "reader": "hepflow_readers",
}
_PROTOCOLS = {
    "integrand": protocols.Integrand,
    "sampler": protocols.Sampler,
    "generator": protocols.Generator,
    "writer": protocols.EventWriter,
    "reader": protocols.EventReader,
}
_HOOK_NAMES = frozenset(
    name
    for name in dir(hookspecs)
    if name.startswith("hepflow_") and callable(getattr(hookspecs, name))
)


class PluginWarning(UserWarning):
    """A plugin was found but could not be used."""


@dataclass(frozen=True)
class ComponentInfo:
    """One registered component: a factory under a name, from a plugin."""

    kind: str
    name: str
    plugin: str
    factory: Callable[..., Any]

    @property
    def qualified_name(self) -> str:
        return f"{self.plugin}:{self.name}"

    @property
    def summary(self) -> str:
        doc = inspect.getdoc(self.factory) or ""
        return doc.strip().splitlines()[0] if doc.strip() else ""

    def options(self) -> dict[str, Any]:
        """Option name -> default (``inspect.Parameter.empty`` when required)."""
        return {
            p.name: p.default
            for p in _parameters(self.factory)
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }


@dataclass
class PluginInfo:
    """What the registry knows about one plugin, loaded or not."""

    name: str
    distribution: str | None = None
    version: str | None = None
    module: str | None = None
    components: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None
    disabled: bool = False

    @property
    def status(self) -> str:
        return "disabled" if self.disabled else ("broken" if self.error else "ok")


class Registry:
    """A pluggy manager with hepflow's hook specs and the components its plugins registered.

    ``Registry()`` loads every installed entry point; ``Registry(entry_points=False)`` starts
    empty (tests, embedding). ``register(obj, name)`` adds an in-process plugin the same way.
    """

    def __init__(
        self,
        plugins: Iterable[tuple[str, object]] = (),
        *,
        entry_points: bool = True,
        disabled: Iterable[str] | None = None,
    ) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._plugins: dict[str, PluginInfo] = {}
        self._components: dict[str, dict[str, list[ComponentInfo]]] = {k: {} for k in KINDS}
        if disabled is None:
            disabled = [s.strip() for s in os.environ.get(DISABLE_ENV, "").split(",")]
        self.disabled = frozenset(s for s in disabled if s)
        if entry_points:
            self._load_entry_points()
        for name, plugin in plugins:
            self.register(plugin, name)

    # -- loading ----------------------------------------------------------------------------
    def _load_entry_points(self) -> None:
        seen: set[str] = set()
        for ep in sorted(
            importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name
        ):
            dist = getattr(ep, "dist", None)
            info = PluginInfo(
                name=ep.name,
                distribution=dist.metadata["Name"] if dist is not None else None,
                version=dist.version if dist is not None else None,
                module=ep.value,
            )
            if ep.name in seen:  # two distributions claim one plugin name: not silently
                first = self._plugins[ep.name]
                info.name = f"{ep.name} ({info.distribution})"
                self._mark_broken(
                    info,
                    f"plugin name {ep.name!r} is also registered by {first.distribution} "
                    f"({first.module}); uninstall one of them or disable it with {DISABLE_ENV}",
                )
                continue
            seen.add(ep.name)
            if ep.name in self.disabled:
                info.disabled = True
                self._plugins[ep.name] = info
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # any import failure must not take the others down
                self._mark_broken(
                    info, f"import of {ep.value!r} failed: {type(exc).__name__}: {exc}"
                )
                continue
            self._register(plugin, info)

    def register(self, plugin: object, name: str, *, version: str | None = None) -> PluginInfo:
        """Register an in-process plugin (a module or object with hook implementations)."""
        if name in self._plugins and self._plugins[name].status == "ok":
            raise PluginError(f"a plugin named {name!r} is already registered; choose another name")
        info = PluginInfo(name=name, version=version, module=getattr(plugin, "__name__", None))
        return self._register(plugin, info)

    def _register(self, plugin: object, info: PluginInfo) -> PluginInfo:
        self._plugins[info.name] = info
        problem = _unmarked_hooks(plugin)
        if problem:
            return self._mark_broken(info, problem)
        try:
            self.pm.register(plugin, name=info.name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            if self.pm.get_plugin(info.name) is plugin:  # pluggy < 1.7 leaves it half-registered
                self.pm.unregister(plugin)
            return self._mark_broken(info, f"invalid hook implementation: {exc}")
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(name=info.name)
            return self._mark_broken(info, _explain_pending(exc))
        try:
            found = self._collect_components(info.name)
        except Exception as exc:
            self.pm.unregister(name=info.name)
            return self._mark_broken(
                info, f"registering components raised {type(exc).__name__}: {exc}"
            )
        for component in found:
            self._components[component.kind].setdefault(component.name, []).append(component)
            info.components.setdefault(component.kind, []).append(component.name)
        return info

    def _collect_components(self, plugin_name: str) -> list[ComponentInfo]:
        found = []
        for kind, hook_name in KINDS.items():
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                if impl.plugin_name != plugin_name:
                    continue
                result = impl.function()
                if not isinstance(result, Mapping):
                    raise PluginError(
                        f"{hook_name} must return a mapping of name -> factory, got {type(result).__name__}"
                    )
                for name, factory in result.items():
                    if not isinstance(name, str) or ":" in name or not callable(factory):
                        raise PluginError(
                            f"{hook_name}: {name!r} must be a name without ':' mapped to a callable"
                        )
                    found.append(ComponentInfo(kind, name, plugin_name, factory))
        return found

    def _mark_broken(self, info: PluginInfo, error: str) -> PluginInfo:
        info.error = error
        info.components.clear()
        self._plugins[info.name] = info
        warnings.warn(
            f"hepflow plugin {info.name!r} is broken and was left out: {error}",
            PluginWarning,
            stacklevel=3,
        )
        return info

    # -- queries ----------------------------------------------------------------------------
    @property
    def hook(self):
        return self.pm.hook

    def plugins(self) -> list[PluginInfo]:
        return sorted(self._plugins.values(), key=lambda p: p.name)

    def components(self, kind: str) -> list[ComponentInfo]:
        _check_kind(kind)
        return sorted(
            (c for entries in self._components[kind].values() for c in entries),
            key=lambda c: c.qualified_name,
        )

    def lookup(self, kind: str, name: str) -> ComponentInfo:
        """Find a component by ``name`` (unique) or ``plugin:name``."""
        _check_kind(kind)
        plugin, _, short = name.rpartition(":")
        candidates = self._components[kind].get(short, [])
        if plugin:
            candidates = [c for c in candidates if c.plugin == plugin]
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            names = ", ".join(c.qualified_name for c in candidates)
            raise ComponentError(
                f"{kind} {name!r} is ambiguous: provided by {names}; use plugin:name"
            )
        raise ComponentError(self._unknown_message(kind, name))

    def _unknown_message(self, kind: str, name: str) -> str:
        available = self.components(kind)
        names = [c.name for c in available] + [c.qualified_name for c in available]
        msg = f"unknown {kind} {name!r}."
        close = difflib.get_close_matches(name, names, n=1)
        if close:
            msg += f" Did you mean {close[0]!r}?"
        listing = ", ".join(c.qualified_name for c in available) or "none"
        msg += f" Available {kind}s: {listing}."
        broken = [p for p in self.plugins() if p.error]
        if broken:
            msg += " Broken plugins: " + "; ".join(f"{p.name} ({p.error})" for p in broken) + "."
        off = [p.name for p in self.plugins() if p.disabled]
        if off:
            msg += f" Disabled by {DISABLE_ENV}: {', '.join(off)}."
        return msg

    # -- creation ---------------------------------------------------------------------------
    def create(
        self,
        kind: str,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        implicit: Mapping[str, Any] | None = None,
        where: str | None = None,
    ) -> Any:
        """Build a component. ``options`` are the user's (unknown ones are an error);
        ``implicit`` ones (device, dim) are passed only where the factory takes them.
        ``where`` names the origin of the options (a card table) in error messages."""
        info = self.lookup(kind, name)
        options = dict(options or {})
        accepted = info.options()
        takes_any = any(p.kind is p.VAR_KEYWORD for p in _parameters(info.factory))
        origin = where or f"{kind} {info.qualified_name}"
        unknown = sorted(set(options) - set(accepted)) if not takes_any else []
        if unknown:
            listing = ", ".join(_describe_option(k, v) for k, v in accepted.items()) or "none"
            hints = [difflib.get_close_matches(u, list(accepted), n=1) for u in unknown]
            hint = "".join(
                f" Did you mean {h[0]!r} for {u!r}?"
                for u, h in zip(unknown, hints, strict=False)
                if h
            )
            raise ComponentError(
                f"{origin}: unknown option{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(map(repr, unknown))}.{hint} Options of {kind} {info.qualified_name}: {listing}."
            )
        for key, value in (implicit or {}).items():
            if key not in options and (key in accepted or takes_any):
                options[key] = value
        missing = [
            k for k, d in accepted.items() if d is inspect.Parameter.empty and k not in options
        ]
        if missing:
            raise ComponentError(
                f"{origin}: missing required option(s) {', '.join(map(repr, missing))}"
            )
        try:
            obj = info.factory(**options)
        except (TypeError, ValueError) as exc:
            raise ComponentError(f"{origin}: {exc}") from exc
        protocol = _PROTOCOLS[kind]
        if not isinstance(obj, protocol):
            raise ComponentError(
                f"{kind} {info.qualified_name} built a {type(obj).__name__}, which does not satisfy "
                f"hepflow.protocols.{protocol.__name__}; see its docstring for the required methods"
            )
        return obj

    # -- life-cycle hooks -------------------------------------------------------------------
    def process_events(self, events: Any, context: Any) -> Any:
        """Pass an EventBatch through every ``hepflow_process_events`` implementation in order."""
        from .events import EventBatch

        impls = self.pm.hook.hepflow_process_events.get_hookimpls()
        for impl in reversed(impls):  # pluggy's call order: tryfirst first, LIFO within a group
            if impl.hookwrapper or impl.wrapper:
                raise PluginError(
                    f"plugin {impl.plugin_name!r}: hepflow_process_events cannot be a wrapper"
                )
            kwargs = {"events": events, "context": context}
            out = impl.function(*(kwargs[a] for a in impl.argnames))
            if out is None:
                continue
            if not isinstance(out, EventBatch):
                raise PluginError(
                    f"plugin {impl.plugin_name!r}: hepflow_process_events returned "
                    f"{type(out).__name__}; return an EventBatch or None"
                )
            events = out
        return events


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ComponentError(f"unknown component kind {kind!r}; kinds are: {', '.join(KINDS)}")


def _signature(factory: Callable[..., Any]) -> inspect.Signature:
    try:
        return inspect.signature(factory)
    except (TypeError, ValueError):  # builtins without a signature take anything
        return inspect.Signature([inspect.Parameter("options", inspect.Parameter.VAR_KEYWORD)])


def _parameters(factory: Callable[..., Any]) -> list[inspect.Parameter]:
    """The factory's parameters. A class whose ``__init__`` takes ``**options`` hands them to
    its base class (``super().__init__(**options)``), so the next ``__init__`` along the MRO
    adds the options it names: cards, flags and ``hepflow plugins`` then reach a base class's
    options (a hadronic process's ``sqrt_s``), and a misspelt one is refused by name."""
    params = list(_signature(factory).parameters.values())
    if not inspect.isclass(factory):
        return params
    for base in factory.__mro__[1:-1]:  # up to, not including, object
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
        if "__init__" not in vars(base):
            continue
        inherited = list(_signature(base.__init__).parameters.values())[1:]  # without self
        named = {p.name for p in params}
        params = [p for p in params if p.kind is not p.VAR_KEYWORD] + [
            p for p in inherited if p.name not in named and p.kind is not p.VAR_POSITIONAL
        ]
    return params


def _describe_option(name: str, default: Any) -> str:
    return name if default is inspect.Parameter.empty else f"{name}={default!r}"


def _unmarked_hooks(plugin: object) -> str | None:
    """Functions named like a hook but missing ``@hepflow.hookimpl`` are silently ignored by
    pluggy; report them instead."""
    marker = f"{hookspecs.PROJECT}_impl"
    for attr in dir(plugin):
        if attr in _HOOK_NAMES:
            fn = getattr(plugin, attr, None)
            if callable(fn) and not hasattr(fn, marker):
                return f"{attr} is not decorated with @hepflow.hookimpl"
    return None


def _explain_pending(exc: pluggy.PluginValidationError) -> str:
    match = re.search(r"unknown hook '([^']+)'", str(exc))
    if not match:
        return f"unknown hook implementation: {exc}"
    name = match.group(1)
    close = difflib.get_close_matches(name, sorted(_HOOK_NAMES), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{name} is not a hepflow hook{hint}"


_registry: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry of installed plugins, loaded on first use."""
    global _registry
    if _registry is None:
        _registry = Registry()
    return _registry


def reset_registry() -> None:
    """Forget the loaded plugins (the next ``get_registry`` reloads entry points)."""
    global _registry
    _registry = None


def create(kind: str, name: str, /, **options: Any) -> Any:
    """Build any installed component: ``hepflow.create("sampler", "vegas", dim=4, alpha=0.5)``."""
    return get_registry().create(kind, name, options)
