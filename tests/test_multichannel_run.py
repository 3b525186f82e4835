"""The pipeline with a multi-channel integrand and the nis sampler: the card hands the
integrand's channels to the sampler, events are built through each point's channel, and the
LHE file records what the integrand declared (beams, PDF set)."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pylhe
import pytest
import torch

from hepflow.card import load_card
from hepflow.plugins import get_registry
from hepflow.run import build_components, run_pipeline


def _card(tmp_path, body: str):
    path = tmp_path / "card.toml"
    path.write_text(textwrap.dedent(body))
    return load_card(path)


@pytest.mark.slow
def test_ee_to_uuxg_with_multi_channel_nis_writes_events(tmp_path):
    card = _card(
        tmp_path,
        """
        seed = 3
        [integrand]
        name = "sm:ee_uuxg"
        sqrt_s = 91.188
        ycut = 0.01
        [sampler]
        name = "nis"
        hidden = [16]
        [integration]
        survey_iterations = 4
        survey_evals = 1000
        iterations = 2
        evals = 4000
        adapt_refine = false
        [generation]
        events = 300
        [[output]]
        writer = "lhe"
        path = "events.lhe"
        """,
    )
    integrand, sampler = build_components(card, get_registry(), torch.device("cpu"))
    assert len(sampler.flows) == len(integrand.channels) == 2  # the card passed the channels
    summary = run_pipeline(card)
    assert summary["generation"]["n_events"] == 300
    events = list(pylhe.LHEFile.fromfile(str(tmp_path / "events.lhe")).events)
    assert len(events) == 300
    s = 91.188**2
    for event in events[:50]:
        p = np.array([[q.e, q.px, q.py, q.pz] for q in event.particles])
        ids = [int(q.id) for q in event.particles]
        assert ids == [-11, 11, 2, -2, 21]
        assert np.allclose(p[0] + p[1], p[2] + p[3] + p[4], atol=1e-9)
        out = p[2:]
        for i in range(3):  # the cut the integrand applied: every pair above ycut * s
            for j in range(i + 1, 3):
                pair = out[i] + out[j]
                assert pair[0] ** 2 - (pair[1:] ** 2).sum() >= 0.01 * s * (1 - 1e-9)


@pytest.mark.slow
def test_hadronic_lhe_file_declares_the_pdf_set(tmp_path):
    card = _card(
        tmp_path,
        """
        seed = 1
        [integrand]
        name = "sm:pp_ll"
        sqrt_s = 13000.0
        mll_min = 60.0
        mll_max = 120.0
        [sampler]
        name = "vegas"
        [integration]
        iterations = 2
        evals = 4000
        [generation]
        events = 100
        [[output]]
        writer = "lhe"
        path = "dy.lhe"
        """,
    )
    run_pipeline(card)
    init = pylhe.LHEFile.fromfile(str(tmp_path / "dy.lhe")).init.initInfo
    assert (init.PDFsetA, init.PDFsetB) == (247000, 247000)
    assert (init.beamA, init.beamB) == (2212, 2212)
    summary = json.loads((tmp_path / "hepflow_summary.json").read_text())
    assert summary["generation"]["n_events"] == 100
