"""Generation shards on a real Dask LocalCluster with two worker processes.

Workers find components through installed entry points, so this uses the installed example
plugin (integrand with events, CSV writer) as a third party's run would.
"""

from __future__ import annotations

import json
import math
import sys

import cloudpickle
import pytest
from distributed import Client, LocalCluster, WorkerPlugin

import hepflow
from hepflow.card import parse_card
from hepflow.errors import HepflowError
from hepflow.run import run_pipeline, shard_path, shard_seeds


def card(tmp_path, events=4000, overwrite=False):
    return parse_card(
        {
            "seed": 11,
            "overwrite": overwrite,
            "output_dir": str(tmp_path),
            "integrand": {"name": "example:breit_wigner", "dim": 2},
            "sampler": "vegas",
            "integration": {"survey_iterations": 3, "iterations": 3, "evals": 20000},
            "generation": {"events": events, "chunk_size": 1000, "mode": "weighted"},
            "output": [{"writer": "csv", "path": "events.csv"}],
        },
        source="dask card",
    )


def read_events(path):
    rows = [line for line in path.read_text().splitlines() if not line.startswith(("#", "event"))]
    return {int(line.split(",")[0]) for line in rows}


@pytest.mark.slow
def test_two_workers_write_their_own_shards_and_the_cross_sections_merge(tmp_path):
    summary = run_pipeline(card(tmp_path), executor="dask", workers=2)
    shards = summary["shards"]
    assert [s["index"] for s in shards] == [0, 1]
    assert summary["failed_shards"] == [] and summary["executor"] == "dask"
    # independent streams: the two shards' seeds differ and are the documented ones
    assert [s["seed"] for s in shards] == shard_seeds(11, 2)
    files = [tmp_path / "events.shard0.csv", tmp_path / "events.shard1.csv"]
    assert summary["outputs"] == [str(f) for f in files]
    assert [len(read_events(f)) for f in files] == [2000, 2000]
    assert summary["generation"]["n_events"] == 4000
    # the merged estimate from the generation weights agrees with the integration result
    integ = summary["cross_section"]
    gen = summary["generation"]["cross_section"]
    assert abs(gen["value"] - integ["value"]) < 5 * math.hypot(gen["error"], integ["error"])
    # and the merge is the pooled estimate: its error is smaller than either shard's
    assert all(gen["error"] < s["cross_section"]["error"] for s in shards)
    stored = json.loads((tmp_path / "hepflow_summary.json").read_text())
    assert stored["shards"][1]["outputs"] == [str(files[1])]


def test_shard_paths_keep_the_format_suffix(tmp_path):
    assert shard_path(tmp_path / "ev.lhe.gz", 3, 12).name == "ev.shard03.lhe.gz"
    assert shard_path(tmp_path / "ev.root", 1, 2).name == "ev.shard1.root"
    assert len(set(shard_seeds(1, 8))) == 8


class FailOneShard:
    """A process-events plugin that raises inside the shard with the given seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    @hepflow.hookimpl
    def hepflow_process_events(self, events, context):
        if context.seed == self.seed:
            raise RuntimeError(f"detector simulation crashed in shard seed {context.seed}")


class RegisterOnWorkers(WorkerPlugin):
    """Registers ``FailOneShard`` in every worker process's hepflow registry, as an installed
    plugin would be."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def setup(self, worker) -> None:
        from hepflow.plugins import get_registry

        get_registry().register(FailOneShard(self.seed), "fail-one-shard")


@pytest.mark.slow
def test_a_failing_shard_leaves_the_others_files_and_a_summary_that_says_why(tmp_path):
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    bad = shard_seeds(11, 2)[1]
    (tmp_path / "events.shard1.csv").write_text("an earlier shard file\n")
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        client.register_plugin(RegisterOnWorkers(bad))
        with pytest.raises(HepflowError) as failed:
            run_pipeline(
                card(tmp_path, overwrite=True),
                executor="dask",
                scheduler=cluster.scheduler_address,
            )
    message = str(failed.value)
    assert "1 of 2 shards failed" in message
    assert f"shard 1: RuntimeError: detector simulation crashed in shard seed {bad}" in message
    good = tmp_path / "events.shard0.csv"
    assert str(good) in message
    summary = json.loads((tmp_path / "hepflow_summary.json").read_text())
    assert summary["failed_shards"] == [
        {"index": 1, "error": f"RuntimeError: detector simulation crashed in shard seed {bad}"}
    ]
    assert [s["index"] for s in summary["shards"]] == [0]
    assert summary["outputs"] == [str(good)]
    assert summary["generation"]["n_events"] == 2000
    # the good shard's file is complete; the failed shard left its earlier file and no temporary
    assert len(read_events(good)) == 2000
    assert (tmp_path / "events.shard1.csv").read_text() == "an earlier shard file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "events.shard0.csv",
        "events.shard1.csv",
        "hepflow_summary.json",
    ]
