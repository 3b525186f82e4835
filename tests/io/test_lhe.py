"""The io plugin's ``lhe`` writer and reader, checked against pylhe and real generators' files."""

from __future__ import annotations

import gzip
import math
import shutil

import numpy as np
import pylhe
import pytest
import torch
from hepflow_io import LheReader, LheWriter
from io_helpers import DATA, RUN_INFO, assert_same_events, make_events

import hepflow

WEIGHTED = {**RUN_INFO, "max_weight": None}


def write_lhe(path, batches, summary=WEIGHTED, **options):
    with LheWriter(path, run_info=summary, **options) as writer:
        for batch in batches:
            writer.write(batch)
        writer.close({**summary, "card": {"seed": 7, "integrand": {"name": "toy <&> 'q'"}}})
    return path


def pylhe_events(path):
    lhef = pylhe.LHEFile.fromfile(path)
    return lhef, list(lhef.events)


@pytest.mark.parametrize("name", ["events.lhe", "events.lhe.gz"])
def test_pylhe_reads_back_every_value_at_full_precision(tmp_path, name):
    batches = [make_events(9, seed=1), make_events(4, seed=2)]
    path = write_lhe(tmp_path / name, batches, beam_energy=[100.0, 120.5], pdf_id=0)
    with open(path, "rb") as f:
        assert (f.read(2) == b"\x1f\x8b") == name.endswith(".gz")

    lhef, events = pylhe_events(path)
    assert pylhe.LHEFile.count_events(path) == 13
    assert lhef.version == "3.0"
    init = lhef.init.initInfo
    assert (init.beamA, init.beamB, init.energyA, init.energyB) == (11, -11, 100.0, 120.5)
    assert (init.PDFsetA, init.PDFsetB, init.PDFgroupA, init.PDFgroupB) == (0, 0, 0, 0)
    assert init.weightingStrategy == -4  # weighted, with negative weights
    ref = hepflow.EventBatch.concat(batches)
    pid = ref.extras["process_id"]
    procs = {p.procId: p for p in lhef.init.procInfo}
    assert sorted(procs) == sorted(set(pid.tolist())) and init.numProcesses == len(procs)
    total_w = float(ref.weight.sum())
    xs = RUN_INFO["cross_section"]
    for p, info in procs.items():
        share = float(ref.weight[pid == p].sum()) / total_w
        assert info.xSection == pytest.approx(xs["value"] * share, rel=1e-15)
        assert info.unitWeight == float(ref.weight[pid == p].abs().max())
    assert sum(p.xSection for p in procs.values()) == pytest.approx(xs["value"], rel=1e-14)
    assert lhef.header.initrwgt.list_weights_ids() == ["mur=0.5 muf=1", "1002"]
    card = next(e for e in lhef.header.extra_elements if e.tag == "hepflow_card")
    assert "toy <&> 'q'" in card.text

    offsets = ref.offsets.tolist()
    for i, ev in enumerate(events):
        info = ev.eventinfo
        assert info.nparticles == int(ref.n_particles[i]) == len(ev.particles)
        assert info.pid == int(pid[i])
        assert info.weight == float(ref.weight[i])  # bit for bit
        assert info.scale == float(ref.extras["scale"][i])
        assert info.aqed == float(ref.extras["alpha_qed"][i])
        assert info.aqcd == float(ref.extras["alpha_s"][i])
        for k, v in ref.weight_variations.items():
            assert ev.weights[k] == float(v[i])  # not pylhe's 5 digits
        for j, p in enumerate(ev.particles):
            q = offsets[i] + j
            e, px, py, pz = ref.momentum[q].tolist()
            assert (p.e, p.px, p.py, p.pz) == (e, px, py, pz)
            assert p.m == float(ref.mass[q]) and p.spin == float(ref.spin[q])
            assert (p.id, p.status) == (int(ref.pdg_id[q]), int(ref.status[q]))
            assert [p.mother1, p.mother2] == ref.mothers[q].tolist()
            assert [p.color1, p.color2] == ref.color[q].tolist()
            assert p.lifetime == 0.0


@pytest.mark.parametrize("name", ["events.lhe", "events.lhe.gz"])
@pytest.mark.parametrize("chunk", [1, 5, 100])
def test_our_reader_gives_back_the_identical_batch(tmp_path, name, chunk):
    batches = [make_events(9, seed=3), make_events(6, seed=4)]
    path = write_lhe(tmp_path / name, batches, beam_energy=50.0)
    reader = LheReader(path)
    read = list(reader.batches(chunk))
    assert all(len(b) <= chunk for b in read)
    assert_same_events(hepflow.EventBatch.concat(read), hepflow.EventBatch.concat(batches))
    assert reader.info["cross_section"] == RUN_INFO["cross_section"]
    assert reader.info["weight_ids"] == ["mur=0.5 muf=1", "1002"]
    assert reader.info["beams"] == [(11, 50.0), (-11, 50.0)]
    assert reader.info["card"]["seed"] == 7


def test_unweighted_events_and_defaults(tmp_path):
    """IDWTUP 3, one process, XSECUP/XERRUP from the summary, beam energies from the first
    event's incoming particles; missing extras, mass and spin get LHEF's defaults."""
    n = 4
    half = torch.tensor([45.6, 45.6, 30.0, 30.0], dtype=torch.float64)
    momentum = torch.zeros(n, 4, 4, dtype=torch.float64)
    momentum[:, 0] = torch.stack([half, 0 * half, 0 * half, half], -1)
    momentum[:, 1] = torch.stack([half, 0 * half, 0 * half, -half], -1)
    momentum[:, 2] = torch.stack([half, half, 0 * half, 0 * half], -1)
    momentum[:, 3] = torch.stack([half, -half, 0 * half, 0 * half], -1)
    sigma = RUN_INFO["cross_section"]["value"]
    batch = hepflow.EventBatch.from_regular(
        pdg_id=torch.tensor([11, -11, 13, -13]),
        status=torch.tensor([-1, -1, 1, 1]),
        mothers=torch.tensor([[0, 0], [0, 0], [1, 2], [1, 2]]),
        color=torch.zeros(4, 2, dtype=torch.int64),
        momentum=momentum,
        weight=torch.full((n,), sigma, dtype=torch.float64),
    )
    path = write_lhe(tmp_path / "ee.lhe", [batch], summary=RUN_INFO)
    lhef, events = pylhe_events(path)
    init = lhef.init.initInfo
    assert init.weightingStrategy == 3
    assert (init.energyA, init.energyB) == (45.6, 45.6)
    (proc,) = lhef.init.procInfo
    assert (proc.procId, proc.xSection, proc.error, proc.unitWeight) == (
        1,
        sigma,
        RUN_INFO["cross_section"]["error"],
        sigma,
    )
    assert lhef.header.initrwgt.entries == []
    ev = events[2]
    assert (ev.eventinfo.scale, ev.eventinfo.aqed, ev.eventinfo.aqcd) == (-1.0, -1.0, -1.0)
    assert [p.spin for p in ev.particles] == [9.0] * 4
    assert [p.m for p in ev.particles] == [0.0] * 4  # invariant mass of massless momenta

    back = hepflow.EventBatch.concat(list(LheReader(path).batches()))
    assert back.mass is None and back.spin is None and back.extras == {}
    assert torch.equal(back.momentum, batch.momentum)


def test_registered_as_plugin_components(tmp_path):
    writer = hepflow.create("writer", "io:lhe", path=str(tmp_path / "x.lhe"), beam_energy=1.0)
    assert isinstance(writer, LheWriter)
    with writer:
        writer.write(make_events(2))
    reader = hepflow.create("reader", "io:lhe", path=str(tmp_path / "x.lhe"))
    assert isinstance(reader, hepflow.protocols.EventReader)
    assert sum(len(b) for b in reader.batches()) == 2


# -- real files from other generators ----------------------------------------------------------
REAL = {
    # file: (events, processes, (beam A, beam B), IDWTUP, number of weight ids)
    "whizard-3.1.4-eeWW.lhe": (10, 1, (-11, 11), 3, 0),
    "sherpa-3.0.1-eejjj-head20.lhe": (20, 1, (11, -11), 3, 0),
    "madgraph-2.0.0-wbj-head8.lhe": (8, 1, (2212, 2212), -4, 9),
    "madgraph-2.2.1-Z-mlm-head30.lhe.gz": (30, 3, (2212, 2212), 3, 0),
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_generator_files(name):
    n_events, n_procs, beams, strategy, n_weights = REAL[name]
    path = DATA / name
    assert pylhe.LHEFile.count_events(path) == n_events
    lhef, ref = pylhe_events(path)

    reader = LheReader(path)
    info = reader.info
    assert [b for b, _ in info["beams"]] == list(beams)
    assert info["weighting_strategy"] == strategy
    assert len(info["processes"]) == n_procs
    for ours, theirs in zip(info["processes"], lhef.init.procInfo, strict=True):
        assert ours == {
            "id": theirs.procId,
            "cross_section": theirs.xSection,
            "error": theirs.error,
            "max_weight": theirs.unitWeight,
        }
    assert len(info["weight_ids"]) == n_weights

    batches = list(reader.batches(7))
    events = hepflow.EventBatch.concat(batches)
    assert len(events) == n_events
    assert events.n_particles.tolist() == [len(e.particles) for e in ref]
    assert events.weight.tolist() == [e.eventinfo.weight for e in ref]
    assert events.extras["process_id"].tolist() == [e.eventinfo.pid for e in ref]
    assert events.extras["scale"].tolist() == [e.eventinfo.scale for e in ref]
    assert events.extras["alpha_s"].tolist() == [e.eventinfo.aqcd for e in ref]
    particles = [p for e in ref for p in e.particles]
    assert events.pdg_id.tolist() == [p.id for p in particles]
    assert events.momentum.tolist() == [[p.e, p.px, p.py, p.pz] for p in particles]
    assert events.mass.tolist() == [p.m for p in particles]
    assert events.color.tolist() == [[p.color1, p.color2] for p in particles]
    assert list(events.weight_variations) == info["weight_ids"]
    for k, v in events.weight_variations.items():
        assert v.tolist() == [e.weights[k] for e in ref]


def test_madgraph_weights_and_multi_process_init():
    info = LheReader(DATA / "madgraph-2.0.0-wbj-head8.lhe").info
    assert info["weight_ids"] == [str(i) for i in range(1001, 1010)]
    assert info["beams"] == [(2212, 4000.0), (2212, 4000.0)]
    assert info["pdf_id"] == (21100, 21100)
    z = LheReader(DATA / "madgraph-2.2.1-Z-mlm-head30.lhe.gz").info
    assert [p["id"] for p in z["processes"]] == [3, 2, 1]
    assert z["cross_section"]["value"] == pytest.approx(
        sum(p["cross_section"] for p in z["processes"])
    )
    assert z["pdf_id"] == (10800, 10800)
    assert not math.isnan(z["cross_section"]["error"])


# -- safety ------------------------------------------------------------------------------------
def test_existing_output_is_refused_unless_overwrite(tmp_path):
    path = tmp_path / "events.lhe"
    path.write_text("precious")
    with pytest.raises(hepflow.OutputExistsError, match=r"events\.lhe.*exists.*overwrite"):
        LheWriter(path)
    assert path.read_text() == "precious"
    write_lhe(path, [make_events(3)], overwrite=True, beam_energy=1.0)
    assert pylhe.LHEFile.count_events(path) == 3


@pytest.mark.parametrize("existing", [False, True])
def test_exception_in_with_block_leaves_no_partial_file(tmp_path, existing):
    path = tmp_path / "events.lhe.gz"
    if existing:
        path.write_bytes(b"old events")
    with (
        pytest.raises(RuntimeError, match="boom"),
        LheWriter(path, overwrite=True, run_info=WEIGHTED) as writer,
    ):
        writer.write(make_events(5))
        raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == (["events.lhe.gz"] if existing else [])
    if existing:
        assert path.read_bytes() == b"old events"


def test_inconsistent_weight_ids_are_an_error_and_leave_nothing(tmp_path):
    with pytest.raises(hepflow.HepflowError, match="same ids"):
        write_lhe(tmp_path / "x.lhe", [make_events(3), make_events(3, variations=False)])
    assert list(tmp_path.iterdir()) == []


def test_truncated_file_names_file_and_position(tmp_path):
    text = (DATA / "sherpa-3.0.1-eejjj-head20.lhe").read_text()
    cut = text.index("</event>", text.index("</event>") + 1) + 60  # inside the third event
    path = tmp_path / "cut.lhe"
    path.write_text(text[:cut])
    reader = LheReader(path)  # header and init are whole
    with pytest.raises(hepflow.HepflowError, match=r"cut\.lhe.*truncated.*line \d+.*after 2 "):
        list(reader.batches(1))


def test_truncated_header_and_gzip_are_errors(tmp_path):
    text = (DATA / "whizard-3.1.4-eeWW.lhe").read_text()
    head = tmp_path / "head.lhe"
    head.write_text(text[: text.index("</init>")])
    with pytest.raises(hepflow.HepflowError, match=r"head\.lhe.*line \d+"):
        LheReader(head)
    raw = (DATA / "madgraph-2.2.1-Z-mlm-head30.lhe.gz").read_bytes()
    cut = tmp_path / "cut.lhe.gz"
    cut.write_bytes(raw[: len(raw) * 2 // 3])
    with pytest.raises(hepflow.HepflowError, match=r"cut\.lhe\.gz.*truncated.*after \d+ complete"):
        list(LheReader(cut).batches())


def test_real_file_rewritten_by_our_writer_is_read_identically(tmp_path):
    """MadGraph's weights and multiplicities survive reading and rewriting."""
    src = tmp_path / "wbj.lhe"
    shutil.copy(DATA / "madgraph-2.0.0-wbj-head8.lhe", src)
    reader = LheReader(src)
    batches = list(reader.batches(3))
    out = write_lhe(tmp_path / "again.lhe.gz", batches, beam_pdg=[2212, 2212], beam_energy=4000.0)
    assert_same_events(
        hepflow.EventBatch.concat(list(LheReader(out).batches())),
        hepflow.EventBatch.concat(batches),
    )
    with gzip.open(out, "rt") as f:
        assert "2212 2212 4000.0 4000.0" in f.read(5000)
    assert np.isfinite(LheReader(out).info["cross_section"]["value"])


def test_same_events_give_the_same_bytes(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = write_lhe(tmp_path / "a" / "ev.lhe.gz", [make_events(5)], beam_energy=1.0)
    b = write_lhe(tmp_path / "b" / "ev.lhe.gz", [make_events(5)], beam_energy=1.0)
    assert a.read_bytes() == b.read_bytes()
    with gzip.open(a, "rt") as f:
        assert f.read().endswith("</event>\n</LesHouchesEvents>\n")
