"""The plugin layer: discovery through real entry points, isolation of broken plugins,
the component registry and ``create``, and the order of event-batch processors.

Third-party plugins are installed for real: a ``NAME-VERSION.dist-info`` directory with
``METADATA`` and ``entry_points.txt`` beside the plugin module, in a directory put on
``sys.path``, which is exactly what ``importlib.metadata`` finds after a ``pip install``.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
import warnings

import pytest
import torch
from hepflow_uniform import UniformSampler

import hepflow
from hepflow import protocols
from hepflow.errors import ComponentError, PluginError
from hepflow.events import EventBatch
from hepflow.plugins import DISABLE_ENV, PluginWarning, Registry, get_registry, reset_registry

GOOD = """
import torch
import hepflow


class Parabola:
    \"\"\"Sum of x_i^2 times a scale: exact integral scale * dim / 3.

    More text that ``hepflow plugins`` does not show.
    \"\"\"

    def __init__(self, dim=2, scale=1.0):
        self.dim = dim
        self.scale = scale

    def __call__(self, x):
        return self.scale * (x**2).sum(1)


@hepflow.hookimpl
def hepflow_integrands():
    return {"parabola": Parabola}
"""


class Site:
    """A site-packages directory of our own, on sys.path for one test."""

    def __init__(self, root, monkeypatch):
        self.root = root
        self.modules: list[str] = []
        monkeypatch.syspath_prepend(str(root))

    def install(self, dist: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
        for module, source in modules.items():
            (self.root / f"{module}.py").write_text(textwrap.dedent(source))
            self.modules.append(module)
        # named as pip names it: the project name normalised ('-' -> '_'), then the version
        info = self.root / f"{dist.replace('-', '_')}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
        lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
        (info / "entry_points.txt").write_text("[hepflow]\n" + lines)
        importlib.invalidate_caches()


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.delenv(DISABLE_ENV, raising=False)
    s = Site(tmp_path, monkeypatch)
    yield s
    for module in s.modules:
        sys.modules.pop(module, None)


def load(**kwargs) -> tuple[Registry, list[str]]:
    """A registry of everything installed, and the PluginWarnings it emitted."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reg = Registry(**kwargs)
    return reg, [str(w.message) for w in caught if issubclass(w.category, PluginWarning)]


def plugin_info(reg: Registry) -> dict:
    return {p.name: p for p in reg.plugins()}


# -- discovery --------------------------------------------------------------------------------
def test_a_third_party_plugin_is_found_through_its_entry_point(site):
    site.install("hepflow-goodplugin", {"good": "hf_test_good"}, {"hf_test_good": GOOD})
    reg, warned = load()
    info = plugin_info(reg)
    good = info["good"]
    assert good.status == "ok"
    assert (good.distribution, good.version, good.module) == (
        "hepflow-goodplugin",
        "0.1",
        "hf_test_good",
    )
    assert good.components == {"integrand": ["parabola"]}
    assert not any("'good'" in w for w in warned)
    # the first-party plugin is found the same way, alongside it
    assert info["uniform"].status == "ok"
    assert info["uniform"].distribution == "hepflow"
    assert info["uniform"].components == {"sampler": ["uniform"]}
    (component,) = [c for c in reg.components("integrand") if c.plugin == "good"]
    assert component.qualified_name == "good:parabola"
    assert component.summary == "Sum of x_i^2 times a scale: exact integral scale * dim / 3."
    # and it builds and works; implicit options go only where the factory takes them
    f = reg.create("integrand", "parabola", {"scale": 2.0}, implicit={"dim": 3, "device": "cpu"})
    assert isinstance(f, protocols.Integrand) and f.dim == 3
    x = torch.tensor([[0.5, 1.0, 0.0], [0.1, 0.2, 0.3]], dtype=torch.float64)
    torch.testing.assert_close(f(x), torch.tensor([2.5, 0.28], dtype=torch.float64))


def test_a_plugin_whose_import_raises_is_isolated(site):
    site.install(
        "hepflow-bad",
        {"bad": "hf_test_bad"},
        {"hf_test_bad": "raise RuntimeError('boom: no licence server')\n"},
    )
    site.install("hepflow-goodplugin", {"good": "hf_test_good2"}, {"hf_test_good2": GOOD})
    reg, warned = load()
    info = plugin_info(reg)
    bad = info["bad"]
    assert bad.status == "broken"
    assert "hf_test_bad" in bad.error and "RuntimeError" in bad.error and "boom" in bad.error
    assert bad.components == {}
    assert any("'bad'" in w and "boom" in w for w in warned)
    # the others keep working
    assert info["good"].status == "ok" and info["uniform"].status == "ok"
    assert reg.create("integrand", "parabola").dim == 2
    assert isinstance(reg.create("sampler", "uniform", {"dim": 2}), UniformSampler)
    # and an unknown name says what is broken
    with pytest.raises(ComponentError, match=r"Broken plugins: .*bad \(import of 'hf_test_bad'"):
        reg.create("integrand", "nothing")


def test_a_misspelled_hook_is_reported_with_a_hint(site):
    typo = """
    import hepflow

    @hepflow.hookimpl
    def hepflow_samplerz():
        return {}
    """
    # 'a_typo' sorts (and loads) before the others, which must not inherit its failure
    site.install("hepflow-typo", {"a_typo": "hf_test_typo"}, {"hf_test_typo": typo})
    site.install("hepflow-goodplugin", {"good": "hf_test_good3"}, {"hf_test_good3": GOOD})
    reg, warned = load()
    info = plugin_info(reg)
    assert info["a_typo"].status == "broken"
    assert info["a_typo"].error == (
        "hepflow_samplerz is not a hepflow hook; did you mean 'hepflow_samplers'?"
    )
    assert any("'a_typo'" in w and "did you mean" in w for w in warned)
    assert reg.pm.get_plugin("a_typo") is None
    assert info["good"].status == "ok" and info["uniform"].status == "ok"
    reg.pm.check_pending()  # nothing of the broken plugin is left pending


def test_a_hook_without_the_decorator_is_reported(site):
    undecorated = """
    def hepflow_integrands():
        return {"forgotten": dict}
    """
    site.install("hepflow-nodeco", {"nodeco": "hf_test_nodeco"}, {"hf_test_nodeco": undecorated})
    reg, warned = load()
    nodeco = plugin_info(reg)["nodeco"]
    assert nodeco.status == "broken"
    assert nodeco.error == "hepflow_integrands is not decorated with @hepflow.hookimpl"
    assert any("'nodeco'" in w for w in warned)
    assert all(c.name != "forgotten" for c in reg.components("integrand"))


def test_a_hook_with_a_wrong_argument_name_is_reported_and_fully_left_out(site):
    wrong = """
    import hepflow

    CALLS = []

    @hepflow.hookimpl
    def hepflow_configure(config, context):
        CALLS.append("configure")

    @hepflow.hookimpl
    def hepflow_process_events(event, context):
        CALLS.append("process")
    """
    site.install("hepflow-wrongarg", {"wrongarg": "hf_test_wrongarg"}, {"hf_test_wrongarg": wrong})
    reg, warned = load()
    info = plugin_info(reg)["wrongarg"]
    assert info.status == "broken"
    assert "invalid hook implementation" in info.error
    assert "hepflow_process_events" in info.error and "'event'" in info.error
    assert any("'wrongarg'" in w for w in warned)
    # "left out" means none of its hooks run, not only the invalid one
    assert reg.pm.get_plugin("wrongarg") is None
    reg.hook.hepflow_configure(config={}, context=None)
    assert sys.modules["hf_test_wrongarg"].CALLS == []


def test_component_hooks_that_fail_are_reported(site):
    not_a_mapping = """
    import hepflow

    @hepflow.hookimpl
    def hepflow_writers():
        return ["lhe"]
    """
    raises = """
    import hepflow

    @hepflow.hookimpl
    def hepflow_readers():
        raise ImportError("uproot too old")
    """
    site.install(
        "hepflow-twobad",
        {"listy": "hf_test_listy", "raisy": "hf_test_raisy"},
        {"hf_test_listy": not_a_mapping, "hf_test_raisy": raises},
    )
    reg, _ = load()
    info = plugin_info(reg)
    assert info["listy"].status == "broken" and "must return a mapping" in info["listy"].error
    assert info["raisy"].status == "broken"
    assert "ImportError: uproot too old" in info["raisy"].error
    assert reg.pm.get_plugin("listy") is None and reg.pm.get_plugin("raisy") is None


def test_disabled_plugins_are_not_even_imported(site, monkeypatch):
    site.install(
        "hepflow-bad", {"bad": "hf_test_bad4"}, {"hf_test_bad4": "raise RuntimeError('boom')\n"}
    )
    site.install("hepflow-goodplugin", {"good": "hf_test_good4"}, {"hf_test_good4": GOOD})
    monkeypatch.setenv(DISABLE_ENV, "bad, good")
    reg, warned = load()
    info = plugin_info(reg)
    assert info["bad"].status == "disabled" and info["good"].status == "disabled"
    assert info["good"].components == {}
    assert not any("'bad'" in w or "'good'" in w for w in warned)
    assert "hf_test_bad4" not in sys.modules and "hf_test_good4" not in sys.modules
    assert info["uniform"].status == "ok"
    with pytest.raises(ComponentError, match=f"Disabled by {DISABLE_ENV}: bad, good"):
        reg.create("integrand", "parabola")
    # the argument overrides the environment
    reg2, _ = load(disabled=["bad"])
    assert plugin_info(reg2)["good"].status == "ok"


# -- the registry and create ----------------------------------------------------------------------
def test_unknown_name_lists_what_exists_and_suggests_the_close_one():
    reg, _ = load()
    with pytest.raises(ComponentError) as err:
        reg.create("sampler", "unifrom", {"dim": 2})
    msg = str(err.value)
    assert "unknown sampler 'unifrom'" in msg
    assert "Did you mean 'uniform'?" in msg
    assert "Available samplers:" in msg and "uniform:uniform" in msg
    with pytest.raises(ComponentError, match="kinds are: integrand, sampler, generator"):
        reg.create("samplers", "uniform")


def test_unknown_option_is_an_error_listing_the_accepted_ones():
    reg, _ = load()
    with pytest.raises(ComponentError) as err:
        reg.create("sampler", "uniform", {"dim": 2, "devise": "cpu"})
    msg = str(err.value)
    assert "unknown option 'devise'" in msg
    assert "Did you mean 'device' for 'devise'?" in msg
    assert "Options of sampler uniform:uniform: dim, device='cpu'" in msg
    with pytest.raises(ComponentError, match=r"^\[sampler\] in run.toml: unknown options 'a', 'b'"):
        reg.create("sampler", "uniform", {"dim": 2, "a": 1, "b": 2}, where="[sampler] in run.toml")
    with pytest.raises(ComponentError, match=r"missing required option\(s\) 'dim'"):
        reg.create("sampler", "uniform", {})
    # a factory's own ValueError becomes a ComponentError naming the component
    with pytest.raises(ComponentError, match="sampler uniform:uniform: dim must be a positive"):
        reg.create("sampler", "uniform", {"dim": 0})


def test_qualified_names_and_ambiguity(site):
    other = """
    import torch
    import hepflow
    from hepflow.events import PointBatch


    class Halton:
        \"\"\"Another sampler that happens to be called 'uniform'.\"\"\"

        def __init__(self, dim):
            self.dim = dim

        def sample(self, n, generator):
            x = torch.rand(n, self.dim, generator=generator, dtype=torch.float64)
            return PointBatch(x=x, q=torch.ones(n, dtype=torch.float64))

        def adapt(self, batch):
            pass

        def state_dict(self):
            return {}

        def load_state_dict(self, state):
            pass


    @hepflow.hookimpl
    def hepflow_samplers():
        return {"uniform": Halton}
    """
    site.install("hepflow-other", {"other": "hf_test_other"}, {"hf_test_other": other})
    reg, _ = load()
    with pytest.raises(ComponentError) as err:
        reg.create("sampler", "uniform", {"dim": 2})
    assert str(err.value) == (
        "sampler 'uniform' is ambiguous: provided by other:uniform, uniform:uniform; use plugin:name"
    )
    assert isinstance(reg.create("sampler", "uniform:uniform", {"dim": 2}), UniformSampler)
    assert type(reg.create("sampler", "other:uniform", {"dim": 2})).__name__ == "Halton"
    assert reg.lookup("sampler", "other:uniform").plugin == "other"
    with pytest.raises(ComponentError, match="unknown sampler 'nope:uniform'"):
        reg.lookup("sampler", "nope:uniform")


class _NoAdapt:
    """A sampler that forgot adapt and state_dict."""

    def __init__(self, dim: int = 1) -> None:
        self.dim = dim

    def sample(self, n, generator):
        raise NotImplementedError


class _LazyPlugin:
    @hepflow.hookimpl
    def hepflow_samplers(self):
        return {"lazy": _NoAdapt}


def test_the_object_built_must_satisfy_the_protocol():
    reg = Registry([("lazy", _LazyPlugin())], entry_points=False)
    with pytest.raises(
        ComponentError,
        match=r"built a _NoAdapt, which does not satisfy hepflow\.protocols\.Sampler",
    ):
        reg.create("sampler", "lazy")


class _BaseSampler(UniformSampler):
    """A sampler whose options live on its base class, reached through ``**options``."""

    def __init__(self, *, stretch: float = 1.0, **options) -> None:
        self.stretch = stretch
        super().__init__(**options)


class _InheritingPlugin:
    @hepflow.hookimpl
    def hepflow_samplers(self):
        return {"inheriting": _BaseSampler}


def test_options_passed_on_to_a_base_class_are_listed_and_checked_by_name():
    reg = Registry([("inheriting", _InheritingPlugin())], entry_points=False)
    assert list(reg.lookup("sampler", "inheriting").options()) == ["stretch", "dim", "device"]
    built = reg.create("sampler", "inheriting", {"dim": 3, "stretch": 2.0})
    assert (built.dim, built.stretch) == (3, 2.0)
    with pytest.raises(ComponentError, match=r"unknown option 'dimm'\. Did you mean 'dim'"):
        reg.create("sampler", "inheriting", {"dimm": 3})


def test_registering_a_taken_name_is_an_error():
    reg = Registry([("lazy", _LazyPlugin())], entry_points=False)
    with pytest.raises(PluginError, match="'lazy' is already registered"):
        reg.register(_LazyPlugin(), "lazy")


# -- hepflow_process_events ordering ----------------------------------------------------------------
def _events(weights) -> EventBatch:
    n = len(weights)
    return EventBatch.from_regular(
        pdg_id=torch.tensor([11, -11]),
        status=torch.tensor([1, 1]),
        mothers=torch.zeros(2, 2, dtype=torch.int64),
        color=torch.zeros(2, 2, dtype=torch.int64),
        momentum=torch.arange(n * 8, dtype=torch.float64).reshape(n, 2, 4),
        weight=torch.tensor(weights, dtype=torch.float64),
    )


class _Cut:
    def __init__(self, log):
        self.log = log

    @hepflow.hookimpl(tryfirst=True)
    def hepflow_process_events(self, events, context):
        self.log.append(("cut", events.weight.tolist(), context))
        return events.select(events.weight > 1.0)


class _Reweight:
    def __init__(self, log, name, fn):
        self.log, self.name, self.fn = log, name, fn

    @hepflow.hookimpl
    def hepflow_process_events(self, events):  # a subset of the spec's arguments is fine
        self.log.append((self.name, events.weight.tolist()))
        return events.with_weights(self.fn(events.weight))


class _Observer:
    def __init__(self, log):
        self.log = log

    @hepflow.hookimpl(trylast=True)
    def hepflow_process_events(self, events, context):
        self.log.append(("observer", events.weight.tolist(), len(events.pdg_id)))
        # returns None: the batch passes on unchanged


def test_event_processors_run_cut_then_reweight_then_observer():
    log: list = []
    # registered in an order unlike the call order
    reg = Registry(
        [
            ("observer", _Observer(log)),
            ("double", _Reweight(log, "double", lambda w: 2 * w)),
            ("cut", _Cut(log)),
            ("plus1", _Reweight(log, "plus1", lambda w: w + 1)),
        ],
        entry_points=False,
    )
    out = reg.process_events(_events([0.5, 2.0, 1.5, 1.0]), context="ctx")
    assert log == [
        ("cut", [0.5, 2.0, 1.5, 1.0], "ctx"),
        # plain ones: the one registered last runs first (pluggy's LIFO), as documented
        ("plus1", [2.0, 1.5]),
        ("double", [3.0, 2.5]),
        ("observer", [6.0, 5.0], 4),
    ]
    assert out.weight.tolist() == [6.0, 5.0]
    assert out.momentum[0, 0].item() == 8.0  # event 1's particles survived the cut with it


def test_no_event_processors_pass_the_batch_through():
    reg = Registry(entry_points=False)
    ev = _events([1.0])
    assert reg.process_events(ev, context=None) is ev


class _ReturnsDict:
    @hepflow.hookimpl
    def hepflow_process_events(self, events, context):
        return {"weight": events.weight}


class _Wrapper:
    @hepflow.hookimpl(wrapper=True)
    def hepflow_process_events(self, events, context):
        return (yield)


def test_event_processors_must_return_an_event_batch_or_none():
    reg = Registry([("dicty", _ReturnsDict())], entry_points=False)
    with pytest.raises(PluginError, match="plugin 'dicty': hepflow_process_events returned dict"):
        reg.process_events(_events([1.0]), context=None)
    reg = Registry([("wrappy", _Wrapper())], entry_points=False)
    with pytest.raises(PluginError, match="'wrappy': hepflow_process_events cannot be a wrapper"):
        reg.process_events(_events([1.0]), context=None)


# -- hepflow.create -----------------------------------------------------------------------------
@pytest.fixture
def fresh_registry(monkeypatch):
    monkeypatch.delenv(DISABLE_ENV, raising=False)
    reset_registry()
    yield
    reset_registry()


def test_module_level_create_builds_the_uniform_sampler(fresh_registry):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginWarning)  # other installed plugins may be broken
        sampler = hepflow.create("sampler", "uniform", dim=3)
    assert get_registry() is get_registry()
    assert isinstance(sampler, UniformSampler) and isinstance(sampler, protocols.Sampler)
    points = sampler.sample(7, torch.Generator().manual_seed(0))
    assert points.x.shape == (7, 3) and points.x.dtype == torch.float64
    assert torch.all((points.x >= 0) & (points.x < 1))
    assert torch.equal(points.q, torch.ones(7, dtype=torch.float64))
    with pytest.raises(ComponentError, match="unknown option 'dimension'"):
        hepflow.create("sampler", "uniform", dimension=3)


def test_two_distributions_claiming_one_plugin_name_is_reported(site):
    site.install("hepflow-clash-a", {"clash": "hf_test_clash_a"}, {"hf_test_clash_a": GOOD})
    site.install("hepflow-clash-b", {"clash": "hf_test_clash_b"}, {"hf_test_clash_b": GOOD})
    reg, warned = load()
    info = plugin_info(reg)
    assert info["clash"].status == "ok"
    (loser,) = [p for name, p in info.items() if name.startswith("clash (")]
    assert loser.status == "broken"
    assert "also registered by hepflow-clash-" in loser.error and "uninstall one" in loser.error
    assert any("also registered by" in w for w in warned)
    assert reg.lookup("integrand", "parabola").plugin == "clash"
