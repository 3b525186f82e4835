"""Event generation draws from the sampler density that unweights best: VEGAS offers its
map without the VEGAS+ allocation, and the survey picks whichever of the two wins."""

from __future__ import annotations

import torch

import hepflow
from hepflow.integrate import evaluate, integrate
from hepflow.stats import unweighting_efficiency
from hepflow.unweight import survey_max_weight


def _trained(name: str, **options):
    f = hepflow.create("integrand", name, **options)
    sampler = hepflow.create("sampler", "vegas", dim=f.dim)
    integrate(f, sampler, survey_iterations=3, iterations=3, evals=20_000, seed=1)
    return f, sampler


def _efficiency(f, draw, n=20_000, seed=5) -> float:
    batch, _ = evaluate(f, draw(n, torch.Generator().manual_seed(seed)))
    return unweighting_efficiency(batch.weights)


def test_vegas_map_draws_are_unbiased_and_unweight_better_on_a_resonance():
    f, sampler = _trained("sm:ee_mumu", sqrt_s=91.188)
    batch, _ = evaluate(f, sampler.sample_for_events(100_000, torch.Generator().manual_seed(2)))
    w = batch.weights
    mean, sdev = float(w.mean()), float(w.std()) / len(w) ** 0.5
    exact = f._exact_cross_section()
    assert abs(mean - exact) < 4 * sdev, (mean, exact, sdev)
    assert _efficiency(f, sampler.sample_for_events) > 1.5 * _efficiency(f, sampler.sample)


def test_the_survey_chooses_the_draw_with_the_higher_efficiency():
    for name, options in (("sm:ee_mumu", {"sqrt_s": 91.188}), ("toys:camel", {"dim": 4})):
        f, sampler = _trained(name, **options)
        expected = max(
            ("sample", "sample_for_events"),
            key=lambda draw: _efficiency(f, getattr(sampler, draw), seed=9),
        )
        w_max, estimator, draw = survey_max_weight(
            f, sampler, torch.Generator().manual_seed(9), n=20_000, quantile=1.0
        )
        assert draw == expected, (name, draw)
        assert f"sampler.{draw}" in estimator and w_max > 0
