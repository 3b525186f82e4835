"""A whole run writing LHE, ROOT and HDF5 at once; the three files must agree."""

from __future__ import annotations

import pylhe
import pytest
import torch
import uproot
from hepflow_io import Hdf5Reader, LheReader, RootReader
from io_helpers import assert_same_events

import hepflow
from hepflow.card import parse_card
from hepflow.run import run_pipeline

N_EVENTS = 200


def card(tmp_path, **extra):
    return parse_card(
        {
            "seed": 11,
            "output_dir": str(tmp_path),
            "integrand": "example:breit_wigner",
            "sampler": "uniform",
            "integration": {"iterations": 3, "evals": 4000},
            "generation": {"events": N_EVENTS, "chunk_size": 64},
            "output": [
                {
                    "writer": "lhe",
                    "path": "events.lhe.gz",
                    "beam_pdg": [2212, 2212],
                    "beam_energy": 6500.0,
                    "pdf_id": 303400,
                },
                {"writer": "root", "path": "events.root"},
                {"writer": "hdf5", "path": "events.h5"},
            ],
            **extra,
        },
        source="e2e card",
    )


def test_pipeline_writes_three_consistent_files(tmp_path):
    summary = run_pipeline(card(tmp_path))
    xs = summary["cross_section"]
    lhe, root, h5 = (tmp_path / n for n in ("events.lhe.gz", "events.root", "events.h5"))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["events.lhe.gz", "events.root", "events.h5", "hepflow_summary.json"]
    )

    # each file through its own field library
    lhef = pylhe.LHEFile.fromfile(lhe)
    assert pylhe.LHEFile.count_events(lhe) == N_EVENTS
    (proc,) = lhef.init.procInfo
    assert proc.xSection == xs["value"] and proc.error == xs["error"]
    assert lhef.init.initInfo.weightingStrategy == 3
    assert lhef.init.initInfo.PDFsetA == 303400
    with uproot.open(root) as f:
        assert f["events"].num_entries == N_EVENTS

    # and back through our readers: the same events everywhere
    readers = [LheReader(lhe), RootReader(root), Hdf5Reader(h5)]
    for reader in readers:
        assert reader.info["cross_section"] == xs
        assert reader.info["card"]["integrand"]["name"] == "example:breit_wigner"
    lhe_events, root_events, h5_events = (
        hepflow.EventBatch.concat(list(r.batches(50))) for r in readers
    )
    assert len(lhe_events) == len(root_events) == len(h5_events) == N_EVENTS
    assert_same_events(root_events, h5_events)
    assert_same_events(lhe_events, h5_events)  # LHE floats are exact too
    # unweighted: every event carries sigma, overweight ones (kept) sigma * w / w_max
    w = h5_events.weight
    over = w != xs["value"]
    assert torch.all(w[over] > xs["value"])
    assert int(over.sum()) == summary["generation"]["n_overweight"]
    assert torch.equal(h5_events.extras["scale"], h5_events.mass[2::5])  # the Z mass


def test_second_run_is_refused_before_integration(tmp_path):
    run_pipeline(card(tmp_path))
    before = (tmp_path / "events.root").read_bytes()
    with pytest.raises(hepflow.OutputExistsError, match="exists"):
        run_pipeline(card(tmp_path))
    assert (tmp_path / "events.root").read_bytes() == before
