"""The io plugin's ``hdf5`` writer and reader: columnar, chunked, compressed, via h5py."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from hepflow_io import Hdf5Reader, Hdf5Writer
from io_helpers import RUN_INFO, assert_same_events, make_events

import hepflow


def write_hdf5(path, batches, **options):
    with Hdf5Writer(path, run_info=RUN_INFO, **options) as writer:
        for batch in batches:
            writer.write(batch)
        writer.close({**RUN_INFO, "card": {"seed": 3}})
    return path


@pytest.mark.parametrize("flush_events", [1, 7, 20_000])
def test_h5py_reads_chunked_compressed_columns(tmp_path, flush_events):
    batches = [make_events(9, seed=1), make_events(6, seed=2), make_events(4, seed=3)]
    ref = hepflow.EventBatch.concat(batches)
    path = write_hdf5(tmp_path / "events.h5", batches, flush_events=flush_events, chunk_rows=8)
    with h5py.File(path, "r") as f:
        attrs = dict(f.attrs)
        assert attrs["format"] == "hepflow-events"
        assert attrs["cross_section"] == RUN_INFO["cross_section"]["value"]
        assert attrs["cross_section_error"] == RUN_INFO["cross_section"]["error"]
        assert attrs["cross_section_unit"] == "pb"
        assert attrs["max_weight"] == RUN_INFO["max_weight"]
        assert attrs["n_events"] == len(ref)
        assert json.loads(attrs["summary"])["card"] == {"seed": 3}
        momentum = f["particles/momentum"]
        assert momentum.chunks == (8, 4) and momentum.maxshape == (None, 4)
        assert momentum.compression == "gzip" and momentum.shuffle
        counts = f["events/n_particles"][:]
        offset = f["events/offset"][:]
        assert counts.tolist() == ref.n_particles.tolist()
        assert offset.tolist() == ref.offsets[:-1].tolist()
        assert np.array_equal(momentum[:], ref.momentum.numpy())
        assert np.array_equal(f["particles/mothers"][:], ref.mothers.numpy())
        assert f["particles/pdg_id"][:].tolist() == ref.pdg_id.tolist()
        assert np.array_equal(f["events/weight"][:], ref.weight.numpy())
        variation = f["events/weight_variations/mur_0_5_muf_1"]
        assert variation.attrs["id"] == "mur=0.5 muf=1"
        assert np.array_equal(variation[:], ref.weight_variations["mur=0.5 muf=1"].numpy())
        assert np.array_equal(f["events/extras/alpha_s"][:], ref.extras["alpha_s"].numpy())


@pytest.mark.parametrize("chunk", [1, 4, 10_000])
def test_our_reader_gives_back_the_identical_batch(tmp_path, chunk):
    batches = [make_events(9, seed=5), make_events(3, seed=6)]
    path = write_hdf5(tmp_path / "events.hdf5", batches, flush_events=5)
    reader = Hdf5Reader(path)
    assert reader.info["n_events"] == 12
    assert reader.info["cross_section"] == RUN_INFO["cross_section"]
    assert reader.info["max_weight"] == RUN_INFO["max_weight"]
    assert reader.info["weight_ids"] == ["mur=0.5 muf=1", "1002"]
    assert reader.info["extras"] == ["process_id", "scale", "alpha_qed", "alpha_s"]
    read = list(reader.batches(chunk))
    assert all(len(b) <= chunk for b in read)
    assert_same_events(hepflow.EventBatch.concat(read), hepflow.EventBatch.concat(batches))


def test_uncompressed_empty_and_foreign_files(tmp_path):
    empty = write_hdf5(tmp_path / "empty.h5", [], compression=0)
    reader = Hdf5Reader(empty)
    assert reader.info["n_events"] == 0 and list(reader.batches()) == []
    with h5py.File(empty, "r") as f:
        assert f["particles/momentum"].compression is None
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = [1, 2]
    with pytest.raises(hepflow.HepflowError, match=r"foreign\.h5.*not a hepflow event file"):
        Hdf5Reader(foreign)


def test_existing_output_is_refused_unless_overwrite(tmp_path):
    path = tmp_path / "events.h5"
    path.write_bytes(b"precious")
    with pytest.raises(hepflow.OutputExistsError, match=r"events\.h5.*exists.*overwrite"):
        Hdf5Writer(path)
    assert path.read_bytes() == b"precious"
    write_hdf5(path, [make_events(3)], overwrite=True)
    assert Hdf5Reader(path).info["n_events"] == 3


@pytest.mark.parametrize("existing", [False, True])
def test_exception_in_with_block_leaves_no_partial_file(tmp_path, existing):
    path = tmp_path / "events.h5"
    if existing:
        path.write_bytes(b"old events")
    with (
        pytest.raises(RuntimeError, match="boom"),
        Hdf5Writer(path, overwrite=True, flush_events=2) as writer,
    ):
        writer.write(make_events(5))
        raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == (["events.h5"] if existing else [])
    if existing:
        assert path.read_bytes() == b"old events"


def test_registered_as_plugin_components(tmp_path):
    writer = hepflow.create("writer", "io:hdf5", path=str(tmp_path / "x.h5"))
    with writer:
        writer.write(make_events(4))
    reader = hepflow.create("reader", "io:hdf5", path=str(tmp_path / "x.h5"))
    assert sum(len(b) for b in reader.batches()) == 4
