"""HELAS/ALOHA-style helicity wave functions and vertices, batched in torch complex128.

Same conventions as MadGraph's ALOHA routines, so amplitudes built from them match MadGraph's
``matrix.f`` diagram by diagram: chiral (Weyl) representation, gamma^0 = [[0, 1], [1, 0]],
gamma^k = [[0, sigma^k], [-sigma^k, 0]], P_L = diag(1, 1, 0, 0); a wave function is an (N, 6)
tensor whose first two entries carry the momentum flow (E + i pz, px + i py, counted as
outgoing: minus the momentum for incoming lines) and whose last four are the spinor or the
contravariant vector. Vertex couplings are MadGraph's GC_ values (they include the i).

External lines: ixxxxx, oxxxxx (Dirac spinors, massless and massive), vxxxxx (polarisation
vectors). Vertices: ffv_amplitude (FFV, chiral couplings), and the off-shell currents with
their propagators: ffv_current (vector), fvi_current / fvo_current (fermion), vvv_current
(triple gauge vertex). Gauge self-couplings: vvv_amplitude (ALOHA's VVV1_0) and vvvv_amplitude
(VVVV1_0, VVVV3_0, VVVV4_0: the Lorentz structures of the four-gluon vertex, one per colour
structure f f) with its off-shell current vvvv_current (VVVV1P0_1, ...). Propagators have fixed widths, vectors are in unitary gauge.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "GAMMA",
    "METRIC",
    "P_L",
    "P_R",
    "ffv_amplitude",
    "ffv_bilinear",
    "ffv_current",
    "flow_momentum",
    "fvi_current",
    "fvo_current",
    "ixxxxx",
    "oxxxxx",
    "vector_propagator",
    "vvv_amplitude",
    "vvv_current",
    "vvvv_amplitude",
    "vvvv_current",
    "vxxxxx",
]

C128 = torch.complex128


def _gamma() -> torch.Tensor:
    one = torch.eye(2, dtype=C128)
    sig = [
        torch.tensor([[0, 1], [1, 0]], dtype=C128),
        torch.tensor([[0, -1j], [1j, 0]], dtype=C128),
        torch.tensor([[1, 0], [0, -1]], dtype=C128),
    ]
    zero = torch.zeros(2, 2, dtype=C128)
    mats = [torch.cat([torch.cat([zero, one], 1), torch.cat([one, zero], 1)], 0)]
    for s in sig:
        mats.append(torch.cat([torch.cat([zero, s], 1), torch.cat([-s, zero], 1)], 0))
    return torch.stack(mats)


#: gamma^mu in the chiral representation, shape (4, 4, 4).
GAMMA = _gamma()
#: Chiral projectors (1 -+ gamma5) / 2.
P_L = torch.diag(torch.tensor([1, 1, 0, 0], dtype=C128))
P_R = torch.diag(torch.tensor([0, 0, 1, 1], dtype=C128))
#: Minkowski metric diag(1, -1, -1, -1).
METRIC = torch.diag(torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=torch.float64))


def _flow(p: torch.Tensor, sign: float) -> torch.Tensor:
    return sign * torch.stack(
        [torch.complex(p[:, 0], p[:, 3]), torch.complex(p[:, 1], p[:, 2])], dim=-1
    )


def flow_momentum(w: torch.Tensor) -> torch.Tensor:
    """The (N, 4) real momentum stored in a wave function's flow entries (outgoing sense)."""
    return torch.stack([w[:, 0].real, w[:, 1].real, w[:, 1].imag, w[:, 0].imag], dim=-1)


def _check(p: torch.Tensor, nhel: int, nsf: int, what: str) -> None:
    if p.ndim != 2 or p.shape[1] != 4:
        raise ValueError(f"{what} takes momenta of shape (N, 4), got {tuple(p.shape)}")
    if nsf not in (-1, 1):
        raise ValueError(f"{what}: nsf must be +1 (particle) or -1 (antiparticle), got {nsf}")
    if nhel not in (-1, 0, 1):
        raise ValueError(f"{what}: helicity must be -1, 0 or +1, got {nhel}")


def _cplx(x: torch.Tensor | float, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(x, dtype=torch.float64, device=like.device).to(C128)


def _massive_chi(p: torch.Tensor, pp: torch.Tensor, nh: int, conj: bool):
    """chi(1), chi(2) of HELAS for a massive fermion (pp > 0)."""
    pp_safe = torch.where(pp > 0, pp, torch.ones_like(pp))
    pp3 = torch.clamp(pp + p[:, 3], min=0.0)
    chi1 = torch.sqrt(pp3 * 0.5 / pp_safe).to(C128)
    den = torch.sqrt(2 * pp_safe * torch.where(pp3 > 0, pp3, torch.ones_like(pp3)))
    im = -p[:, 2] if conj else p[:, 2]
    chi2 = torch.where(
        pp3 > 0, torch.complex(nh * p[:, 1] / den, im / den), _cplx(-nh, p).expand_as(chi1)
    )
    return chi1, chi2


def _spinor(p: torch.Tensor, fmass: float, nhel: int, nsf: int, outgoing: bool) -> torch.Tensor:
    """The four spinor components of ixxxxx (outgoing=False) or oxxxxx (outgoing=True)."""
    nh = nhel * nsf
    n = p.shape[0]
    zero = torch.zeros(n, dtype=C128, device=p.device)
    if fmass == 0.0:
        on_minus_z = (p[:, 1] == 0) & (p[:, 2] == 0) & (p[:, 3] < 0)
        sq = torch.sqrt(torch.clamp(p[:, 0] + p[:, 3], min=0.0)) * nsf
        sq = torch.where(on_minus_z, torch.zeros_like(sq), sq)
        chi1 = sq.to(C128)
        sq_safe = torch.where(sq != 0, sq, torch.ones_like(sq))
        im = -p[:, 2] if outgoing else p[:, 2]
        chi2 = torch.where(
            sq != 0,
            torch.complex(nh * p[:, 1] / sq_safe, im / sq_safe),
            (-nhel * torch.sqrt(2 * p[:, 0])).to(C128),
        )
        if outgoing:
            comps = [chi1, chi2, zero, zero] if nh == 1 else [zero, zero, chi2, chi1]
        else:
            comps = [zero, zero, chi1, chi2] if nh == 1 else [chi2, chi1, zero, zero]
        return torch.stack(comps, dim=-1)
    pp = torch.minimum(p[:, 0], torch.linalg.vector_norm(p[:, 1:], dim=-1))
    sf1 = (1 + nsf + (1 - nsf) * nh) * 0.5
    sf2 = (1 + nsf - (1 - nsf) * nh) * 0.5
    omega1 = torch.sqrt(p[:, 0] + pp)
    omega = (omega1, fmass / omega1)
    ip, im = (3 + nh) // 2 - 1, (3 - nh) // 2 - 1  # 0-based indices into omega and chi
    sfo1 = (sf1 * omega[ip]).to(C128)
    sfo2 = (sf2 * omega[im]).to(C128)
    chi = _massive_chi(p, pp, nh, conj=outgoing)
    if outgoing:
        moving = [sfo2 * chi[im], sfo2 * chi[ip], sfo1 * chi[im], sfo1 * chi[ip]]
    else:
        moving = [sfo1 * chi[im], sfo1 * chi[ip], sfo2 * chi[im], sfo2 * chi[ip]]
    # at rest (pp = 0): the HELAS special case
    sqm = (math.sqrt(abs(fmass)), math.copysign(math.sqrt(abs(fmass)), fmass))
    if outgoing:
        rip, rim = -((1 - nh) // 2) * nhel, ((1 + nh) // 2) * nhel
        rest = [rim * sqm[abs(rip)], rip * nsf * sqm[abs(rip)], rim * nsf * sqm[abs(rim)]]
        rest.append(rip * sqm[abs(rim)])
    else:
        rip, rim = (1 + nh) // 2, (1 - nh) // 2
        rest = [rip * sqm[rip], rim * nsf * sqm[rip], rip * nsf * sqm[rim], rim * sqm[rim]]
    at_rest = pp == 0
    comps = [torch.where(at_rest, _cplx(r, p), m) for r, m in zip(rest, moving, strict=True)]
    return torch.stack(comps, dim=-1)


def ixxxxx(p: torch.Tensor, fmass: float, nhel: int, nsf: int) -> torch.Tensor:
    """Flowing-in fermion line: u(p) of an incoming fermion (nsf=+1) or v(p) of an outgoing
    antifermion (nsf=-1), helicity nhel = +-1. Returns (N, 6) complex128."""
    _check(p, nhel, nsf, "ixxxxx")
    p = p.to(torch.float64)
    return torch.cat([_flow(p, -nsf), _spinor(p, fmass, nhel, nsf, outgoing=False)], dim=-1)


def oxxxxx(p: torch.Tensor, fmass: float, nhel: int, nsf: int) -> torch.Tensor:
    """Flowing-out fermion line: ubar(p) of an outgoing fermion (nsf=+1) or vbar(p) of an
    incoming antifermion (nsf=-1), helicity nhel = +-1. Returns (N, 6) complex128."""
    _check(p, nhel, nsf, "oxxxxx")
    p = p.to(torch.float64)
    return torch.cat([_flow(p, nsf), _spinor(p, fmass, nhel, nsf, outgoing=True)], dim=-1)


def vxxxxx(p: torch.Tensor, vmass: float, nhel: int, nsv: int) -> torch.Tensor:
    """Polarisation vector epsilon^mu of helicity nhel (+-1, and 0 when massive) for an
    outgoing (nsv=+1) or incoming (nsv=-1) vector boson. Returns (N, 6) complex128."""
    _check(p, nhel, nsv, "vxxxxx")
    if vmass == 0.0 and nhel == 0:
        raise ValueError("vxxxxx: a massless vector boson has no helicity 0")
    p = p.to(torch.float64)
    sqh = math.sqrt(0.5)
    hel = float(nhel)
    nsvahl = nsv * abs(hel)
    pt2 = p[:, 1] ** 2 + p[:, 2] ** 2
    pt_raw = torch.sqrt(pt2)
    ones = torch.ones_like(pt2)
    if vmass != 0.0:
        hel0 = 1.0 - abs(hel)
        pp = torch.minimum(p[:, 0], torch.sqrt(pt2 + p[:, 3] ** 2))
        pt = torch.minimum(pp, pt_raw)
    else:
        hel0 = 0.0
        pp = p[:, 0]
        pt = pt_raw
    pp_s = torch.where(pp > 0, pp, ones)
    pt_s = torch.where(pt > 0, pt, ones)
    emp = p[:, 0] / (vmass * pp_s) if vmass != 0.0 else torch.zeros_like(pp)
    pzpt = p[:, 3] / (pp_s * pt_s) * sqh * hel
    e0 = (hel0 * pp / vmass if vmass != 0.0 else torch.zeros_like(pp)).to(C128)
    e3 = (hel0 * p[:, 3] * emp + hel * pt / pp_s * sqh).to(C128)
    e1 = torch.complex(hel0 * p[:, 1] * emp - p[:, 1] * pzpt, -nsvahl * p[:, 2] / pt_s * sqh)
    e2 = torch.complex(hel0 * p[:, 2] * emp - p[:, 2] * pzpt, nsvahl * p[:, 1] / pt_s * sqh)
    # along the z axis (pt = 0)
    sign_z = torch.where(p[:, 3] < 0, -sqh * ones, sqh * ones)
    e1_z = torch.complex(torch.full_like(pp, -hel * sqh), torch.zeros_like(pp))
    e2_z = torch.complex(torch.zeros_like(pp), nsvahl * sign_z)
    on_axis = pt == 0
    e1 = torch.where(on_axis, e1_z, e1)
    e2 = torch.where(on_axis, e2_z, e2)
    if vmass != 0.0:  # at rest
        at_rest = pp == 0
        e0 = torch.where(at_rest, _cplx(0.0, p), e0)
        e1 = torch.where(at_rest, _cplx(-hel * sqh, p), e1)
        e2 = torch.where(at_rest, torch.complex(torch.zeros_like(pp), nsvahl * sqh * ones), e2)
        e3 = torch.where(at_rest, _cplx(hel0, p), e3)
    return torch.cat([_flow(p, nsv), torch.stack([e0, e1, e2, e3], dim=-1)], dim=-1)


def _vertex_matrices(gl: complex, gr: complex, device: torch.device) -> torch.Tensor:
    """gamma^mu (g_L P_L + g_R P_R), shape (4, 4, 4): the slow, explicit form (for tests)."""
    chiral = gl * P_L + gr * P_R
    return torch.matmul(GAMMA, chiral).to(device)


def _sandwich(a: torch.Tensor, b: torch.Tensor, bar: bool) -> list[torch.Tensor]:
    """a sigma^mu b (bar=False) or a sigmabar^mu b (bar=True) for two-spinors (N, 2)."""
    s = -1.0 if bar else 1.0
    a0, a1, b0, b1 = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
    return [
        a0 * b0 + a1 * b1,
        s * (a0 * b1 + a1 * b0),
        s * -1j * (a0 * b1 - a1 * b0),
        s * (a0 * b0 - a1 * b1),
    ]


def ffv_bilinear(fi: torch.Tensor, fo: torch.Tensor, gl: complex, gr: complex) -> torch.Tensor:
    """J^mu = fo gamma^mu (g_L P_L + g_R P_R) fi, (N, 4) complex128, in closed chiral form:
    g_L fo_R sigmabar^mu fi_L + g_R fo_L sigma^mu fi_R (a 4x4 product per point is 10x slower)."""
    left = _sandwich(fo[:, 4:6], fi[:, 2:4], bar=True) if gl != 0 else None
    right = _sandwich(fo[:, 2:4], fi[:, 4:6], bar=False) if gr != 0 else None
    comps = []
    for mu in range(4):
        term = 0
        if left is not None:
            term = term + gl * left[mu]
        if right is not None:
            term = term + gr * right[mu]
        comps.append(term if isinstance(term, torch.Tensor) else torch.zeros_like(fi[:, 2]))
    return torch.stack(comps, dim=-1)


def _minkowski(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a[:, 0] * b[:, 0] - a[:, 1] * b[:, 1] - a[:, 2] * b[:, 2] - a[:, 3] * b[:, 3]


def ffv_amplitude(
    fi: torch.Tensor, fo: torch.Tensor, v: torch.Tensor, gl: complex, gr: complex
) -> torch.Tensor:
    """Amplitude fo gamma^mu (g_L P_L + g_R P_R) fi V_mu of a fermion-fermion-vector vertex.

    With g_L = g_R = GC this is ALOHA's FFV1_0; unequal chiral couplings give the Z vertex
    (MadGraph's FFV2 + FFV3/4 sums). Returns (N,) complex128.
    """
    return _minkowski(ffv_bilinear(fi, fo, gl, gr), v[:, 2:])


def vector_propagator(q: torch.Tensor, mass: float, width: float) -> torch.Tensor:
    """The factor -i / (q^2 - M^2 + i M Gamma) of a fixed-width vector propagator, (N,)."""
    q2 = q[:, 0] ** 2 - (q[:, 1:] ** 2).sum(-1)
    den = torch.complex(q2 - mass * mass, torch.full_like(q2, mass * width))
    return -1j / den


def ffv_current(
    fi: torch.Tensor, fo: torch.Tensor, gl: complex, gr: complex, mass: float, width: float
) -> torch.Tensor:
    """Off-shell vector leaving an FFV vertex, propagator included (unitary gauge):

    V^mu = -i (g^mu nu - q^mu q^nu / M^2) J_nu / (q^2 - M^2 + i M Gamma),
    J^mu = fo gamma^mu (g_L P_L + g_R P_R) fi; the q q term is absent for M = 0 (photon,
    gluon; Feynman gauge). Like ALOHA's FFV1P0_3, the result's flow is fi's plus fo's.
    Returns (N, 6) complex128.
    """
    j = ffv_bilinear(fi, fo, gl, gr)
    flow = fi[:, :2] + fo[:, :2]
    q = -torch.stack([flow[:, 0].real, flow[:, 1].real, flow[:, 1].imag, flow[:, 0].imag], -1)
    if mass != 0.0:
        qc = q.to(C128)
        j = j - qc * (_minkowski(qc, j) / (mass * mass))[:, None]
    v = vector_propagator(q, mass, width)[:, None] * j
    return torch.cat([flow, v], dim=-1)


def _slash(v: torch.Tensor) -> torch.Tensor:
    """gamma^mu v_mu for contravariant (N, 4) complex v, as (N, 4, 4) matrices."""
    low = v * METRIC.diagonal().to(device=v.device, dtype=C128)
    return torch.einsum("nm,mab->nab", low, GAMMA.to(v.device))


def _fermion_propagator(q: torch.Tensor, mass: float, width: float) -> torch.Tensor:
    """i (qslash + m) / (q^2 - m^2 + i m Gamma), (N, 4, 4)."""
    q2 = q[:, 0] ** 2 - (q[:, 1:] ** 2).sum(-1)
    den = torch.complex(q2 - mass * mass, torch.full_like(q2, mass * width))
    eye = torch.eye(4, dtype=C128, device=q.device)
    return 1j * (_slash(q.to(C128)) + mass * eye) / den[:, None, None]


def _chiral(gl: complex, gr: complex, device: torch.device) -> torch.Tensor:
    return (gl * P_L + gr * P_R).to(device)


def fvi_current(
    fi: torch.Tensor, v: torch.Tensor, gl: complex, gr: complex, mass: float, width: float
) -> torch.Tensor:
    """Off-shell flowing-in fermion after absorbing the vector v at an FFV vertex:
    psi' = i (qslash + m) / (q^2 - m^2 + i m Gamma) vslash (g_L P_L + g_R P_R) psi, with q
    the momentum along the fermion arrow, -(flow of fi + flow of v) (ALOHA's FFV1_2). The
    general 4x4 form: clear rather than fast. Returns (N, 6) complex128."""
    flow = fi[:, :2] + v[:, :2]
    q = -torch.stack([flow[:, 0].real, flow[:, 1].real, flow[:, 1].imag, flow[:, 0].imag], -1)
    vertex = _slash(v[:, 2:]) @ _chiral(gl, gr, fi.device)
    spinor = torch.einsum("nab,nbc,nc->na", _fermion_propagator(q, mass, width), vertex, fi[:, 2:])
    return torch.cat([flow, spinor], dim=-1)


def fvo_current(
    fo: torch.Tensor, v: torch.Tensor, gl: complex, gr: complex, mass: float, width: float
) -> torch.Tensor:
    """Off-shell flowing-out fermion after absorbing the vector v at an FFV vertex:
    psibar' = psibar vslash (g_L P_L + g_R P_R) i (qslash + m) / (q^2 - m^2 + i m Gamma),
    q = flow of fo + flow of v along the arrow (ALOHA's FFV1_1). Returns (N, 6) complex128."""
    flow = fo[:, :2] + v[:, :2]
    q = torch.stack([flow[:, 0].real, flow[:, 1].real, flow[:, 1].imag, flow[:, 0].imag], -1)
    vertex = _slash(v[:, 2:]) @ _chiral(gl, gr, fo.device)
    spinor = torch.einsum("na,nab,nbc->nc", fo[:, 2:], vertex, _fermion_propagator(q, mass, width))
    return torch.cat([flow, spinor], dim=-1)


def vvv_current(
    v1: torch.Tensor, v2: torch.Tensor, g: complex, mass: float = 0.0, width: float = 0.0
) -> torch.Tensor:
    """Off-shell vector from a triple-gauge vertex with the two vectors v1, v2, propagator
    included: the colour-stripped vertex g [g^{mu nu} (k1 - k2)^rho + g^{nu rho} (k2 - k3)^mu
    + g^{rho mu} (k3 - k1)^nu] with all momenta incoming (k3 = -k1 - k2; the QCD vertex is
    this times f^{abc} with D = d - i g T^a A^a), then -i (g - q q / M^2) / (q^2 - M^2 + i M G).
    Returns (N, 6) complex128 with flow v1 + v2."""
    k1, k2 = -flow_momentum(v1).to(C128), -flow_momentum(v2).to(C128)
    k3 = -(k1 + k2)
    e1, e2 = v1[:, 2:], v2[:, 2:]
    j = g * (
        _minkowski(e1, e2)[:, None] * (k1 - k2)
        + e2 * _minkowski(k2 - k3, e1)[:, None]
        + e1 * _minkowski(k3 - k1, e2)[:, None]
    )
    q = -k3.real
    if mass != 0.0:
        qc = q.to(C128)
        j = j - qc * (_minkowski(qc, j) / (mass * mass))[:, None]
    v = vector_propagator(q, mass, width)[:, None] * j
    return torch.cat([v1[:, :2] + v2[:, :2], v], dim=-1)


def vvv_amplitude(v1: torch.Tensor, v2: torch.Tensor, v3: torch.Tensor, g: complex) -> torch.Tensor:
    """Amplitude of a triple-gauge vertex with three vectors (on- or off-shell): the
    colour-stripped g [(e1.e2) (k1 - k2).e3 + (e2.e3) (k2 - k3).e1 + (e3.e1) (k3 - k1).e2],
    momenta incoming (k_i = -flow of v_i), the same Lorentz structure as ``vvv_current`` and
    ALOHA's VVV1_0; for QCD it multiplies f^{a1 a2 a3}. Returns (N,) complex128."""
    k1, k2, k3 = (-flow_momentum(v).to(C128) for v in (v1, v2, v3))
    e1, e2, e3 = v1[:, 2:], v2[:, 2:], v3[:, 2:]
    return g * (
        _minkowski(e1, e2) * _minkowski(k1 - k2, e3)
        + _minkowski(e2, e3) * _minkowski(k2 - k3, e1)
        + _minkowski(e3, e1) * _minkowski(k3 - k1, e2)
    )


#: The four-vector Lorentz structures of the UFO sm model, as (sign, (i, j), (k, l)) terms of
#: products of metric contractions e_i.e_j e_k.e_l (legs numbered from 1).
_VVVV_STRUCTURES = {
    "VVVV1": ((1, (1, 4), (2, 3)), (-1, (1, 3), (2, 4))),
    "VVVV3": ((1, (1, 4), (2, 3)), (-1, (1, 2), (3, 4))),
    "VVVV4": ((1, (1, 3), (2, 4)), (-1, (1, 2), (3, 4))),
}


def vvvv_amplitude(
    v1: torch.Tensor,
    v2: torch.Tensor,
    v3: torch.Tensor,
    v4: torch.Tensor,
    g: complex,
    lorentz: str,
) -> torch.Tensor:
    """Amplitude of a four-vector contact vertex: g times one of the UFO sm structures
    VVVV1 = e1.e4 e2.e3 - e1.e3 e2.e4, VVVV3 = e1.e4 e2.e3 - e1.e2 e3.e4 or
    VVVV4 = e1.e3 e2.e4 - e1.e2 e3.e4 (ALOHA's VVVV1_0, VVVV3_0, VVVV4_0). The four-gluon
    vertex is g = i g_s^2 (GC_12) times VVVV1 f^{a1 a2 e} f^{a3 a4 e} + VVVV3 f^{a1 a3 e}
    f^{a2 a4 e} + VVVV4 f^{a1 a4 e} f^{a2 a3 e}. Returns (N,) complex128."""
    if lorentz not in _VVVV_STRUCTURES:
        raise ValueError(
            f"vvvv_amplitude: unknown Lorentz structure {lorentz!r}; "
            f"choose one of {', '.join(_VVVV_STRUCTURES)}"
        )
    e = {1: v1[:, 2:], 2: v2[:, 2:], 3: v3[:, 2:], 4: v4[:, 2:]}
    total = 0
    for sign, (i, j), (k, m) in _VVVV_STRUCTURES[lorentz]:
        total = total + sign * _minkowski(e[i], e[j]) * _minkowski(e[k], e[m])
    return g * total


def vvvv_current(
    v2: torch.Tensor,
    v3: torch.Tensor,
    v4: torch.Tensor,
    g: complex,
    lorentz: str,
    mass: float = 0.0,
    width: float = 0.0,
) -> torch.Tensor:
    """Off-shell vector 1 leaving a four-vector vertex with v2, v3, v4 (ALOHA's VVVV1P0_1,
    VVVV3P0_1, VVVV4P0_1): g times the structure of ``vvvv_amplitude`` with e1 taken off,
    then -i (g - q q / M^2) / (q^2 - M^2 + i M G). Contracted with e1 and the propagator
    divided out it is ``vvvv_amplitude``. Returns (N, 6) complex128 with flow v2 + v3 + v4."""
    if lorentz not in _VVVV_STRUCTURES:
        raise ValueError(
            f"vvvv_current: unknown Lorentz structure {lorentz!r}; "
            f"choose one of {', '.join(_VVVV_STRUCTURES)}"
        )
    e = {2: v2[:, 2:], 3: v3[:, 2:], 4: v4[:, 2:]}
    j = 0
    for sign, (_, i), (k, m) in _VVVV_STRUCTURES[lorentz]:  # leg 1 is always in the first pair
        j = j + sign * e[i] * _minkowski(e[k], e[m])[:, None]
    j = g * j
    flow = v2[:, :2] + v3[:, :2] + v4[:, :2]
    q = flow_momentum(torch.cat([flow, j], dim=-1))
    if mass != 0.0:
        qc = q.to(C128)
        j = j - qc * (_minkowski(qc, j) / (mass * mass))[:, None]
    v = vector_propagator(q, mass, width)[:, None] * j
    return torch.cat([flow, v], dim=-1)
