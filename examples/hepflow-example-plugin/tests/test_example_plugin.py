"""Tests of the example plugin, run against the installed package.

    pip install -e examples/hepflow-example-plugin
    pytest examples/hepflow-example-plugin/tests

They go through hepflow the way a user does: the entry point, ``hepflow.create`` and the
``hepflow`` command, never by importing the classes directly.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import hepflow
import pytest
import torch
from hepflow.plugins import Registry

# Other installed plugins may be broken while they are being written; that is not our business.
pytestmark = pytest.mark.filterwarnings("ignore::hepflow.plugins.PluginWarning")

INTEGRAND = "example:breit_wigner"
WRITER = "example:csv"


def read_csv(path: Path) -> tuple[list[dict[str, str]], dict]:
    """The rows and the summary of a file written by the csv writer."""
    with open(path, newline="", encoding="utf-8") as f:
        lines = list(f)
    rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    assert lines[-1].startswith("# summary: ")
    return rows, json.loads(lines[-1].removeprefix("# summary: "))


def some_events(n: int = 100, seed: int = 0, **options) -> hepflow.EventBatch:
    integrand = hepflow.create("integrand", INTEGRAND, **options)
    generator = torch.Generator().manual_seed(seed)
    return integrand.events(torch.rand(n, integrand.dim, generator=generator, dtype=torch.float64))


# -- discovery ---------------------------------------------------------------------------------
def test_discovered_through_its_entry_point():
    plugins = {p.name: p for p in Registry().plugins()}
    assert "example" in plugins, "run `pip install -e examples/hepflow-example-plugin` first"
    info = plugins["example"]
    assert info.status == "ok", info.error
    assert info.distribution == "hepflow-example-plugin"
    assert info.version == "0.1.0"
    assert info.components == {"integrand": ["breit_wigner"], "writer": ["csv"]}


def hepflow_command(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the installed `hepflow` command (the venv's, even when it is not activated)."""
    bin_dir = str(Path(sys.executable).parent)
    exe = shutil.which("hepflow", path=os.pathsep.join([bin_dir, os.environ.get("PATH", "")]))
    assert exe, "the `hepflow` command is not installed"
    out = subprocess.run(
        [exe, *args], capture_output=True, text=True, timeout=300, cwd=cwd, check=False
    )
    assert out.returncode == 0, out.stderr
    return out


def test_hepflow_plugins_command_lists_it():
    plugins = {p["name"]: p for p in json.loads(hepflow_command("plugins", "--json").stdout)}
    assert plugins["example"] == {
        "name": "example",
        "distribution": "hepflow-example-plugin",
        "version": "0.1.0",
        "status": "ok",
        "error": None,
        "components": {"integrand": ["breit_wigner"], "writer": ["csv"]},
    }
    table = hepflow_command("plugins").stdout.splitlines()
    row = next(line for line in table if line.startswith("example "))
    assert "0.1.0" in row and "ok" in row and "breit_wigner" in row and "csv" in row


# -- the integrand -----------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_integral_within_five_sigma(dim):
    integrand = hepflow.create("integrand", INTEGRAND, dim=dim)
    sampler = hepflow.create("sampler", "uniform", dim=integrand.dim)
    result = hepflow.integrate(integrand, sampler, iterations=5, evals=100_000, seed=1)
    assert result.reference == pytest.approx(0.97275473688, rel=1e-10)
    assert abs(result.pull()) < 5, str(result)


def test_reference_against_quadrature():
    integrand = hepflow.create("integrand", INTEGRAND, dim=1, m_min=80.0, m_max=100.0, sigma=2.0)
    x = torch.linspace(0, 1, 1_000_001, dtype=torch.float64)[:, None]
    quadrature = float(torch.trapezoid(integrand(x), x[:, 0]))
    assert quadrature == pytest.approx(integrand.reference, rel=1e-9)


def test_bad_option_is_a_clear_error():
    with pytest.raises(hepflow.ComponentError, match="width"):
        hepflow.create("integrand", INTEGRAND, width=-1.0)
    with pytest.raises(hepflow.ComponentError, match="Did you mean 'width'"):
        hepflow.create("integrand", INTEGRAND, widht=1.0)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_events_are_physical(dim):
    events = some_events(dim=dim)
    p = events.momentum.reshape(len(events), 5, 4)
    incoming, z_boson, outgoing = p[:, :2].sum(1), p[:, 2], p[:, 3:].sum(1)
    torch.testing.assert_close(incoming, outgoing, rtol=0, atol=1e-12)
    torch.testing.assert_close(z_boson, outgoing, rtol=0, atol=1e-12)
    leptons = p[:, 3:]
    mass2 = leptons[..., 0] ** 2 - (leptons[..., 1:] ** 2).sum(-1)
    torch.testing.assert_close(mass2, torch.zeros_like(mass2), rtol=0, atol=1e-9)
    assert events.pdg_id[:5].tolist() == [2, -2, 23, 13, -13]
    assert events.mass.reshape(-1, 5)[:, 2].tolist() == events.extras["scale"].tolist()


# -- the writer --------------------------------------------------------------------------------
def test_written_events_read_back(tmp_path):
    integrand = hepflow.create("integrand", INTEGRAND)
    sampler = hepflow.create("sampler", "uniform", dim=integrand.dim)
    result = hepflow.integrate(integrand, sampler, iterations=2, evals=1000, seed=1)
    events = [some_events(n=7, seed=1), some_events(n=5, seed=2)]
    path = tmp_path / "events.csv"

    with hepflow.create("writer", WRITER, path=path) as writer:
        for batch in events:
            writer.write(batch)
        assert not path.exists(), "the final name appears only when the file is complete"
        writer.close(result.to_dict())

    assert sorted(os.listdir(tmp_path)) == ["events.csv"]
    rows, summary = read_csv(path)
    assert summary["value"] == result.mean and summary["error"] == result.sdev
    assert list(rows[0]) == ["event", "pdg_id", "status", "E", "px", "py", "pz", "weight"]
    every = hepflow.EventBatch.concat(events)
    assert len(rows) == len(every.pdg_id) == 12 * 5
    assert [int(r["event"]) for r in rows] == every.particle_event_index().tolist()
    assert [int(r["pdg_id"]) for r in rows] == every.pdg_id.tolist()
    assert [int(r["status"]) for r in rows] == every.status.tolist()
    momentum = torch.tensor(
        [[float(r[k]) for k in ("E", "px", "py", "pz")] for r in rows], dtype=torch.float64
    )
    assert torch.equal(momentum, every.momentum), "floats must read back bit for bit"
    weight = torch.tensor([float(r["weight"]) for r in rows], dtype=torch.float64)
    assert torch.equal(weight, every.weight[every.particle_event_index()])

    # momentum conservation, from the file alone: incoming = outgoing in every event
    status = torch.tensor([int(r["status"]) for r in rows]).reshape(-1, 5, 1)
    p = momentum.reshape(-1, 5, 4)
    balance = ((status == 1) * p).sum(1) - ((status == -1) * p).sum(1)
    assert balance.abs().max() < 1e-12


def test_existing_file_is_refused_unless_overwrite(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("precious\n")
    with pytest.raises(hepflow.OutputExistsError, match=r"events\.csv.*overwrite=True"):
        hepflow.create("writer", WRITER, path=path)
    assert path.read_text() == "precious\n"

    with hepflow.create("writer", WRITER, path=path, overwrite=True) as writer:
        writer.write(some_events(n=3))
        writer.close({"value": 1.0})
    rows, summary = read_csv(path)
    assert len(rows) == 15 and summary == {"value": 1.0}


def test_exception_removes_partial_file_and_keeps_old_one(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("precious\n")
    writer = hepflow.create("writer", WRITER, path=path, overwrite=True)
    with pytest.raises(RuntimeError, match="interrupted"), writer:
        writer.write(some_events(n=3))
        assert writer.tmp_path.exists()
        raise RuntimeError("interrupted")
    assert sorted(os.listdir(tmp_path)) == ["events.csv"]
    assert path.read_text() == "precious\n"


# -- the whole pipeline ------------------------------------------------------------------------
def test_hepflow_run_with_the_shipped_card(tmp_path):
    card = tmp_path / "zmumu.toml"
    shutil.copy(Path(__file__).parents[1] / "zmumu.toml", card)
    summary = json.loads(hepflow_command("run", str(card), "--json", "--quiet").stdout)
    exact = hepflow.create("integrand", INTEGRAND).reference
    xs = summary["cross_section"]
    assert abs(xs["value"] - exact) < 5 * xs["error"]

    rows, trailer = read_csv(tmp_path / "out" / "events.csv")
    assert trailer["cross_section"] == xs
    assert len(rows) == 1000 * 5
    weight = torch.tensor([float(r["weight"]) for r in rows[::5]], dtype=torch.float64)
    assert float(weight.mean()) == pytest.approx(xs["value"], rel=0.05)
    status = torch.tensor([int(r["status"]) for r in rows]).reshape(-1, 5, 1)
    p = torch.tensor(
        [[float(r[k]) for k in ("E", "px", "py", "pz")] for r in rows], dtype=torch.float64
    ).reshape(-1, 5, 4)
    balance = ((status == 1) * p).sum(1) - ((status == -1) * p).sum(1)
    assert balance.abs().max() < 1e-12


# -- the observer hook -------------------------------------------------------------------------
def test_observer_counts_events_after_the_other_processors():
    registry = Registry()
    context = SimpleNamespace(state={})
    for n in (4, 6):
        out = registry.process_events(some_events(n=n), context)
        assert len(out) == n
    assert context.state["example"] == {"n_events": 10}
    impl = next(
        i
        for i in registry.hook.hepflow_process_events.get_hookimpls()
        if i.plugin_name == "example"
    )
    assert impl.trylast


def test_weights_are_the_integrand_values():
    integrand = hepflow.create("integrand", INTEGRAND)
    x = torch.rand(10, integrand.dim, dtype=torch.float64)
    assert torch.equal(integrand.events(x).weight, integrand(x))
