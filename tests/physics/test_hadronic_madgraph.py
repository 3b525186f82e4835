"""p p -> e+ e- against MadGraph: the example card's cross section against madevent 3.5.7, and
Drell-Yan shapes against MadGraph 2.2.1's events."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

import hepflow
from hepflow.cli import main

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


@pytest.mark.slow
def test_example_card_reproduces_madgraph_pp_ee_13tev(capsys):
    """`hepflow integrate --card examples/pp_ee_13tev.toml --json` against madevent's
    1513.922 +- 0.521 pb (100k events), within 3 combined standard deviations; our error
    must be no larger than MadGraph's."""
    runs = json.loads((DATA / "mg5_cross_sections_pp_ee.json").read_text())["runs"]
    mg = next(r for r in runs if r["run_name"] == "pp_ee_13TeV_mll50_hi")
    card = mg["run_card"]
    # the card's settings are MadGraph's
    assert (card["lpp1"], card["lpp2"], card["maxjetflavor"], card["pdlabel"]) == (
        "1",
        "1",
        "4",
        "nn23lo1",
    )
    assert card["fixed_ren_scale"] == card["fixed_fac_scale"] == "True"
    assert (card["mmll"], card["mmllmax"], card["ptl"], card["etal"]) == (
        "50.0",
        "-1.0",
        "0.0",
        "-1.0",
    )
    assert main(["integrate", "--card", str(ROOT / "examples" / "pp_ee_13tev.toml"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    import tomllib

    ours = tomllib.loads((ROOT / "examples" / "pp_ee_13tev.toml").read_text())["integrand"]
    assert ours["sqrt_s"] == float(card["ebeam1"]) + float(card["ebeam2"])
    assert ours["scale_value"] == float(card["scale"])
    assert ours["mll_min"] == float(card["mmll"]) and ours["flavours"] == int(card["maxjetflavor"])
    assert out["error"] <= mg["error_pb"]
    pull = (out["value"] - mg["cross_section_pb"]) / math.hypot(out["error"], mg["error_pb"])
    assert abs(pull) < 3, f"{out['value']} +- {out['error']} vs MadGraph {mg['cross_section_pb']}"


# -- shapes against MadGraph events -----------------------------------------------------------
def observables(lplus: np.ndarray, lminus: np.ndarray) -> dict[str, np.ndarray]:
    """m_ll and |cos theta| of the Collins-Soper angle of the lepton pair."""
    pair = lplus + lminus
    m = np.sqrt(np.maximum(pair[:, 0] ** 2 - (pair[:, 1:] ** 2).sum(1), 0.0))
    pt2 = pair[:, 1] ** 2 + pair[:, 2] ** 2

    def plus(p):
        return (p[:, 0] + p[:, 3]) / math.sqrt(2)

    def minus(p):
        return (p[:, 0] - p[:, 3]) / math.sqrt(2)

    cos_cs = 2 * (plus(lminus) * minus(lplus) - minus(lminus) * plus(lplus))
    cos_cs /= m * np.sqrt(m * m + pt2)
    return {"mll": m, "abs_cos_cs": np.abs(cos_cs)}


def weighted_ks(a: np.ndarray, wa: np.ndarray, b: np.ndarray) -> float:
    """Largest distance between the weighted empirical CDF of a and the plain one of b."""
    grid = np.sort(np.concatenate([a, b]))
    order = np.argsort(a)
    cdf_a = np.concatenate([[0.0], np.cumsum(wa[order]) / wa.sum()])
    fa = cdf_a[np.searchsorted(a[order], grid, side="right")]
    fb = np.searchsorted(np.sort(b), grid, side="right") / len(b)
    return float(np.abs(fa - fb).max())


def test_drell_yan_shapes_match_madgraph_events():
    """The 0-jet subprocess (p p > l+ l-, @1) of MadGraph 2.2.1's MLM-matched Z sample at 7 TeV,
    m_ll > 30 GeV, fixed scale MZ (tests/data/hadronic/README.md), against our weighted
    events from 200k uniform points: a two-sample Kolmogorov-Smirnov test of m_ll and of
    |cos theta_CS| at significance 0.001 (critical D = 1.949 sqrt((n + n_eff) / (n n_eff)),
    n_eff = (sum w)^2 / sum w^2). MadGraph used CTEQ6L1, we nn23lo1: these two observables
    barely depend on the PDF; the dilepton rapidity does, and is not compared."""
    path = DATA / "hadronic" / "madgraph-2.2.1-Z-mlm-0jet-leptons.csv.gz"
    with gzip.open(path, "rt") as f:
        mg = np.loadtxt(f, delimiter=",", skiprows=1)
    reference = observables(mg[:, 3:7], mg[:, 7:11])
    ig = hepflow.create("integrand", "sm:pp_ll", sqrt_s=7000.0, mll_min=30.0)
    x = torch.rand(200_000, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    ev = ig.events(x, generator=torch.Generator().manual_seed(2))
    p = ev.momentum.reshape(-1, 4, 4).numpy()
    w = ev.weight.numpy()
    ours = observables(p[:, 2], p[:, 3])  # e+, e-
    n, n_eff = len(mg), w.sum() ** 2 / (w**2).sum()
    critical = 1.949 * math.sqrt((n + n_eff) / (n * n_eff))
    for name in ("mll", "abs_cos_cs"):
        d = weighted_ks(ours[name], w, reference[name])
        assert d < critical, f"{name}: KS distance {d:.4f} >= {critical:.4f}"


def test_run_writes_hadron_collider_lhe(tmp_path, capsys):
    """`hepflow run` on a small p p -> e+ e- card with scale variations: the LHE file has the
    proton beams at 6.5 TeV, incoming partons along the beams, and the 7 weights per event."""
    from hepflow_io.lhe import LheReader

    card = tmp_path / "card.toml"
    card.write_text(
        'seed = 3\ndevice = "cpu"\noutput_dir = "out"\n'
        '[integrand]\nname = "sm:pp_ll"\nscale_variations = true\n'
        '[sampler]\nname = "vegas"\n'
        "[integration]\nsurvey_iterations = 1\niterations = 2\nevals = 4000\n"
        "[generation]\nevents = 200\n"
        '[[output]]\nwriter = "lhe"\npath = "events.lhe"\n'
    )
    assert main(["run", str(card), "--quiet"]) == 0
    capsys.readouterr()
    reader = LheReader(tmp_path / "out" / "events.lhe")
    assert reader.info["beams"] == [(2212, 6500.0), (2212, 6500.0)]
    assert len(reader.info["weight_ids"]) == 7
    batches = list(reader.batches())
    ev = batches[0]
    incoming = ev.momentum[ev.status == -1]
    assert torch.allclose(incoming[:, 1:3], torch.zeros_like(incoming[:, 1:3]))
    assert torch.allclose(incoming[:, 0], incoming[:, 3].abs())
    assert sum(len(b) for b in batches) == 200
    assert torch.equal(
        ev.weight_variations["muR=2.0_muF=1.0"], ev.weight_variations["muR=1.0_muF=1.0"]
    )
