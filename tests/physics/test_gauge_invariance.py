"""Gauge invariance (Ward identities) of the QCD amplitudes and checks of the gauge
self-coupling vertices of ``helas``.

Replacing one external gluon's polarisation vector by its momentum must give zero for every
colour-ordered amplitude (JAMP), the other gluons physical: a test of the relative signs and
factors of the triple-gluon, four-gluon and quark-gluon vertices that single diagrams fail.
"""

from __future__ import annotations

from itertools import product

import pytest
import torch
from hepflow_sm.qcd import GGToGG, GGToUUbar, UGToUG, UUbarToGG
from hepflow_sm.qcd_amplitudes import gluon_jamps
from hepflow_sm.top_pairs import GGToTTbar

from hepflow.physics import helas
from hepflow.physics.sm_parameters import SM_PARAM_CARD

C128 = torch.complex128
TOLERANCE = 1e-12  # relative to the largest physical |JAMP| at the same point


def longitudinal(w: torch.Tensor) -> torch.Tensor:
    """The wave function w with its polarisation vector replaced by its momentum over its
    energy (dimensionless, like a polarisation vector, so the ratios below are fair)."""
    out = w.clone()
    k = helas.flow_momentum(w)
    out[:, 2:] = (k / k[:, :1]).to(C128)
    return out


def points(ig, n: int = 6, seed: int = 0) -> torch.Tensor:
    x = torch.rand(n, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return ig.momenta(x)[0]


def ward_ratios(ig, p: torch.Tensor, legs, key) -> list[float]:
    """For each gluon leg: max |JAMP(eps_leg -> k_leg / E_leg)| / max |JAMP| over helicities
    and JAMPs, per point, then the worst point. ``key(leg, hel)`` is the process's cache key
    of that gluon's wave function (filled in advance, so ``_jamps`` uses it)."""
    worst = [torch.zeros(p.shape[0], dtype=torch.float64) for _ in legs]
    scale = torch.zeros(p.shape[0], dtype=torch.float64)
    for hel in product((-1, 1), repeat=4):
        for jamp in ig._jamps(p, hel, {}):
            scale = torch.maximum(scale, jamp.abs())
        for n, leg in enumerate(legs):
            wave = helas.vxxxxx(p[:, leg], 0.0, hel[leg], -1 if leg < 2 else 1)
            cache = {key(leg, hel[leg]): longitudinal(wave)}
            for jamp in ig._jamps(p, hel, cache):
                worst[n] = torch.maximum(worst[n], jamp.abs())
    return [float((w / scale).max()) for w in worst]


def qcd_key(leg: int, hel: int):
    return ("w", leg, hel)


@pytest.mark.parametrize(
    ("cls", "gluons"),
    [(GGToGG, (0, 1, 2, 3)), (UUbarToGG, (2, 3)), (UGToUG, (1, 3)), (GGToUUbar, (0, 1))],
)
def test_ward_identity_of_every_jamp(cls, gluons):
    for sqrt_s in (91.188, 1000.0):
        ig = cls(sqrt_s=sqrt_s, ptj=0.05 * sqrt_s)
        p = points(ig, seed=int(sqrt_s))
        ratios = ward_ratios(ig, p, gluons, qcd_key)
        assert max(ratios) < TOLERANCE, (cls.name, ratios)


def test_ward_identity_of_gg_to_tt(tmp_path):
    """The existing g g -> t t~ (massive tops). Exact with WT = 0; MadGraph's fixed width in
    the t-channel top propagators breaks it at order MT WT / (q^2 - MT^2), a few 1e-3."""
    card = tmp_path / "param_card_wt0.dat"
    card.write_text(SM_PARAM_CARD.replace("DECAY 6 1.491500e+00", "DECAY 6 0.0"))
    for param_card, lo, hi in ((str(card), 0.0, TOLERANCE), (None, 1e-5, 1e-2)):
        ig = GGToTTbar(sqrt_s=500.0, param_card=param_card)
        p = points(ig, seed=7)
        ratios = ward_ratios(ig, p, (0, 1), lambda leg, h: (f"g{leg + 1}", h))
        assert all(lo <= r < hi for r in ratios), (param_card, ratios)


def test_single_diagrams_are_not_gauge_invariant():
    """The identity needs the sum: the s-channel diagram alone, or leaving out the four-gluon
    vertex, gives a longitudinal gluon a sizeable amplitude (the test above can fail)."""
    ig = GGToGG(sqrt_s=200.0, ptj=10.0)
    p = points(ig, seed=3)
    gs = ig.params.gs
    w = [helas.vxxxxx(p[:, i], 0.0, h, -1 if i < 2 else 1) for i, h in enumerate((1, 1, 1, 1))]
    k1 = longitudinal(w[0])
    s_only = helas.vvv_amplitude(helas.vvv_current(k1, w[1], gs), w[2], w[3], gs)
    contact = helas.vvvv_amplitude(k1, w[1], w[2], w[3], 1j * gs * gs, "VVVV1")
    scale = max(float(j.abs().max()) for j in gluon_jamps(*w, gs))
    assert float(s_only.abs().min()) > 1e-3 * scale
    assert float((s_only + contact).abs().min()) > 1e-3 * scale
    assert max(float(j.abs().max()) for j in gluon_jamps(k1, *w[1:], gs)) < TOLERANCE * scale


# -- the vertices -------------------------------------------------------------------------------
def random_wave(n: int, flow: torch.Tensor, seed: int) -> torch.Tensor:
    """A wave function with the given flow and a random complex vector part."""
    gen = torch.Generator().manual_seed(seed)
    vec = torch.complex(
        torch.randn(n, 4, generator=gen, dtype=torch.float64),
        torch.randn(n, 4, generator=gen, dtype=torch.float64),
    )
    return torch.cat([flow, vec], dim=-1)


def flow_of(k: torch.Tensor) -> torch.Tensor:
    """Flow entries of an incoming momentum k (outgoing sense: -k)."""
    return -torch.stack([torch.complex(k[:, 0], k[:, 3]), torch.complex(k[:, 1], k[:, 2])], -1)


@pytest.fixture
def three_legs():
    gen = torch.Generator().manual_seed(11)
    k1 = torch.randn(8, 4, generator=gen, dtype=torch.float64)
    k2 = torch.randn(8, 4, generator=gen, dtype=torch.float64)
    k3 = -(k1 + k2)
    return [random_wave(8, flow_of(k), seed) for k, seed in ((k1, 1), (k2, 2), (k3, 3))]


def test_vvv_amplitude_is_the_current_contracted(three_legs):
    """vvv_amplitude(v1, v2, v3) = e3 . J(v1, v2) with the propagator of vvv_current
    divided out: the two routines share the vertex."""
    v1, v2, v3 = three_legs
    g = 0.7
    current = helas.vvv_current(v1, v2, g)
    q = -helas.flow_momentum(v3)
    j = current[:, 2:] / helas.vector_propagator(q, 0.0, 0.0)[:, None]
    e3 = v3[:, 2:]
    contracted = j[:, 0] * e3[:, 0] - (j[:, 1:] * e3[:, 1:]).sum(-1)
    assert torch.allclose(helas.vvv_amplitude(v1, v2, v3, g), contracted, rtol=1e-13, atol=0)


def test_vvv_amplitude_symmetries(three_legs):
    """Cyclic in its legs, odd under swapping two (it multiplies f^{abc}); linear in g."""
    v1, v2, v3 = three_legs
    a = helas.vvv_amplitude(v1, v2, v3, 1.0)
    assert torch.allclose(helas.vvv_amplitude(v2, v3, v1, 1.0), a, rtol=1e-13)
    assert torch.allclose(helas.vvv_amplitude(v2, v1, v3, 1.0), -a, rtol=1e-13)
    assert torch.allclose(helas.vvv_amplitude(v1, v2, v3, 2j), 2j * a, rtol=1e-13)


def test_vvvv_structures(three_legs):
    """VVVV1 - VVVV3 + VVVV4 = 0 (only two are independent), VVVV1 odd under 3 <-> 4, and
    VVVV1 at explicit vectors equals e1.e4 e2.e3 - e1.e3 e2.e4."""
    v1, v2, v3 = three_legs
    v4 = random_wave(8, v1[:, :2], 9)
    s = {
        name: helas.vvvv_amplitude(v1, v2, v3, v4, 1.0, name)
        for name in ("VVVV1", "VVVV3", "VVVV4")
    }
    assert torch.allclose(
        s["VVVV1"] - s["VVVV3"] + s["VVVV4"], torch.zeros_like(s["VVVV1"]), atol=1e-12
    )
    swapped = helas.vvvv_amplitude(v1, v2, v4, v3, 1.0, "VVVV1")
    assert torch.allclose(swapped, -s["VVVV1"], rtol=1e-13)

    def dot(a, b):
        return a[:, 2] * b[:, 2] - (a[:, 3:] * b[:, 3:]).sum(-1)

    explicit = dot(v1, v4) * dot(v2, v3) - dot(v1, v3) * dot(v2, v4)
    assert torch.allclose(s["VVVV1"], explicit, rtol=1e-13)
    with pytest.raises(ValueError, match=r"VVVV2.*VVVV1, VVVV3, VVVV4"):
        helas.vvvv_amplitude(v1, v2, v3, v4, 1.0, "VVVV2")


@pytest.mark.parametrize("lorentz", ["VVVV1", "VVVV3", "VVVV4"])
@pytest.mark.parametrize("mass", [0.0, 80.4])
def test_vvvv_current_is_the_amplitude_uncontracted(three_legs, lorentz, mass):
    """e1 . (vvvv_current(v2, v3, v4) / propagator) = vvvv_amplitude(v1, v2, v3, v4), with
    momentum conservation (v1 takes the flow of the other three); for a massive vector the
    q q / M^2 term drops out against a transverse e1 (here: e1 = e1 - q (q.e1) / q^2)."""
    k4 = torch.randn(8, 4, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    v2, v3, v4 = three_legs[0], three_legs[1], random_wave(8, flow_of(k4), 5)
    flow = -(v2[:, :2] + v3[:, :2] + v4[:, :2])
    v1 = random_wave(8, flow, 6)
    q = helas.flow_momentum(v1).to(C128)

    def dot(a, b):
        return a[:, 0] * b[:, 0] - (a[:, 1:] * b[:, 1:]).sum(-1)

    e1 = v1[:, 2:] - q * (dot(q, v1[:, 2:]) / dot(q, q))[:, None]
    v1 = torch.cat([v1[:, :2], e1], dim=-1)
    g = 0.3 + 0.4j
    current = helas.vvvv_current(v2, v3, v4, g, lorentz, mass, 2.0)
    assert torch.allclose(current[:, :2], -flow)
    prop = helas.vector_propagator(helas.flow_momentum(current), mass, 2.0)
    contracted = dot(current[:, 2:] / prop[:, None], e1)
    expected = helas.vvvv_amplitude(v1, v2, v3, v4, g, lorentz)
    assert torch.allclose(contracted, expected, rtol=1e-11, atol=0)
    with pytest.raises(ValueError, match="vvvv_current: unknown"):
        helas.vvvv_current(v2, v3, v4, g, "VVVV9")
