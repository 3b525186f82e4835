"""README's main command: the embedded default card, end to end, read back by the field's tools."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pylhe
import uproot

from hepflow.card import load_card
from hepflow.run import run_pipeline

ROOT = Path(__file__).resolve().parents[1]
MG5 = Path(__file__).parent / "data" / "mg5_cross_sections_ee_mumu.json"


def test_quickstart_card_writes_lhe_root_and_summary_that_agree_with_madgraph(tmp_path):
    card_path = tmp_path / "quickstart.toml"
    shutil.copy(ROOT / "examples" / "quickstart.toml", card_path)
    summary = run_pipeline(load_card(card_path))
    out = tmp_path / "quickstart-output"

    runs = json.loads(MG5.read_text())["runs"]
    (mg5,) = [r for r in runs if r.get("sqrt_s") == 91.188 and r.get("n_unweighted_events") == 5000]
    xs = summary["cross_section"]
    pull = (xs["value"] - mg5["cross_section_pb"]) / math.hypot(xs["error"], mg5["error_pb"])
    assert abs(pull) < 3

    lhe = pylhe.LHEFile.fromfile(out / "events.lhe.gz")
    assert pylhe.LHEFile.count_events(out / "events.lhe.gz") == 10_000
    (proc,) = lhe.init.procInfo
    assert proc.xSection == xs["value"]
    info = lhe.init.initInfo
    assert sorted((info.beamA, info.beamB)) == [-11, 11]
    assert info.energyA == info.energyB == 91.188 / 2
    with uproot.open(out / "events.root") as f:
        tree = f["events"]
        assert tree.num_entries == 10_000
    stored = json.loads((out / "hepflow_summary.json").read_text())
    assert stored["generation"]["n_events"] == 10_000
    assert stored["generation"]["unweighting_efficiency"] > 0.5
