"""Generation shards on a real Dask LocalCluster with two worker processes.

Workers find components through installed entry points, so this uses the installed example
plugin (integrand with events, CSV writer) as a third party's run would.
"""

from __future__ import annotations

import json
import math

import pytest

from hepflow.card import parse_card
from hepflow.run import run_pipeline, shard_path, shard_seeds


def card(tmp_path, events=4000):
    return parse_card(
        {
            "seed": 11,
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
