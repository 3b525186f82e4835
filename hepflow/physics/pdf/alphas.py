"""alpha_s(Q^2) for PDF sets, batched in torch, float64.

* ``MGRunningAlphaS``: MadGraph's ``ALPHAS`` (``alfas_functions.f``, R.K. Ellis): 1- or 2-loop
  running from alpha_s(MZ) with MZ = 91.188 GeV and flavour thresholds at 1.42 (c) and 4.7 (b)
  GeV, solved by Newton's method with MadGraph's stopping rule (relative step <= 5e-4), so the
  values agree with madevent's to rounding rather than to the solver tolerance.
* ``IpolAlphaS``: LHAPDF's ``AlphaS_Ipol`` for sets that tabulate ``AlphaS_Qs``/``AlphaS_Vals``:
  cubic Hermite in log Q^2 per subgrid (subgrids split at repeated Q), finite-difference
  derivatives, power-law continuation below the table and a frozen value above it.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .errors import PDFError

__all__ = ["IpolAlphaS", "MGRunningAlphaS"]


def _mg_coefficients(nf: int) -> tuple[float, float]:
    """b0 and c1 of MadGraph's NEWTON1 for nf flavours (its DATA statements, recomputed)."""
    b0 = (11.0 - 2.0 * nf / 3.0) / 4.0 / math.pi
    c1 = (102.0 - 38.0 / 3.0 * nf) / 4.0 / math.pi / (11.0 - 2.0 / 3.0 * nf)
    return b0, c1


# MadGraph's DATA values, used verbatim so that rounding matches (checked against the formula
# above in the tests).
_MG_B0 = {3: 0.716197243913527, 4: 0.66314559621623, 5: 0.61009394851893}
_MG_C1 = {3: 0.565884242104515, 4: 0.49019722472304, 5: 0.40134724779695}
_MG_TOL = 5e-4
_MG_MAX_ITER = 100


def _newton1(t: Tensor, a_in: Tensor, nloop: int, nf: int) -> Tensor:
    """MadGraph's NEWTON1: alpha_s after a log-distance t = ln(Q^2/Q0^2) from a_in."""
    b0, c1 = _MG_B0[nf], _MG_C1[nf]
    lead = 1.0 + a_in * b0 * t
    if nloop == 1:
        return a_in / lead
    if bool((lead <= 0).any()):
        # MadGraph returns 9e98 there (below the Landau pole); refuse instead of inventing a value
        raise PDFError(
            "alpha_s: Q is below the Landau pole of the 2-loop running; use a scale above ~0.3 GeV"
        )
    a_out = a_in / (1.0 + b0 * a_in * t + c1 * a_in * torch.log(lead))

    def f2(a: Tensor) -> Tensor:
        return 1.0 / a + c1 * torch.log((c1 * a) / (1.0 + c1 * a))

    active = torch.ones_like(a_out, dtype=torch.bool)
    for _ in range(_MG_MAX_ITER):
        a = a_out
        f = b0 * t + f2(a_in) - f2(a)
        fp = 1.0 / (a * a * (1.0 + c1 * a))
        step = f / fp
        a_out = torch.where(active, a - step, a_out)
        active = active & ((step / a).abs() > _MG_TOL)
        if not bool(active.any()):
            return a_out
    raise PDFError("alpha_s: MadGraph's Newton iteration did not converge")


class MGRunningAlphaS:
    """MadGraph's ``ALPHAS(Q)`` for given alpha_s(MZ) and number of loops (1 or 2)."""

    MZ = 91.188
    CMASS = 1.42
    BMASS = 4.7

    def __init__(self, alphas_mz: float, nloop: int = 2) -> None:
        if nloop not in (1, 2):
            raise PDFError(f"alpha_s: nloop={nloop} is not supported; use 1 or 2")
        if not alphas_mz > 0:
            raise PDFError(f"alpha_s: alpha_s(MZ)={alphas_mz} must be positive")
        self.alphas_mz, self.nloop = float(alphas_mz), nloop
        one = torch.ones(1, dtype=torch.float64)
        amz = one * self.alphas_mz
        self.amb = float(_newton1(one * 2 * math.log(self.BMASS / self.MZ), amz, nloop, 5))
        self.amc = float(
            _newton1(one * 2 * math.log(self.CMASS / self.BMASS), one * self.amb, nloop, 4)
        )

    def to(self, device: torch.device | str) -> MGRunningAlphaS:
        return self  # holds only Python floats

    def __call__(self, q2: Tensor) -> Tensor:
        q = q2.sqrt()
        out = torch.empty_like(q)
        for lo, hi, ref_q, ref_a, nf in (
            (0.0, self.CMASS, self.CMASS, self.amc, 3),
            (self.CMASS, self.BMASS, self.BMASS, self.amb, 4),
            (self.BMASS, math.inf, self.MZ, self.alphas_mz, 5),
        ):
            sel = (q >= lo) & (q < hi)
            if bool(sel.any()):
                qs = q[sel]
                out[sel] = _newton1(
                    2.0 * torch.log(qs / ref_q), torch.full_like(qs, ref_a), self.nloop, nf
                )
        return out


def _hermite(t: Tensor, vl: Tensor, dl: Tensor, vh: Tensor, dh: Tensor) -> Tensor:
    """Cubic Hermite on [0, 1] with end values and end slopes (already scaled by the width)."""
    t2, t3 = t * t, t * t * t
    return (
        (2 * t3 - 3 * t2 + 1) * vl
        + (t3 - 2 * t2 + t) * dl
        + (-2 * t3 + 3 * t2) * vh
        + (t3 - t2) * dh
    )


class IpolAlphaS:
    """LHAPDF's interpolated alpha_s from the ``.info`` table (``AlphaS_Qs`` in GeV)."""

    def __init__(self, qs: Tensor, alphas: Tensor, source: str = "<info>") -> None:
        if qs.numel() < 2 or qs.numel() != alphas.numel():
            raise PDFError(
                f"{source}: AlphaS_Qs and AlphaS_Vals must be lists of the same length >= 2"
            )
        q2 = qs.to(torch.float64) ** 2
        if bool((q2[1:] < q2[:-1]).any()) or bool((q2 <= 0).any()):
            raise PDFError(f"{source}: AlphaS_Qs must be positive and non-decreasing")
        self.q2s, self.vals = q2, alphas.to(torch.float64)
        self.logq2 = q2.log()
        n = q2.numel()
        # subgrid of each knot: a new one starts at a repeated Q (a flavour threshold)
        starts = torch.ones(n, dtype=torch.bool, device=q2.device)
        starts[1:] = q2[1:] != q2[:-1]
        self.seg = torch.cumsum((~starts).long(), 0)  # increments at each repeated knot
        # d alpha / d log Q^2 at each knot within its subgrid (forward/backward at the ends)
        d = torch.empty_like(self.vals)
        lv, lq, seg = self.vals, self.logq2, self.seg
        fwd = torch.zeros_like(d)
        fwd[:-1] = (lv[1:] - lv[:-1]) / (lq[1:] - lq[:-1]).clamp_min(1e-300)
        bwd = torch.zeros_like(d)
        bwd[1:] = fwd[:-1]
        has_prev = torch.zeros(n, dtype=torch.bool, device=q2.device)
        has_prev[1:] = seg[1:] == seg[:-1]
        has_next = torch.zeros(n, dtype=torch.bool, device=q2.device)
        has_next[:-1] = seg[1:] == seg[:-1]
        d = torch.where(has_prev & has_next, 0.5 * (fwd + bwd), torch.where(has_next, fwd, bwd))
        self.deriv = d
        nxt = 1
        while nxt < n - 1 and q2[nxt] == q2[0]:
            nxt += 1
        self.low_power = float(math.log(float(lv[nxt] / lv[0])) / math.log(float(q2[nxt] / q2[0])))

    def to(self, device: torch.device | str) -> IpolAlphaS:
        new = object.__new__(IpolAlphaS)
        for k, v in vars(self).items():
            setattr(new, k, v.to(device) if isinstance(v, Tensor) else v)
        return new

    def __call__(self, q2: Tensor) -> Tensor:
        n = self.q2s.numel()
        qc = q2.clamp(self.q2s[0], self.q2s[-1])
        i = (torch.searchsorted(self.q2s, qc, right=True) - 1).clamp(0, n - 2)
        # at a repeated knot i and i+1 coincide: step back into the lower subgrid only at the top
        same = self.q2s[i + 1] == self.q2s[i]
        i = torch.where(same, i - 1, i).clamp(0, n - 2)
        dl = self.logq2[i + 1] - self.logq2[i]
        t = (qc.log() - self.logq2[i]) / dl
        inside = _hermite(
            t, self.vals[i], self.deriv[i] * dl, self.vals[i + 1], self.deriv[i + 1] * dl
        )
        below = self.vals[0] * (q2 / self.q2s[0]) ** self.low_power
        return torch.where(
            q2 < self.q2s[0], below, torch.where(q2 > self.q2s[-1], self.vals[-1], inside)
        )
