"""The vegas_multichannel sampler: one VEGAS grid per channel, points shared by a learned
allocation; checked against closed-form integrals, the single-map vegas sampler and the
pipeline's card, state and event paths."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pylhe
import pytest
import torch
from hepflow_toys import TwoResonances
from hepflow_vegas import MultiChannelVegas

import hepflow
from hepflow.card import load_card
from hepflow.errors import HepflowError
from hepflow.integrate import integrate
from hepflow.plugins import get_registry
from hepflow.run import build_components, run_pipeline


def _flat_priors(toy: TwoResonances):
    return [type(c)(c.name, prior=1.0) for c in toy.channels]


def test_two_resonances_are_integrated_and_the_shares_learned():
    toy = TwoResonances(dim=2)
    sampler = MultiChannelVegas(2, channels=_flat_priors(toy))
    assert sampler.channel_weights == [0.5, 0.5]
    result = integrate(
        toy, sampler, survey_iterations=8, survey_evals=4000, iterations=4, evals=10_000, seed=1
    )
    assert abs(result.mean - toy.reference) < 4 * result.sdev, result.summary()
    for learned, share in zip(sampler.channel_weights, toy.shares, strict=True):
        assert learned == pytest.approx(share, abs=0.02)


def test_each_grid_learns_its_own_channel():
    """The grids see only their channel's points: on two resonances each channel's term is
    flat in x_1 (its Breit-Wigner map takes the peak out), so each map stays near the
    identity, while one vegas grid on the sum must learn both peaks."""
    toy = TwoResonances(dim=2)
    sampler = MultiChannelVegas(2, channels=toy.channels)
    integrate(toy, sampler, survey_iterations=6, survey_evals=4000, iterations=1, evals=4000)
    single = hepflow.create("sampler", "vegas", dim=2)
    integrate(toy, single, survey_iterations=6, survey_evals=4000, iterations=1, evals=4000)
    y = torch.rand(4000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))

    def largest_jacobian_spread(grid) -> float:
        _, jac = grid.map(y)
        return float(jac.max() / jac.min())

    spreads = [largest_jacobian_spread(g) for g in sampler.grids]
    assert max(spreads) < 5.0, spreads
    assert largest_jacobian_spread(single) > 50.0


def test_multichannel_vegas_beats_one_grid_on_two_narrow_resonances():
    """Fixed seeds; the gain is large (the channel maps flatten both peaks), so a factor 3 in
    the error at the same evaluations is many standard deviations from chance."""
    toy = TwoResonances(dim=3, g1=0.002, g2=0.004)
    plan = dict(survey_iterations=6, survey_evals=5000, iterations=4, evals=10_000, seed=4)
    multi = integrate(toy, MultiChannelVegas(3, channels=toy.channels), **plan)
    single = integrate(toy, hepflow.create("sampler", "vegas", dim=3), **plan)
    assert abs(multi.mean - toy.reference) < 4 * multi.sdev
    assert abs(single.mean - toy.reference) < 4 * single.sdev
    assert multi.sdev < single.sdev / 3, (multi.sdev, single.sdev)


def test_ee_uuxg_agrees_with_the_single_map_vegas():
    ee = hepflow.create("integrand", "sm:ee_uuxg", sqrt_s=91.188)
    plan = dict(survey_iterations=4, survey_evals=20_000, iterations=4, evals=20_000, seed=2)
    multi = integrate(ee, MultiChannelVegas(ee.dim, channels=ee.channels), **plan)
    single = integrate(ee, hepflow.create("sampler", "vegas", dim=ee.dim), **plan)
    assert abs(multi.mean - single.mean) < 4 * math.hypot(multi.sdev, single.sdev)


def test_a_channel_that_carries_nothing_is_dropped():
    toy = TwoResonances(dim=2, a1=0.0)
    sampler = MultiChannelVegas(2, channels=_flat_priors(toy))
    result = integrate(toy, sampler, survey_iterations=6, survey_evals=2000, iterations=2)
    assert sampler.book.alive.tolist() == [False, True]
    assert abs(result.mean - toy.reference) < 4 * result.sdev


def test_a_reloaded_sampler_reproduces_its_points():
    toy = TwoResonances(dim=2)
    sampler = MultiChannelVegas(2, channels=toy.channels)
    integrate(toy, sampler, survey_iterations=3, survey_evals=3000, iterations=1, evals=3000)
    clone = MultiChannelVegas(2, channels=toy.channels)
    clone.load_state_dict(sampler.state_dict())
    a = sampler.sample(5000, torch.Generator().manual_seed(7))
    b = clone.sample(5000, torch.Generator().manual_seed(7))
    assert torch.equal(a.x, b.x) and torch.equal(a.q, b.q)
    assert torch.equal(a.extras["channel"], b.extras["channel"])


def test_bad_input_is_named():
    with pytest.raises(HepflowError, match="declares channels"):
        MultiChannelVegas(2)
    toy = TwoResonances(dim=2)
    sampler = MultiChannelVegas(2, channels=toy.channels)
    with pytest.raises(HepflowError, match="format"):
        sampler.load_state_dict(hepflow.create("sampler", "vegas", dim=2).state_dict())
    other = [type(c)(f"other {i}") for i, c in enumerate(toy.channels)]
    with pytest.raises(HepflowError, match="channels"):
        MultiChannelVegas(2, channels=other).load_state_dict(sampler.state_dict())


def test_the_card_hands_the_channels_over(tmp_path):
    path = tmp_path / "card.toml"
    path.write_text(
        textwrap.dedent(
            """
            [integrand]
            name = "toys:two_resonances"
            [sampler]
            name = "vegas_multichannel"
            beta = 0.5
            """
        )
    )
    integrand, sampler = build_components(load_card(path), get_registry(), torch.device("cpu"))
    assert [c.name for c in sampler.channels] == [c.name for c in integrand.channels]
    assert all(grid.beta == 0.5 for grid in sampler.grids)


def test_events_are_drawn_through_each_points_channel(tmp_path):
    """Unweighted events from the per-channel grids: each channel's points are mapped to
    momenta by that channel's own mapping, so every event conserves momentum and passes the
    cut, whichever channel drew it."""
    card = tmp_path / "card.toml"
    card.write_text(
        textwrap.dedent(
            """
            seed = 3
            [integrand]
            name = "sm:ee_uuxg"
            sqrt_s = 91.188
            [sampler]
            name = "vegas_multichannel"
            [integration]
            survey_iterations = 4
            survey_evals = 4000
            iterations = 2
            evals = 4000
            [generation]
            events = 200
            [[output]]
            writer = "lhe"
            path = "events.lhe"
            """
        )
    )
    summary = run_pipeline(load_card(card))
    assert summary["generation"]["n_events"] == 200
    events = list(pylhe.LHEFile.fromfile(str(tmp_path / "events.lhe")).events)
    assert len(events) == 200
    s = 91.188**2
    for event in events:
        p = np.array([[q.e, q.px, q.py, q.pz] for q in event.particles])
        assert [int(q.id) for q in event.particles] == [-11, 11, 2, -2, 21]
        assert np.allclose(p[0] + p[1], p[2:].sum(0), atol=1e-9)
        for i, j in ((2, 3), (2, 4), (3, 4)):
            pair = p[i] + p[j]
            assert pair[0] ** 2 - (pair[1:] ** 2).sum() >= 0.01 * s * (1 - 1e-9)
