"""The io plugin's ``root`` writer and reader: a real TTree that uproot reads back."""

from __future__ import annotations

import json

import awkward as ak
import numpy as np
import pytest
import uproot
from hepflow_io import RootReader, RootWriter
from io_helpers import RUN_INFO, assert_same_events, make_events

import hepflow


def write_root(path, batches, **options):
    with RootWriter(path, run_info=RUN_INFO, **options) as writer:
        for batch in batches:
            writer.write(batch)
        writer.close({**RUN_INFO, "card": {"seed": 3}, "generation": {"n_events": 0}})
    return path


@pytest.mark.parametrize("flush_events", [1, 7, 20_000])
def test_uproot_reads_a_ttree_with_one_shared_counter(tmp_path, flush_events):
    batches = [make_events(9, seed=1), make_events(6, seed=2), make_events(4, seed=3)]
    ref = hepflow.EventBatch.concat(batches)
    path = write_root(tmp_path / "events.root", batches, flush_events=flush_events)
    with uproot.open(path) as f:
        tree = f["events"]
        assert tree.classname == "TTree"  # not an RNTuple
        assert tree.num_entries == len(ref)
        counter = tree["n_particles"]
        assert counter.interpretation.from_dtype == np.dtype(">i4")
        for name in ("pdg_id", "status", "mother1", "color2", "E", "px", "py", "pz", "mass"):
            assert tree[name].count_branch is counter, name
        arrays = tree.arrays(library="ak")
        summary = json.loads(str(f["hepflow_summary"]))
    assert ak.to_numpy(arrays["n_particles"]).tolist() == ref.n_particles.tolist()
    assert ak.flatten(arrays["pdg_id"]).tolist() == ref.pdg_id.tolist()
    assert ak.flatten(arrays["mother2"]).tolist() == ref.mothers[:, 1].tolist()
    for i, name in enumerate(("E", "px", "py", "pz")):
        assert ak.flatten(arrays[name]).tolist() == ref.momentum[:, i].tolist()
    assert ak.to_numpy(arrays["weight"]).tolist() == ref.weight.tolist()
    assert ak.to_numpy(arrays["weight_mur_0_5_muf_1"]).tolist() == (
        ref.weight_variations["mur=0.5 muf=1"].tolist()
    )
    assert ak.to_numpy(arrays["weight_1002"]).tolist() == ref.weight_variations["1002"].tolist()
    assert ak.to_numpy(arrays["scale"]).tolist() == ref.extras["scale"].tolist()
    assert ak.to_numpy(arrays["process_id"]).tolist() == ref.extras["process_id"].tolist()
    assert summary["cross_section"] == RUN_INFO["cross_section"]
    assert summary["card"] == {"seed": 3} and summary["n_events"] == len(ref)


@pytest.mark.parametrize("chunk", [1, 4, 10_000])
def test_our_reader_gives_back_the_identical_batch(tmp_path, chunk):
    batches = [make_events(9, seed=5), make_events(3, seed=6, variations=True)]
    path = write_root(tmp_path / "events.root", batches, flush_events=5)
    reader = RootReader(path)
    assert reader.info["n_events"] == 12
    assert reader.info["cross_section"] == RUN_INFO["cross_section"]
    assert reader.info["weight_ids"] == ["mur=0.5 muf=1", "1002"]
    read = list(reader.batches(chunk))
    assert all(len(b) <= chunk for b in read)
    assert_same_events(hepflow.EventBatch.concat(read), hepflow.EventBatch.concat(batches))


def test_without_optional_columns_and_without_events(tmp_path):
    batch = make_events(5, variations=False)
    bare = hepflow.EventBatch(
        n_particles=batch.n_particles,
        pdg_id=batch.pdg_id,
        status=batch.status,
        mothers=batch.mothers,
        color=batch.color,
        momentum=batch.momentum,
        weight=batch.weight,
    )
    path = write_root(tmp_path / "bare.root", [bare])
    assert_same_events(next(RootReader(path).batches()), bare)

    empty = write_root(tmp_path / "empty.root", [])
    with uproot.open(empty) as f:
        assert f["events"].num_entries == 0
    reader = RootReader(empty)
    assert reader.info["n_events"] == 0 and list(reader.batches()) == []


def test_registered_and_reachable_by_name(tmp_path):
    writer = hepflow.create("writer", "io:root", path=str(tmp_path / "x.root"))
    assert isinstance(writer, RootWriter) and isinstance(writer, hepflow.protocols.EventWriter)
    reader_cls = hepflow.get_registry().lookup("reader", "root").factory
    assert reader_cls is RootReader


def test_existing_output_is_refused_unless_overwrite(tmp_path):
    path = tmp_path / "events.root"
    path.write_bytes(b"precious")
    with pytest.raises(hepflow.OutputExistsError, match=r"events\.root.*exists.*overwrite"):
        RootWriter(path)
    assert path.read_bytes() == b"precious"
    write_root(path, [make_events(3)], overwrite=True)
    assert RootReader(path).info["n_events"] == 3


@pytest.mark.parametrize("existing", [False, True])
def test_exception_in_with_block_leaves_no_partial_file(tmp_path, existing):
    path = tmp_path / "events.root"
    if existing:
        path.write_bytes(b"old events")
    with (
        pytest.raises(RuntimeError, match="boom"),
        RootWriter(path, overwrite=True, flush_events=2) as writer,
    ):
        writer.write(make_events(5))
        raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == (["events.root"] if existing else [])
    if existing:
        assert path.read_bytes() == b"old events"


def test_batches_with_other_columns_are_an_error(tmp_path):
    with pytest.raises(hepflow.HepflowError, match="same columns"):
        write_root(tmp_path / "x.root", [make_events(3), make_events(3, variations=False)])
    assert list(tmp_path.iterdir()) == []
