"""The io plugin's ``hepmc`` writer: HepMC3 ASCII that pyhepmc's reader reads back."""

from __future__ import annotations

import gzip
import json
import math

import numpy as np
import pytest
import torch
from hepflow_io import LheReader
from io_helpers import DATA, RUN_INFO

import hepflow

pyhepmc = pytest.importorskip("pyhepmc")
from hepflow_io import HepMCWriter  # noqa: E402

# u u~ -> Z -> mu- mu+ with the LHE conventions (mothers: 1-based ranges first..last)
ZMUMU = {
    "pdg_id": (2, -2, 23, 13, -13),
    "status": (-1, -1, 2, 1, 1),
    "mothers": ((0, 0), (0, 0), (1, 2), (3, 3), (3, 0)),  # (3, 0): single mother, too
}


def zmumu(n: int, seed: int = 0, variations: bool = True) -> hepflow.EventBatch:
    g = torch.Generator().manual_seed(seed)
    m = 60 + 60 * torch.rand(n, generator=g, dtype=torch.float64)
    cos = 2 * torch.rand(n, generator=g, dtype=torch.float64) - 1
    phi = 2 * math.pi * torch.rand(n, generator=g, dtype=torch.float64)
    sin = torch.sqrt(1 - cos**2)
    h, z = m / 2, torch.zeros(n, dtype=torch.float64)
    lep = torch.stack([h, h * sin * torch.cos(phi), h * sin * torch.sin(phi), h * cos], -1)
    mom = torch.stack(
        [
            torch.stack([h, z, z, h], -1),
            torch.stack([h, z, z, -h], -1),
            torch.stack([m, z, z, z], -1),
            lep,
            torch.cat([lep[:, :1], -lep[:, 1:]], -1),
        ],
        1,
    )
    weight = torch.randn(n, generator=g, dtype=torch.float64)
    wv = {"mur=0.5 muf=1": weight * 1.1, "1002": weight * 1e-7} if variations else {}
    return hepflow.EventBatch.from_regular(
        pdg_id=torch.tensor(ZMUMU["pdg_id"]),
        status=torch.tensor(ZMUMU["status"]),
        mothers=torch.tensor(ZMUMU["mothers"]),
        color=torch.tensor(((501, 0), (0, 501), (0, 0), (0, 0), (0, 0))),
        momentum=mom,
        weight=weight,
        mass=torch.stack([z, z, m, z, z], -1),
        weight_variations=wv,
        extras={
            "process_id": torch.full((n,), 7),
            "scale": m,
            "alpha_s": torch.full((n,), 0.118, dtype=torch.float64),
        },
    )


def write(path, batches, summary=None, **options):
    with HepMCWriter(path, run_info=RUN_INFO, **options) as writer:
        for batch in batches:
            writer.write(batch)
        writer.close(summary or {**RUN_INFO, "card": {"seed": 3}, "generation": {"n_tried": 99}})
    return path


def read(path):
    with pyhepmc.open(path) as f:
        return list(f)


@pytest.mark.parametrize("name", ["events.hepmc", "events.hepmc.gz"])
def test_pyhepmc_reads_back_momenta_ids_weights_and_vertices(tmp_path, name):
    batches = [zmumu(7, seed=1), zmumu(5, seed=2)]
    ref = hepflow.EventBatch.concat(batches)
    path = write(tmp_path / name, batches)
    if name.endswith(".gz"):
        with gzip.open(path) as f:
            assert f.read(14) == b"HepMC::Version"
    events = read(path)
    assert len(events) == len(ref)
    offsets = ref.offsets.tolist()
    for i, ev in enumerate(events):
        a, b = offsets[i], offsets[i + 1]
        p = ev.numpy.particles
        assert ev.event_number == i
        assert p.pid.tolist() == ref.pdg_id[a:b].tolist()
        assert p.status.tolist() == [4, 4, 22, 1, 1]
        mom = np.stack([p.e, p.px, p.py, p.pz], 1)
        assert np.array_equal(mom, ref.momentum[a:b].numpy())  # bit for bit
        assert np.array_equal(p.generated_mass, ref.mass[a:b].numpy())
        assert ev.weights == [
            ref.weight[i].item(),
            ref.weight_variations["mur=0.5 muf=1"][i].item(),
            ref.weight_variations["1002"][i].item(),
        ]
        assert ev.weight_names == ["Weight", "mur=0.5_muf=1", "1002"]
        # the vertices of the LHE mothers: (u, u~) -> Z -> (mu-, mu+)
        parts = ev.particles
        assert [q.id for q in parts[2].parents] == [1, 2]
        assert [q.id for q in parts[3].parents] == [3] and [q.id for q in parts[4].parents] == [3]
        assert parts[3].production_vertex is parts[4].production_vertex
        assert len(ev.vertices) == 2
        assert [q.id for q in ev.beams] == [1, 2]
        attributes = ev.attributes  # HepMC3 writes double attributes with 15 digits
        scale = attributes["event_scale"].astype(float)
        assert scale == pytest.approx(ref.extras["scale"][i].item(), rel=1e-14)
        assert attributes["signal_process_id"].astype(int) == 7
        assert attributes["alphaQCD"].astype(float) == 0.118
        xs = ev.cross_section
        assert xs is not None and xs.xsec() == pytest.approx(RUN_INFO["cross_section"]["value"])
        assert xs.xsec_err() == pytest.approx(RUN_INFO["cross_section"]["error"], rel=1e-8)
        assert xs.accepted_events == i + 1
    # the last event carries the closing summary: cross section, trials, the card
    last = events[-1]
    assert last.cross_section.attempted_events == 99
    summary = json.loads(last.attributes["hepflow_summary"].astype(str))
    assert summary["card"] == {"seed": 3} and summary["n_events"] == len(ref)
    run = json.loads(events[0].run_info.attributes["hepflow_run"].astype(str))
    assert run["weight_ids"] == {
        "nominal": "Weight",
        "mur=0.5 muf=1": "mur=0.5_muf=1",
        "1002": "1002",
    }
    assert [t.name for t in events[0].run_info.tools] == ["hepflow"]


def test_closing_cross_section_and_unit_conversion(tmp_path):
    summary = {"cross_section": {"value": 2500.0, "error": 12.5, "unit": "fb"}, "max_weight": 1}
    path = write(tmp_path / "x.hepmc", [zmumu(3, variations=False)], summary=summary)
    events = read(path)
    assert events[0].cross_section.xsec() == pytest.approx(RUN_INFO["cross_section"]["value"])
    assert events[-1].cross_section.xsec() == 2.5  # pb, from the closing summary
    assert events[-1].cross_section.xsec_err() == 0.0125
    assert events[-1].weight_names == ["Weight"]


def test_hadron_beams_are_added_as_parents_of_the_partons(tmp_path):
    batch = zmumu(4, variations=False)
    path = write(tmp_path / "pp.hepmc", [batch], beam_pdg=[2212, 2212], beam_energy=6500.0)
    for i, ev in enumerate(read(path)):
        p = ev.numpy.particles
        assert p.pid.tolist() == [2212, 2212, 2, -2, 23, 13, -13]
        assert p.status.tolist() == [4, 4, 21, 21, 22, 1, 1]
        assert p.e[:2].tolist() == [6500.0, 6500.0]
        assert p.pz[0] == -p.pz[1] == pytest.approx(6500.0)
        assert p.generated_mass[0] == pytest.approx(0.93827208816)
        parts = ev.particles
        assert [q.id for q in parts[2].parents] == [1] and [q.id for q in parts[3].parents] == [2]
        assert [q.id for q in parts[4].parents] == [3, 4]
        assert [q.id for q in ev.beams] == [1, 2]
        a = batch.offsets[i].item()
        assert np.array_equal(np.stack([p.e, p.px, p.py, p.pz], 1)[2:], batch.momentum[a : a + 5])


def test_real_lhe_files_convert(tmp_path):
    """MadGraph, Sherpa and WHIZARD files, through our LHE reader into HepMC and back."""
    files = sorted(DATA.glob("*.lhe*"))
    assert files, f"no LHE files in {DATA}"
    for lhe in files:
        batch = next(iter(LheReader(lhe).batches(50)))
        events = read(write(tmp_path / (lhe.name.removesuffix(".gz") + ".hepmc"), [batch]))
        assert len(events) == len(batch), lhe.name
        offsets = batch.offsets.tolist()
        for i, ev in enumerate(events):
            p = ev.numpy.particles
            a, b = offsets[i], offsets[i + 1]
            assert p.pid.tolist() == batch.pdg_id[a:b].tolist(), lhe.name
            assert np.array_equal(np.stack([p.e, p.px, p.py, p.pz], 1), batch.momentum[a:b])
            assert ev.weights[0] == batch.weight[i].item()
            final = batch.status[a:b] == 1
            assert p.status[final.numpy()].tolist() == [1] * int(final.sum()), lhe.name


def test_existing_file_is_refused_and_kept(tmp_path):
    path = tmp_path / "events.hepmc"
    path.write_text("precious")
    with pytest.raises(hepflow.OutputExistsError, match="exists"):
        HepMCWriter(path)
    assert path.read_text() == "precious"
    write(path, [zmumu(2)], overwrite=True)
    assert len(read(path)) == 2


def test_exception_leaves_nothing_and_earlier_file_untouched(tmp_path):
    path = tmp_path / "events.hepmc.gz"
    with pytest.raises(RuntimeError, match="boom"), HepMCWriter(path) as writer:
        writer.write(zmumu(5))
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"), HepMCWriter(path, overwrite=True) as writer:
        writer.write(zmumu(5))
        raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.hepmc.gz"]
    assert path.read_bytes() == b"old"


def test_no_events_gives_a_valid_empty_file(tmp_path):
    path = write(tmp_path / "empty.hepmc", [])
    assert read(path) == []
    assert path.read_text().rstrip().endswith("HepMC::Asciiv3-END_EVENT_LISTING")


@pytest.mark.parametrize(
    ("mothers", "status", "match"),
    [
        (((0, 0), (0, 0), (1, 2), (3, 3), (6, 0)), None, "outside the event"),
        (((0, 0), (0, 0), (1, 2), (4, 4), (3, 3)), None, "among its own mothers"),
        (((0, 0), (0, 0), (1, 2), (2, 3), (3, 3)), None, "two end vertices"),
        (((0, 0), (0, 0), (2, 1), (3, 3), (3, 3)), None, "last < first"),
        (((0, 0), (0, 0), (1, 2), (3, 3), (3, 3)), (-1, -1, 2, 1, 0), "not supported"),
    ],
)
def test_records_hepmc_cannot_hold_are_errors(tmp_path, mothers, status, match):
    batch = zmumu(3, variations=False)
    n = len(batch)
    batch = hepflow.EventBatch.from_regular(
        pdg_id=torch.tensor(ZMUMU["pdg_id"]),
        status=torch.tensor(status or ZMUMU["status"]),
        mothers=torch.tensor(mothers),
        color=torch.zeros(5, 2, dtype=torch.int64),
        momentum=batch.momentum.reshape(n, 5, 4),
        weight=batch.weight,
    )
    with pytest.raises(hepflow.HepflowError, match=match), HepMCWriter(tmp_path / "x.hepmc") as w:
        w.write(batch)
    assert list(tmp_path.iterdir()) == []


def test_bad_options_and_mismatched_batches(tmp_path):
    with pytest.raises(ValueError, match="beam_energy"):
        HepMCWriter(tmp_path / "x.hepmc", beam_pdg=[2212, 2212])
    with pytest.raises(ValueError, match="beam_mass"):
        HepMCWriter(tmp_path / "x.hepmc", beam_pdg=[99, 99], beam_energy=10.0)
    with (
        pytest.raises(hepflow.HepflowError, match="same ids"),
        HepMCWriter(tmp_path / "x.hepmc") as w,
    ):
        w.write(zmumu(2))
        w.write(zmumu(2, variations=False))
    assert list(tmp_path.iterdir()) == []


def test_created_by_name_through_the_registry(tmp_path):
    writer = hepflow.create("writer", "hepmc", path=str(tmp_path / "x.hepmc"))
    assert isinstance(writer, HepMCWriter)
