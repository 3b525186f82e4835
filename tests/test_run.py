"""The pipeline end to end with in-process plugins: hooks in order, events to writers, summary.

The components here are small real ones (a 1-d resonance with two-body decay events, a JSON-lines
writer) registered through the same Registry path as installed plugins.
"""

from __future__ import annotations

import json
import math
import os
import types
from pathlib import Path

import pytest
import torch

import hepflow
from hepflow.card import parse_card
from hepflow.events import EventBatch
from hepflow.plugins import Registry
from hepflow.run import child_seeds, resolve_device, run_pipeline

MASS, WIDTH = 91.1876, 2.4952


class Resonance:
    """Cauchy line shape on [MASS - 10 WIDTH, MASS + 10 WIDTH]; events: X -> mu+ mu- at rest."""

    dim = 2
    unit = "pb"

    def __init__(self, device: str = "cpu") -> None:
        self.lo, self.hi = MASS - 10 * WIDTH, MASS + 10 * WIDTH
        g = WIDTH / 2
        self.reference = (
            math.atan((self.hi - MASS) / g) - math.atan((self.lo - MASS) / g)
        ) / math.pi

    def _mass(self, x):
        return self.lo + (self.hi - self.lo) * x[:, 0]

    def __call__(self, x):
        m, g = self._mass(x), WIDTH / 2
        return (self.hi - self.lo) * g / math.pi / ((m - MASS) ** 2 + g**2)

    def events(self, x):
        n = x.shape[0]
        m = self._mass(x)
        cos = 2 * x[:, 1] - 1
        sin = torch.sqrt(1 - cos**2)
        p = m / 2
        zero = torch.zeros_like(m)
        mom = torch.stack(
            [
                torch.stack([m, zero, zero, zero], -1),
                torch.stack([p, p * sin, zero, p * cos], -1),
                torch.stack([p, -p * sin, zero, -p * cos], -1),
            ],
            1,
        )
        return EventBatch.from_regular(
            pdg_id=torch.tensor([23, -13, 13]),
            status=torch.tensor([2, 1, 1]),
            mothers=torch.tensor([[0, 0], [1, 1], [1, 1]]),
            color=torch.zeros(3, 2, dtype=torch.int64),
            momentum=mom,
            weight=torch.ones(n, dtype=torch.float64),
            extras={"scale": m},
        )


def event_weights(path: Path) -> torch.Tensor:
    """The weights a JsonLinesWriter wrote (its last line is the summary)."""
    lines = path.read_text().splitlines()[:-1]
    return torch.tensor([json.loads(line)["weight"] for line in lines], dtype=torch.float64)


class JsonLinesWriter:
    """One JSON object per event; temporary file renamed on close."""

    def __init__(self, path: str, overwrite: bool = False, run_info: dict | None = None) -> None:
        self.path = Path(path)
        if self.path.exists() and not overwrite:
            raise hepflow.OutputExistsError(f"{path} exists")
        self.tmp = self.path.with_suffix(".tmp")
        self.run_info = run_info

    def __enter__(self):
        self.file = self.tmp.open("w")
        return self

    def write(self, events):
        for i in range(len(events)):
            self.file.write(json.dumps({"weight": float(events.weight[i])}) + "\n")

    def close(self, summary):
        self.file.write(json.dumps({"summary": summary["cross_section"]}) + "\n")
        self.file.close()
        os.replace(self.tmp, self.path)

    def __exit__(self, exc_type, *rest):
        if exc_type is not None:
            self.file.close()
            self.tmp.unlink()


def make_plugin(log: list):
    plugin = types.SimpleNamespace()

    @hepflow.hookimpl
    def hepflow_integrands():
        return {"resonance": Resonance}

    @hepflow.hookimpl
    def hepflow_writers():
        return {"jsonl": JsonLinesWriter}

    @hepflow.hookimpl
    def hepflow_configure(config, context):
        log.append(("configure", config["seed"]))

    @hepflow.hookimpl(tryfirst=True)
    def hepflow_process_events(events):
        log.append(("cut", len(events)))
        return events.select(events.extras["scale"] > MASS)  # keep the upper half of the peak

    @hepflow.hookimpl
    def hepflow_run_finished(summary, context):
        log.append(("finished", summary["generation"]["n_events"]))

    for fn in (
        hepflow_integrands,
        hepflow_writers,
        hepflow_configure,
        hepflow_process_events,
        hepflow_run_finished,
    ):
        setattr(plugin, fn.__name__, fn)
    return plugin


def observer_plugin(log: list):
    plugin = types.SimpleNamespace()

    @hepflow.hookimpl(trylast=True)
    def hepflow_process_events(events, context):
        log.append(("observe", len(events)))
        assert bool((events.extras["scale"] > MASS).all()), "observer must see the cut batch"

    plugin.hepflow_process_events = hepflow_process_events
    return plugin


def card_for(tmp_path, **generation):
    return parse_card(
        {
            "seed": 5,
            "output_dir": str(tmp_path),
            "integrand": "resonance",
            "sampler": "uniform",
            "integration": {"iterations": 4, "evals": 20000},
            "generation": {"events": 500, "chunk_size": 200, **generation},
            "output": [{"writer": "jsonl", "path": "events.jsonl"}],
        },
        source="test card",
    )


@pytest.fixture
def registry_and_log():
    log: list = []
    # observer registered first, cut plugin second: order must still be cut -> observe
    registry = Registry(entry_points=True)
    registry.register(observer_plugin(log), "observer")
    registry.register(make_plugin(log), "physics")
    return registry, log


def test_pipeline_runs_hooks_in_order_and_writes_outputs(tmp_path, registry_and_log):
    registry, log = registry_and_log
    summary = run_pipeline(card_for(tmp_path), registry=registry)

    ref = Resonance().reference
    xs = summary["cross_section"]
    assert abs(xs["value"] - ref) < 5 * xs["error"]
    assert xs["unit"] == "pb"
    # hooks: configure first, then per chunk cut -> observe, finished last
    assert log[0] == ("configure", 5)
    kinds = [k for k, _ in log[1:-1]]
    assert kinds == ["cut", "observe"] * (len(kinds) // 2)
    assert log[-1] == ("finished", 500)
    # the writer saw only events that passed the cut, with weight = cross section (unweighted)
    weights = event_weights(tmp_path / "events.jsonl").tolist()
    n_observed = sum(n for k, n in log if k == "observe")
    assert len(weights) == n_observed < 500
    assert all(w == pytest.approx(xs["value"]) or w > xs["value"] for w in weights)
    # roughly half the resonance lies above the pole: binomial, 5 sigma
    assert abs(n_observed - 250) < 5 * math.sqrt(500 * 0.25)
    stored = json.loads((tmp_path / "hepflow_summary.json").read_text())
    assert stored["cross_section"] == xs
    assert stored["generation"]["n_events"] == 500
    assert stored["versions"]["hepflow"] == hepflow.__version__
    assert not list(tmp_path.glob("*.tmp"))


def test_existing_output_is_refused_and_left_untouched(tmp_path, registry_and_log):
    registry, _ = registry_and_log
    target = tmp_path / "events.jsonl"
    target.write_text("precious\n")
    with pytest.raises(hepflow.OutputExistsError, match=r"events\.jsonl' exists"):
        run_pipeline(card_for(tmp_path), registry=registry)
    assert target.read_text() == "precious\n"


def test_failure_mid_generation_leaves_no_partial_file(tmp_path):
    log: list = []
    registry = Registry(entry_points=True)
    registry.register(make_plugin(log), "physics")
    broken = types.SimpleNamespace()

    @hepflow.hookimpl(trylast=True)
    def hepflow_process_events(events):
        if sum(1 for k, _ in log if k == "cut") > 1:
            raise RuntimeError("observer crashed")

    broken.hepflow_process_events = hepflow_process_events
    registry.register(broken, "crashy")
    with pytest.raises(RuntimeError, match="observer crashed"):
        run_pipeline(card_for(tmp_path), registry=registry)
    assert not (tmp_path / "events.jsonl").exists()
    assert not list(tmp_path.glob("*.tmp"))


def test_weighted_mode_keeps_mean_weight_equal_to_cross_section(tmp_path, registry_and_log):
    registry, _ = registry_and_log
    summary = run_pipeline(card_for(tmp_path, mode="weighted", events=4000), registry=registry)
    w = event_weights(tmp_path / "events.jsonl")
    # cut keeps the upper half, so the kept weights sum to about half the cross section
    half = w.sum() / 4000
    err = w.std() * math.sqrt(len(w)) / 4000
    assert abs(float(half) - summary["cross_section"]["value"] / 2) < 5 * float(err)


def test_same_seed_same_events(tmp_path, registry_and_log):
    registry, _ = registry_and_log
    a, b = tmp_path / "a", tmp_path / "b"
    run_pipeline(card_for(a), registry=registry)
    run_pipeline(card_for(b), registry=registry)
    assert (a / "events.jsonl").read_text() == (b / "events.jsonl").read_text()


def test_child_seeds_are_independent_and_reproducible():
    assert child_seeds(1, 3) == child_seeds(1, 3)
    assert len(set(child_seeds(1, 3))) == 3
    assert child_seeds(1, 3) != child_seeds(2, 3)


def test_cuda_without_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        assert resolve_device("cuda").type == "cuda"
    else:
        with pytest.raises(hepflow.HepflowError, match="use --device cpu"):
            resolve_device("cuda")
    assert resolve_device("auto").type in ("cpu", "cuda")


def test_ctrl_c_leaves_closed_files_and_a_summary_that_says_so(tmp_path):
    log: list = []
    registry = Registry(entry_points=True)
    registry.register(make_plugin(log), "physics")
    impatient = types.SimpleNamespace()

    @hepflow.hookimpl(trylast=True)
    def hepflow_process_events(events):
        if sum(1 for k, _ in log if k == "cut") > 1:
            raise KeyboardInterrupt

    impatient.hepflow_process_events = hepflow_process_events
    registry.register(impatient, "impatient")
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(card_for(tmp_path), registry=registry)
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["summary"]["value"] > 0  # closed with its trailer
    assert 0 < len(lines) - 1 < 500  # the first chunk's events, not all of them
    summary = json.loads((tmp_path / "hepflow_summary.json").read_text())
    assert summary["interrupted"] is True
    assert not list(tmp_path.glob("*.tmp"))
    assert ("finished", 500) not in log


class SignedLine(Resonance):
    """f = 1 - 1.5 x_0, negative beyond x_0 = 2/3: int f = 1/4, int |f| = 5/12; the events
    are the resonance's."""

    REFERENCE = 0.25

    def __init__(self, device: str = "cpu") -> None:
        super().__init__(device)
        self.reference = self.REFERENCE

    def __call__(self, x):
        return 1 - 1.5 * x[:, 0]


def test_unweighted_events_of_an_integrand_that_changes_sign_average_to_its_integral(tmp_path):
    """Unweighted events come in proportion to |f|, so each carries +-int |f|. Each once
    carried +-int f: a mean weight of 0.15 for 0.25, which every histogram would inherit."""
    plugin = types.SimpleNamespace(
        hepflow_integrands=hepflow.hookimpl(lambda: {"signed": SignedLine}),
        hepflow_writers=hepflow.hookimpl(lambda: {"jsonl": JsonLinesWriter}),
    )
    registry = Registry(entry_points=True)
    registry.register(plugin, "signed")
    card = parse_card(
        {
            "seed": 3,
            "output_dir": str(tmp_path),
            "integrand": "signed",
            "sampler": "uniform",
            "integration": {"iterations": 4, "evals": 20000},
            "generation": {"events": 20000},
            "output": [{"writer": "jsonl", "path": "events.jsonl"}],
        },
        source="signed card",
    )
    summary = run_pipeline(card, registry=registry)
    w = event_weights(tmp_path / "events.jsonl")
    assert len(w) == 20000
    integral = summary["cross_section"]
    error = math.hypot(float(w.std()) / math.sqrt(len(w)), integral["error"])
    assert abs(float(w.mean()) - SignedLine.REFERENCE) < 4 * error, (float(w.mean()), error)
    negative = float((w < 0).double().mean())  # the share of |f| below zero: 1/5
    assert abs(negative - 0.2) < 4 * math.sqrt(0.2 * 0.8 / len(w)), negative
    magnitude = w.abs().unique()
    assert len(magnitude) == 1 and abs(float(magnitude[0]) - 5 / 12) < 0.01, magnitude
