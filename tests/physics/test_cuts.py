"""Cuts with MadGraph run_card names: each cut on hand-made events with known kinematics, the
whole set against an independent numpy implementation of MadGraph's definitions on random
events, clear errors for bad input, and the binomial error of the cut efficiency."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest
import torch

from hepflow.errors import HepflowError
from hepflow.physics.cuts import CUT_NAMES, CutEfficiency, CutError, Cuts


def _massless(pt: float, eta: float, phi: float) -> list[float]:
    return [pt * math.cosh(eta), pt * math.cos(phi), pt * math.sin(phi), pt * math.sinh(eta)]


def _batch(*events: list[list[float]]) -> torch.Tensor:
    return torch.tensor(events, dtype=torch.float64)


def test_no_cut_by_default_and_repr_lists_the_active_ones():
    cuts = Cuts()
    assert not cuts
    p = _batch([_massless(1.0, 4.0, 0.0), _massless(0.5, -6.0, 1.0)])
    assert cuts.mask(p, [21, 11]).tolist() == [True]
    assert repr(Cuts(ptj=20, etaj=-1)) == "Cuts(ptj=20.0)"


@pytest.mark.parametrize(
    ("cut", "value", "pdg", "passes", "fails"),
    [
        ("ptj", 20.0, 21, _massless(25.0, 0.3, 0.1), _massless(15.0, 0.3, 0.1)),
        ("ptjmax", 100.0, 1, _massless(50.0, 0.0, 0.0), _massless(150.0, 0.0, 0.0)),
        ("ptl", 10.0, 13, _massless(12.0, 1.0, 2.0), _massless(8.0, 1.0, 2.0)),
        ("ptlmax", 30.0, -11, _massless(20.0, 1.0, 2.0), _massless(40.0, 1.0, 2.0)),
        ("etaj", 2.5, 2, _massless(30.0, -2.4, 0.0), _massless(30.0, -2.6, 0.0)),
        ("etal", 2.5, 11, _massless(30.0, 2.4, 0.0), _massless(30.0, 2.6, 0.0)),
        ("ej", 50.0, 5, _massless(30.0, 1.5, 0.0), _massless(30.0, 0.5, 0.0)),
        ("el", 50.0, 15, _massless(30.0, 1.5, 0.0), _massless(30.0, 0.5, 0.0)),
    ],
)
def test_single_particle_cuts(cut, value, pdg, passes, fails):
    cuts = Cuts(**{cut: value})
    other = _massless(1.0, 9.0, 0.0)  # a neutrino: never cut
    p = _batch([passes, other], [fails, other])
    assert cuts.mask(p, [pdg, 12]).tolist() == [True, False]


def test_single_particle_cuts_ignore_other_kinds():
    """Jet cuts leave leptons alone and lepton cuts leave jets alone; tops are not jets."""
    p = _batch([_massless(5.0, 0.0, 0.0), _massless(5.0, 4.0, 1.0)])
    assert Cuts(ptj=20, etaj=2).mask(p, [11, 6]).tolist() == [True]
    assert Cuts(ptl=20, etal=2).mask(p, [21, 1]).tolist() == [True]
    assert Cuts(ptl=20).mask(p, [21, -13]).tolist() == [False]


def test_pair_cuts():
    a = _massless(30.0, 0.0, 0.0)
    near = _massless(30.0, 0.3, 0.0)  # Delta R = 0.3
    far = _massless(30.0, 0.0, 1.0)  # Delta R = 1.0
    for cut, kinds in (("drjj", (21, 2)), ("drll", (11, 13)), ("drjl", (21, 11))):
        mask = Cuts(**{cut: 0.4}).mask(_batch([a, far], [a, near]), list(kinds))
        assert mask.tolist() == [True, False], cut
    # Delta phi wraps around: phi = 3.1 and -3.1 are 0.083 apart
    wrap = _batch([_massless(30.0, 0.0, 3.1), _massless(30.0, 0.0, -3.1)])
    assert Cuts(drjj=0.1).mask(wrap, [21, 21]).tolist() == [False]
    # m^2 = 2 pT1 pT2 (cosh(d eta) - cos(d phi)) = 2 * 900 * (1 - cos 1) for (a, far)
    m = math.sqrt(2 * 900 * (1 - math.cos(1.0)))
    pair = _batch([a, far])
    assert Cuts(mmjj=m - 0.01).mask(pair, [1, -1]).tolist() == [True]
    assert Cuts(mmjj=m + 0.01).mask(pair, [1, -1]).tolist() == [False]
    assert Cuts(mmjjmax=m - 0.01).mask(pair, [1, -1]).tolist() == [False]
    assert Cuts(mmll=m + 0.01).mask(pair, [-11, 11]).tolist() == [False]
    assert Cuts(mmllmax=m + 0.01).mask(pair, [-13, 13]).tolist() == [True]
    # mmll applies to same-flavour opposite-charge pairs only, as in MadGraph
    assert Cuts(mmll=m + 0.01).mask(pair, [-11, 13]).tolist() == [True]
    assert Cuts(mmll=m + 0.01).mask(pair, [11, 11]).tolist() == [True]


def test_ycut_on_coloured_pairs():
    """Three partons with x = (0.9, 0.8, 0.3): y_ij = 1 - x_k = (0.7, 0.2, 0.1) for the pairs
    (2,3), (1,3), (1,2); ycut keeps the event below min y = 0.1 and cuts it above."""
    sqrt_s = 100.0
    x = [0.9, 0.8, 0.3]
    e = [xi * sqrt_s / 2 for xi in x]
    cos12 = 1 - 2 * (1 - x[2]) / (x[0] * x[1])
    sin12 = math.sqrt(1 - cos12**2)
    p1 = [e[0], 0.0, 0.0, e[0]]
    p2 = [e[1], e[1] * sin12, 0.0, e[1] * cos12]
    p3 = [e[2], -p2[1], 0.0, -p1[3] - p2[3]]
    p = _batch([p1, p2, p3])
    assert Cuts(ycut=0.099).mask(p, [2, -2, 21]).tolist() == [True]
    assert Cuts(ycut=0.101).mask(p, [2, -2, 21]).tolist() == [False]
    assert Cuts(ycut=0.5).mask(p, [11, -11, 21]).tolist() == [True]  # one parton: no pair


def _reference_mask(p: np.ndarray, pdg: list[int], c: dict[str, float]) -> np.ndarray:
    """MadGraph's definitions written out in numpy, independently of hepflow.physics."""
    pt = np.hypot(p[..., 1], p[..., 2])
    eta = np.arcsinh(p[..., 3] / pt)
    phi = np.arctan2(p[..., 2], p[..., 1])
    jets = [i for i, k in enumerate(pdg) if abs(k) in (1, 2, 3, 4, 5) or k == 21]
    leps = [i for i, k in enumerate(pdg) if abs(k) in (11, 13, 15)]
    ok = np.ones(p.shape[0], dtype=bool)

    def m2(i, j):
        q = p[:, i] + p[:, j]
        return q[:, 0] ** 2 - (q[:, 1:] ** 2).sum(-1)

    def dr(i, j):
        dphi = np.abs(phi[:, i] - phi[:, j])
        dphi = np.minimum(dphi, 2 * np.pi - dphi)
        return np.hypot(eta[:, i] - eta[:, j], dphi)

    for i in jets:
        ok &= (pt[:, i] >= c["ptj"]) & (np.abs(eta[:, i]) <= c["etaj"])
    for i in leps:
        ok &= (pt[:, i] >= c["ptl"]) & (np.abs(eta[:, i]) <= c["etal"])
    for i, j in combinations(jets, 2):
        ok &= (dr(i, j) >= c["drjj"]) & (m2(i, j) >= c["mmjj"] ** 2)
    for i, j in combinations(leps, 2):
        ok &= dr(i, j) >= c["drll"]
        if pdg[i] == -pdg[j]:
            ok &= (m2(i, j) >= c["mmll"] ** 2) & (m2(i, j) <= c["mmllmax"] ** 2)
    for i in jets:
        for j in leps:
            ok &= dr(i, j) >= c["drjl"]
    return ok


def test_all_cuts_together_match_an_independent_implementation():
    gen = torch.Generator().manual_seed(7)
    n, pdg = 20_000, [21, 2, -11, 11, 13]
    pt = 5 + 60 * torch.rand(n, 5, generator=gen, dtype=torch.float64)
    eta = 6 * torch.rand(n, 5, generator=gen, dtype=torch.float64) - 3
    phi = 2 * math.pi * torch.rand(n, 5, generator=gen, dtype=torch.float64) - math.pi
    p = torch.stack([pt * eta.cosh(), pt * phi.cos(), pt * phi.sin(), pt * eta.sinh()], -1)
    values = dict(
        ptj=20,
        ptl=10,
        etaj=2.5,
        etal=2.5,
        drjj=0.4,
        drll=0.4,
        drjl=0.4,
        mmjj=10,
        mmll=20,
        mmllmax=150,
    )
    mask = Cuts(**values).mask(p, pdg).numpy()
    ref = _reference_mask(p.numpy(), pdg, values)
    assert 0.001 < ref.mean() < 0.5  # the cuts bite, and some events survive
    assert np.array_equal(mask, ref)


def test_unknown_cut_lists_the_known_ones():
    with pytest.raises(CutError) as err:
        Cuts(ptj=20, ptjet=30)
    assert "ptjet" in str(err.value)
    for name in CUT_NAMES:
        assert name in str(err.value)
    assert isinstance(err.value, HepflowError)


@pytest.mark.parametrize(
    ("cut", "value"),
    [("ptj", -1.0), ("mmllmax", -2.0), ("etaj", -0.5), ("drjj", float("nan")), ("ptl", "10")],
)
def test_bad_cut_values_are_errors(cut, value):
    with pytest.raises(CutError, match=cut):
        Cuts(**{cut: value})


def test_mask_shape_error_names_the_fix():
    with pytest.raises(CutError, match="final-state momenta"):
        Cuts(ptj=1).mask(torch.zeros(3, 4, 4, dtype=torch.float64), [21, 21, 21])


def test_cut_efficiency_binomial_error():
    eff = CutEfficiency()
    assert math.isnan(eff.value) and math.isnan(eff.error)
    gen = torch.Generator().manual_seed(3)
    p_true, n = 0.3, 20_000
    for _ in range(4):
        eff.update(torch.rand(n // 4, generator=gen) < p_true)
    assert eff.total == n
    assert eff.error == pytest.approx(math.sqrt(eff.value * (1 - eff.value) / n))
    assert abs(eff.value - p_true) < 4 * math.sqrt(p_true * (1 - p_true) / n)
    assert f"{eff.passed}/{n}" in str(eff)
    eff.reset()
    assert eff.total == 0 and eff.passed == 0
