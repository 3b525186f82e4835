"""HELAS wave functions and vertices: Dirac equation, spin and polarisation sums, Ward
identities, and the fast chiral vertex against explicit gamma matrices."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from hepflow.physics import helas
from hepflow.physics.vectors import dot

C128 = torch.complex128


def momenta(mass: float, seed: int, n: int = 200) -> torch.Tensor:
    """Random momenta plus the awkward ones: along +-z, and at rest when massive."""
    gen = torch.Generator().manual_seed(seed)
    p3 = 40 * torch.randn(n, 3, generator=gen, dtype=torch.float64)
    special = [[0.0, 0.0, 30.0], [0.0, 0.0, -30.0], [3.0, -4.0, 0.0]]
    if mass > 0:
        special.append([0.0, 0.0, 0.0])
    p3 = torch.cat([p3, torch.tensor(special, dtype=torch.float64)])
    e = torch.sqrt((p3**2).sum(-1) + mass**2)
    return torch.cat([e[:, None], p3], dim=-1)


def pslash(p: torch.Tensor) -> torch.Tensor:
    """p_mu gamma^mu, (N, 4, 4)."""
    low = p * torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=torch.float64)
    return torch.einsum("nm,mab->nab", low.to(C128), helas.GAMMA)


MASSES = [0.0, 4.7, 173.0]


@pytest.mark.parametrize("mass", MASSES)
@pytest.mark.parametrize("nhel", [-1, 1])
def test_dirac_equation(mass, nhel):
    p = momenta(mass, seed=1)
    ps = pslash(p)
    eye = torch.eye(4, dtype=C128)
    scale = p[:, 0, None] * torch.sqrt(p[:, 0, None] + mass)
    u = helas.ixxxxx(p, mass, nhel, 1)[:, 2:]
    v = helas.ixxxxx(p, mass, nhel, -1)[:, 2:]
    ubar = helas.oxxxxx(p, mass, nhel, 1)[:, 2:]
    vbar = helas.oxxxxx(p, mass, nhel, -1)[:, 2:]
    checks = [
        torch.einsum("nab,nb->na", ps - mass * eye, u),
        torch.einsum("nab,nb->na", ps + mass * eye, v),
        torch.einsum("na,nab->nb", ubar, ps - mass * eye),
        torch.einsum("na,nab->nb", vbar, ps + mass * eye),
    ]
    for c in checks:
        assert (c.abs() / scale).max() < 1e-13


@pytest.mark.parametrize("mass", MASSES)
def test_spin_sums_and_bar_spinors(mass):
    p = momenta(mass, seed=2)
    ps = pslash(p)
    eye = torch.eye(4, dtype=C128)
    g0 = helas.GAMMA[0]
    for nsf, sign in ((1, 1.0), (-1, -1.0)):
        total = torch.zeros(len(p), 4, 4, dtype=C128)
        for h in (-1, 1):
            w = helas.ixxxxx(p, mass, h, nsf)[:, 2:]
            bar = helas.oxxxxx(p, mass, h, nsf)[:, 2:]
            # oxxxxx is the Dirac conjugate of ixxxxx: ubar = u^dagger gamma^0
            assert torch.allclose(bar, w.conj() @ g0, rtol=1e-13, atol=1e-12)
            total = total + torch.einsum("na,nb->nab", w, w.conj() @ g0)
        expected = ps + sign * mass * eye  # sum u ubar = pslash + m, sum v vbar = pslash - m
        assert ((total - expected).abs().amax((1, 2)) / p[:, 0]).max() < 1e-12


@pytest.mark.parametrize("vmass", [0.0, 91.188])
def test_polarisation_vectors(vmass):
    p = momenta(vmass, seed=3)
    helicities = (-1, 0, 1) if vmass else (-1, 1)
    metric = torch.diag(torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=torch.float64)).to(C128)
    for nsv in (1, -1):
        total = torch.zeros(len(p), 4, 4, dtype=C128)
        for h in helicities:
            w = helas.vxxxxx(p, vmass, h, nsv)
            assert torch.allclose(helas.flow_momentum(w), nsv * p)
            eps = w[:, 2:]
            # transverse to the momentum, normalised to eps . eps* = -1
            assert (dot(eps, p.to(C128)).abs() / p[:, 0]).max() < 1e-13
            assert torch.allclose(
                dot(eps, eps.conj()), torch.full((len(p),), -1.0 + 0j, dtype=C128)
            )
            total = total + torch.einsum("na,nb->nab", eps, eps.conj())
        if vmass:
            pc = p.to(C128)
            expected = -metric + torch.einsum("na,nb->nab", pc, pc) / vmass**2
            scale = (p[:, 0] / vmass) ** 2
            assert ((total - expected).abs().amax((1, 2)) / scale).max() < 1e-12
        else:  # spatial part: delta_ij - k_i k_j / |k|^2; no time component
            k = p[:, 1:] / p[:, 0, None]
            expected = torch.eye(3, dtype=torch.float64) - torch.einsum("ni,nj->nij", k, k)
            assert torch.allclose(total[:, 1:, 1:], expected.to(C128), atol=1e-13)
            assert total[:, 0].abs().max() < 1e-13


def test_bad_arguments_are_named():
    p = momenta(0.0, seed=4, n=2)
    with pytest.raises(ValueError, match="nsf must be"):
        helas.ixxxxx(p, 0.0, 1, 2)
    with pytest.raises(ValueError, match="helicity must be"):
        helas.oxxxxx(p, 0.0, 3, 1)
    with pytest.raises(ValueError, match="no helicity 0"):
        helas.vxxxxx(p, 0.0, 0, 1)
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        helas.ixxxxx(p[:, :3], 0.0, 1, 1)


def test_chiral_vertex_matches_explicit_gamma_matrices():
    pa, pb = momenta(4.7, seed=5), momenta(4.7, seed=6)
    gl, gr = 0.3 - 0.1j, -0.7 + 0.2j
    for ha, hb in itertools.product((-1, 1), repeat=2):
        fi = helas.ixxxxx(pa, 4.7, ha, 1)
        fo = helas.oxxxxx(pb, 4.7, hb, 1)
        explicit = torch.einsum(
            "na,mab,nb->nm", fo[:, 2:], helas._vertex_matrices(gl, gr, "cpu"), fi[:, 2:]
        )
        fast = helas.ffv_bilinear(fi, fo, gl, gr)
        assert torch.allclose(fast, explicit, rtol=1e-13, atol=1e-11)
        v = helas.vxxxxx(momenta(91.188, seed=7), 91.188, 0, 1)
        low = v[:, 2:] * torch.tensor([1, -1, -1, -1], dtype=C128)
        assert torch.allclose(
            helas.ffv_amplitude(fi, fo, v, gl, gr), (explicit * low).sum(-1), rtol=1e-12, atol=1e-10
        )


@pytest.mark.parametrize("mass", [0.0, 173.0])
def test_ward_identity_polarisation_replaced_by_momentum(mass):
    """Gauge invariance at the vector vertex: ubar(p') qslash u(p) = 0 for q = p' - p."""
    p_in, p_out = momenta(mass, seed=8), momenta(mass, seed=9).flip(0)
    q = p_out - p_in
    gc = -0.3j  # a vector (photon, gluon) coupling
    for h1, h2 in itertools.product((-1, 1), repeat=2):
        fi = helas.ixxxxx(p_in, mass, h1, 1)
        fo = helas.oxxxxx(p_out, mass, h2, 1)
        with_q = torch.cat([fi[:, :2] + fo[:, :2], q.to(C128)], dim=-1)
        amp = helas.ffv_amplitude(fi, fo, with_q, gc, gc)
        # natural size of each term: |gc| sqrt(E E') |q|
        scale = 0.3 * torch.sqrt(p_in[:, 0] * p_out[:, 0]) * q.abs().amax(-1)
        assert (amp.abs() / scale).max() < 1e-13


def test_s_channel_exchange_is_the_same_from_either_vertex():
    """<out| V |in> through a massive propagator in unitary gauge, evaluated as
    amplitude(out, current(in)) or amplitude(in, current(out)), with massive fermions so that
    the q^mu q^nu / M^2 term matters."""
    m = 173.0
    e = 600.0
    pz = math.sqrt(e**2 - m**2)
    n = 50
    p1 = torch.tensor([[e, 0, 0, pz]] * n, dtype=torch.float64)
    p2 = torch.tensor([[e, 0, 0, -pz]] * n, dtype=torch.float64)
    gen = torch.Generator().manual_seed(10)
    cos = 2 * torch.rand(n, generator=gen, dtype=torch.float64) - 1
    sin = torch.sqrt(1 - cos**2)
    p3 = torch.stack([torch.full_like(cos, e), pz * sin, torch.zeros_like(cos), pz * cos], -1)
    p4 = p1 + p2 - p3
    gl, gr = 0.2j, -0.5j
    mz, wz = 91.188, 2.441404
    for hs in itertools.product((-1, 1), repeat=4):
        fi_in = helas.ixxxxx(p1, m, hs[0], 1)  # incoming fermion
        fo_in = helas.oxxxxx(p2, m, hs[1], -1)  # incoming antifermion
        fi_out = helas.ixxxxx(p3, m, hs[2], -1)  # outgoing antifermion
        fo_out = helas.oxxxxx(p4, m, hs[3], 1)  # outgoing fermion
        a = helas.ffv_amplitude(
            fi_out, fo_out, helas.ffv_current(fi_in, fo_in, gl, gr, mz, wz), gl, gr
        )
        b = helas.ffv_amplitude(
            fi_in, fo_in, helas.ffv_current(fi_out, fo_out, gl, gr, mz, wz), gl, gr
        )
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-14 * float(a.abs().max()))
    current = helas.ffv_current(fi_in, fo_in, gl, gr, mz, wz)
    assert torch.allclose(helas.flow_momentum(current), -(p1 + p2))


def _gg_tt_jamps(p, gauge_leg=None, wt=0.0):
    """The two colour-ordered g g -> t t~ amplitudes (as in the sm plugin), optionally with
    gluon ``gauge_leg``'s polarisation replaced by its momentum."""
    gs, mt = 1.2177157847767195, 173.0
    g = 1j * gs
    out = []
    for hel in itertools.product((-1, 1), repeat=4):
        e = [helas.vxxxxx(p[:, i], 0.0, hel[i], -1) for i in (0, 1)]
        if gauge_leg is not None:
            e[gauge_leg] = torch.cat([e[gauge_leg][:, :2], p[:, gauge_leg].to(C128)], dim=-1)
        u3 = helas.oxxxxx(p[:, 2], mt, hel[2], 1)
        v4 = helas.ixxxxx(p[:, 3], mt, hel[3], -1)
        a_s = helas.ffv_amplitude(v4, u3, helas.vvv_current(e[0], e[1], gs), g, g)
        a_t = helas.ffv_amplitude(helas.fvi_current(v4, e[1], g, g, mt, wt), u3, e[0], g, g)
        a_u = helas.ffv_amplitude(helas.fvi_current(v4, e[0], g, g, mt, wt), u3, e[1], g, g)
        # the same t-channel diagram, attached from the other end of the fermion line
        a_t2 = helas.ffv_amplitude(v4, helas.fvo_current(u3, e[0], g, g, mt, wt), e[1], g, g)
        assert torch.allclose(a_t, a_t2, rtol=1e-12, atol=1e-12 * float(a_t.abs().max()))
        out.append((a_t - 1j * a_s, a_u + 1j * a_s))
    return out


def _gg_tt_momenta(n: int = 20) -> torch.Tensor:
    gen = torch.Generator().manual_seed(12)
    e, mt = 400.0, 173.0
    pt = math.sqrt(e**2 - mt**2)
    cos = 2 * torch.rand(n, generator=gen, dtype=torch.float64) - 1
    phi = 2 * math.pi * torch.rand(n, generator=gen, dtype=torch.float64)
    sin = torch.sqrt(1 - cos**2)
    t = torch.stack(
        [torch.full_like(cos, e), pt * sin * torch.cos(phi), pt * sin * torch.sin(phi), pt * cos],
        -1,
    )
    g1 = torch.tensor([e, 0.0, 0.0, e], dtype=torch.float64).expand(n, 4)
    g2 = torch.tensor([e, 0.0, 0.0, -e], dtype=torch.float64).expand(n, 4)
    tbar = g1 + g2 - t
    return torch.stack([g1, g2, t, tbar], dim=1)


@pytest.mark.parametrize("leg", [0, 1])
def test_gauge_invariance_gg_tt(leg):
    """Replacing a gluon's polarisation vector by its momentum makes each colour-ordered
    amplitude vanish (the triple-gluon vertex sign and the propagators are consistent). With
    zero top width: a fixed width in the t-channel breaks the identity at O(m G / (t - m^2)),
    which MadGraph's standalone output accepts (its README)."""
    p = _gg_tt_momenta()
    _gg_tt_jamps(p, wt=1.4915)  # fvi/fvo consistency with the width too
    size = max(float(j.abs().max()) for pair in _gg_tt_jamps(p) for j in pair)
    worst = max(float(j.abs().max()) for pair in _gg_tt_jamps(p, gauge_leg=leg) for j in pair)
    assert worst / size < 1e-12, worst / size
