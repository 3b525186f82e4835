"""Downstream client: Pythia 8 showers the LHE files hepflow writes and reports our cross section.

Needs PyPI's ``pythia8mc`` (the Python interface of Pythia 8), a test dependency: never skipped.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import pytest
import pythia8mc
import torch
from hepflow_io import LheWriter

import hepflow
from hepflow.card import parse_card
from hepflow.run import run_pipeline

pytestmark = pytest.mark.slow

N_EVENTS = 200


@pytest.fixture(autouse=True)
def pythia_data(monkeypatch):
    """Point $PYTHIA8DATA at Pythia's settings when it is unset and they are found beside the
    module or in the environment's share/ (pip puts them there; Pythia finds them itself in
    an ordinary install, but not in a --target one)."""
    if os.environ.get("PYTHIA8DATA"):
        return
    module = Path(pythia8mc.__file__).resolve().parent
    for root in (module, Path(sys.prefix), *module.parents[:4]):
        candidate = root / "share" / "Pythia8" / "xmldoc"
        if (candidate / "Index.xml").is_file():
            monkeypatch.setenv("PYTHIA8DATA", str(candidate))
            return


def shower(lhe: Path, hadronise: bool = False) -> tuple[int, int, float, float]:
    """Shower every event of ``lhe`` (ISR, FSR, MPI on); returns (accepted events, aborts,
    sigmaGen, sigmaErr) with the cross sections in mb, as Pythia reports them."""
    pythia = pythia8mc.Pythia("", False)
    for setting in (
        "Beams:frameType = 4",
        f"Beams:LHEF = {lhe}",
        "PartonLevel:ISR = on",
        "PartonLevel:FSR = on",
        "PartonLevel:MPI = on",
        f"HadronLevel:all = {'on' if hadronise else 'off'}",
        "Next:numberCount = 0",
        "Print:quiet = on",
        "Random:setSeed = on",
        "Random:seed = 7",
    ):
        assert pythia.readString(setting), setting
    assert pythia.init(), "Pythia could not initialise from the LHE file"
    accepted = aborts = 0
    while True:
        if pythia.next():
            accepted += 1
            continue
        if pythia.infoPython().atEndOfFile():  # infoPython() is a snapshot: ask anew
            break
        aborts += 1
        assert aborts <= 10, "Pythia keeps failing on our events"
    info = pythia.infoPython()
    assert info.nAccepted() == accepted
    return accepted, aborts, info.sigmaGen(), info.sigmaErr()


def test_pythia_showers_a_pipeline_lhe_file_and_reports_our_cross_section(tmp_path):
    card = parse_card(
        {
            "seed": 5,
            "output_dir": str(tmp_path),
            "integrand": {"name": "example:breit_wigner", "sigma": 1500.0},
            "sampler": "vegas",
            "integration": {"iterations": 4, "evals": 20_000},
            "generation": {"events": N_EVENTS, "chunk_size": 100},
            "output": [
                {
                    "writer": "lhe",
                    "path": "zmumu.lhe",
                    "beam_pdg": [2212, 2212],
                    "beam_energy": 6500.0,
                    "pdf_id": [303400, 303400],
                }
            ],
        },
        source="pythia test card",
    )
    summary = run_pipeline(card)
    xs = summary["cross_section"]
    assert xs["unit"] == "pb"
    accepted, aborts, sigma_mb, error_mb = shower(tmp_path / "zmumu.lhe")
    assert accepted == N_EVENTS and aborts == 0
    # Pythia reports the XSECUP we wrote, in mb (1 pb = 1e-9 mb), within its error
    assert error_mb == pytest.approx(xs["error"] * 1e-9, rel=1e-6)
    assert abs(sigma_mb - xs["value"] * 1e-9) <= max(error_mb, 1e-6 * sigma_mb)


def ee_mumu(n: int, seed: int = 0) -> hepflow.EventBatch:
    """e- e+ -> mu- mu+ at sqrt(s) = 91.2 GeV, unweighted, in the lab frame."""
    g = torch.Generator().manual_seed(seed)
    cos = 2 * torch.rand(n, generator=g, dtype=torch.float64) - 1
    phi = 2 * math.pi * torch.rand(n, generator=g, dtype=torch.float64)
    sin, e, zero = torch.sqrt(1 - cos**2), torch.full((n,), 45.6, dtype=torch.float64), 0 * cos
    mu = torch.stack([e, e * sin * torch.cos(phi), e * sin * torch.sin(phi), e * cos], -1)
    momentum = torch.stack(
        [
            torch.stack([e, zero, zero, e], -1),
            torch.stack([e, zero, zero, -e], -1),
            mu,
            torch.cat([mu[:, :1], -mu[:, 1:]], -1),
        ],
        1,
    )
    return hepflow.EventBatch.from_regular(
        pdg_id=torch.tensor((11, -11, 13, -13)),
        status=torch.tensor((-1, -1, 1, 1)),
        mothers=torch.tensor(((0, 0), (0, 0), (1, 2), (1, 2))),
        color=torch.zeros(4, 2, dtype=torch.int64),
        momentum=momentum,
        weight=torch.full((n,), 2000.0, dtype=torch.float64),
        extras={"scale": 2 * e},
    )


def test_pythia_showers_an_ee_to_mumu_lhe_file_with_hadronisation(tmp_path):
    path = tmp_path / "eemumu.lhe.gz"
    summary = {"cross_section": {"value": 2000.0, "error": 4.0, "unit": "pb"}, "max_weight": 1}
    with LheWriter(path, run_info=summary) as writer:  # beams: e- e+ by default
        writer.write(ee_mumu(N_EVENTS // 2, seed=1))
        writer.write(ee_mumu(N_EVENTS // 2, seed=2))
        writer.close(summary)
    accepted, aborts, sigma_mb, error_mb = shower(path, hadronise=True)
    assert accepted == N_EVENTS and aborts == 0
    assert error_mb == pytest.approx(4.0e-9, rel=1e-6)
    assert abs(sigma_mb - 2000.0e-9) <= error_mb
