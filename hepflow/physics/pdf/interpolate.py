"""LHAPDF's ``logcubic`` interpolation of ``lhagrid1`` grids and its extrapolators, batched.

Interpolation (LHAPDF ``LogBicubicInterpolator``): cubic Hermite in log x on the bracketing
knots with finite-difference derivatives (central = mean of the two one-sided slopes, one-sided
at the grid ends), evaluated on the 4 Q^2 knots around the point, then cubic Hermite in log Q^2
with the same derivative rules, never across a subgrid boundary (a point on a boundary belongs
to the upper subgrid). A 2-knot subgrid is linear in log Q^2.

Extrapolation (the ``Extrapolator`` key; LHAPDF's default ``continuation``):
``continuation`` (LHAPDF ``ContinuationExtrapolator``, the MSTW rule: log-linear in log x below
x_min, log-linear in log Q^2 above Q^2_max, anomalous-dimension damping below Q^2_min),
``nearest`` (freeze at the grid edge) or ``error``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .errors import PDFError, PDFRangeError

__all__ = ["EXTRAPOLATORS", "LogBicubicGrid"]

EXTRAPOLATORS = ("continuation", "nearest", "error")


def _hermite_basis(t: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The four cubic Hermite basis functions at t (value-left, slope-left, value-right,
    slope-right)."""
    t2 = t * t
    t3 = t2 * t
    return 2 * t3 - 3 * t2 + 1, t3 - 2 * t2 + t, -2 * t3 + 3 * t2, t3 - t2


def _ddlogx(xf: Tensor, logxs: Tensor) -> Tensor:
    """d(x·f)/d(log x) at every knot, LHAPDF's rule; xf is (nx, nq, nf)."""
    slope = (xf[1:] - xf[:-1]) / (logxs[1:] - logxs[:-1]).view(-1, 1, 1)
    d = torch.empty_like(xf)
    d[0], d[-1] = slope[0], slope[-1]
    d[1:-1] = 0.5 * (slope[1:] + slope[:-1])
    return d


def _extrapolate_linear(x: Tensor, xl: Tensor, xh: Tensor, yl: Tensor, yh: Tensor) -> Tensor:
    """LHAPDF's 1D extrapolation in log x: of log y when both y > 1e-3, else of y."""
    w = ((x.log() - xl.log()) / (xh.log() - xl.log())).unsqueeze(-1)
    pos = (yl > 1e-3) & (yh > 1e-3)
    lyl, lyh = yl.clamp_min(1e-300).log(), yh.clamp_min(1e-300).log()
    return torch.where(pos, torch.exp(lyl + w * (lyh - lyl)), yl + w * (yh - yl))


class LogBicubicGrid:
    """x·f on Q subgrids that share one x grid; ``subgrids`` is a list of (xs, q2s, xf (nx, nq, nf))
    float64 tensors in increasing Q."""

    def __init__(
        self, subgrids: list[tuple[Tensor, Tensor, Tensor]], extrapolator: str = "continuation"
    ) -> None:
        if extrapolator not in EXTRAPOLATORS:
            raise PDFError(
                f"Extrapolator {extrapolator!r} is not supported; use one of {EXTRAPOLATORS}"
            )
        xs = subgrids[0][0]
        for i, (sx, sq, _) in enumerate(subgrids):
            if sx.shape != xs.shape or not torch.equal(sx, xs):
                raise PDFError(f"subgrid {i}: x knots differ from subgrid 0's; not supported")
            if i and float(sq[0]) != float(subgrids[i - 1][1][-1]):
                raise PDFError(
                    f"subgrid {i}: its first Q knot must equal the previous subgrid's last"
                )
        self.extrapolator = extrapolator
        self.xs, self.logxs = xs, xs.log()
        self.nx = xs.numel()
        self.q2s = torch.cat([s[1] for s in subgrids])
        self.logq2s = self.q2s.log()
        self.nq = self.q2s.numel()
        sizes = [s[1].numel() for s in subgrids]
        self.sizes = torch.tensor(sizes, device=xs.device)
        self.offsets = torch.cumsum(torch.tensor([0, *sizes[:-1]], device=xs.device), 0)
        xf = torch.cat([s[2] for s in subgrids], dim=1)  # (nx, NQ, nf)
        self.nf = xf.shape[-1]
        d = _ddlogx(xf, self.logxs)
        # row-major (nx·NQ, nf) tables: a row gather copies contiguous memory
        self.ftab = xf.reshape(self.nx * self.nq, self.nf).contiguous()
        self.dtab = d.reshape(self.nx * self.nq, self.nf).contiguous()
        uq = torch.unique(self.q2s)
        self.x_min, self.x_min1, self.x_max = xs[0], xs[1], xs[-1]
        self.q2_min, self.q2_max, self.q2_max1 = uq[0], uq[-1], uq[-2]

    def to(self, device: torch.device | str) -> LogBicubicGrid:
        new = object.__new__(LogBicubicGrid)
        for k, v in vars(self).items():
            setattr(new, k, v.to(device) if isinstance(v, Tensor) else v)
        return new

    # -- interpolation inside the grid ---------------------------------------------------------
    def interpolate(self, x: Tensor, q2: Tensor, cols: Tensor | None = None) -> Tensor:
        """x·f for points inside the grid (x and q2 are clamped to it), shape (n, ncols).

        LHAPDF's two-stage Hermite is linear in the knot values and slopes, so the per-point
        weights of the 4 Q rows x 2 x knots (values and d/dln x) are formed first and the result
        is 16 weighted gathers."""
        ftab, dtab = self.ftab, self.dtab
        if cols is not None:
            ftab = ftab.index_select(1, cols).contiguous()
            dtab = dtab.index_select(1, cols).contiguous()
        x = x.clamp(self.x_min, self.x_max)
        q2 = q2.clamp(self.q2_min, self.q2_max)
        ix = (torch.searchsorted(self.xs, x, right=True) - 1).clamp(0, self.nx - 2)
        dlx = self.logxs[ix + 1] - self.logxs[ix]
        tx = (x.log() - self.logxs[ix]) / dlx

        g = (torch.searchsorted(self.q2s, q2, right=True) - 1).clamp(0, self.nq - 1)
        s = torch.searchsorted(self.offsets, g, right=True) - 1
        off, size = self.offsets[s], self.sizes[s]
        loc = torch.minimum(g - off, size - 2)
        g = off + loc
        has_lo = loc > 0
        has_hi = loc + 2 <= size - 1
        g_lo = torch.where(has_lo, g - 1, g)
        g_hi = torch.where(has_hi, g + 2, g + 1)
        dq1 = self.logq2s[g + 1] - self.logq2s[g]
        dq0 = torch.where(has_lo, self.logq2s[g] - self.logq2s[g_lo], 1.0)
        dq2 = torch.where(has_hi, self.logq2s[g_hi] - self.logq2s[g + 1], 1.0)
        tq = (q2.log() - self.logq2s[g]) / dq1

        # Q stage: result = sum_k c_k v_k over rows (g_lo, g, g+1, g_hi), with LHAPDF's slopes
        # vdl = al (vh-vl)/dq1 + bl (vl-vll)/dq0, vdh = ah (vh-vl)/dq1 + bh (vhh-vh)/dq2
        h00, h10, h01, h11 = _hermite_basis(tq)
        a_ = h10 * dq1
        b_ = h11 * dq1
        half = torch.full_like(tq, 0.5)
        al, bl = torch.where(has_lo, half, 1.0), torch.where(has_lo, half, 0.0)
        ah, bh = torch.where(has_hi, half, 1.0), torch.where(has_hi, half, 0.0)
        c_l = h00 - a_ * al / dq1 + a_ * bl / dq0 - b_ * ah / dq1
        c_h = h01 + a_ * al / dq1 + b_ * ah / dq1 - b_ * bh / dq2
        c_ll = -a_ * bl / dq0
        c_hh = b_ * bh / dq2
        # x stage: v_k = X00 f[ix,k] + X10 dlx d[ix,k] + X01 f[ix+1,k] + X11 dlx d[ix+1,k]
        x00, x10, x01, x11 = _hermite_basis(tx)
        x10, x11 = x10 * dlx, x11 * dlx

        out = torch.zeros(x.shape[0], ftab.shape[1], dtype=ftab.dtype, device=ftab.device)
        base = ix * self.nq
        for c, gq in ((c_ll, g_lo), (c_l, g), (c_h, g + 1), (c_hh, g_hi)):
            lo, hi = base + gq, base + self.nq + gq
            out.addcmul_(ftab.index_select(0, lo), (c * x00).unsqueeze(-1))
            out.addcmul_(dtab.index_select(0, lo), (c * x10).unsqueeze(-1))
            out.addcmul_(ftab.index_select(0, hi), (c * x01).unsqueeze(-1))
            out.addcmul_(dtab.index_select(0, hi), (c * x11).unsqueeze(-1))
        return out

    # -- everything, with the extrapolation rules ----------------------------------------------
    def __call__(self, x: Tensor, q2: Tensor, cols: Tensor | None = None) -> Tensor:
        low_x, high_x = x < self.x_min, x > self.x_max
        low_q, high_q = q2 < self.q2_min, q2 > self.q2_max
        outside = low_x | high_x | low_q | high_q
        if not bool(outside.any()):
            return self.interpolate(x, q2, cols)
        if self.extrapolator == "nearest":
            return self.interpolate(x, q2, cols)  # interpolate() clamps to the edges
        if self.extrapolator == "error" or bool(high_x.any()):
            i = int(torch.nonzero(outside)[0])
            raise PDFRangeError(
                f"x={float(x[i]):.6g}, Q^2={float(q2[i]):.6g} GeV^2 is outside the grid "
                f"(x in [{float(self.x_min):.3g}, {float(self.x_max):.3g}], Q^2 in "
                f"[{float(self.q2_min):.4g}, {float(self.q2_max):.4g}]) and the "
                f"{self.extrapolator!r} extrapolator cannot evaluate it"
                + ("; x must be <= the last x knot" if bool(high_x.any()) else "")
            )
        out = self.interpolate(x, q2, cols)
        idx = torch.nonzero(outside).squeeze(-1)
        out[idx] = self._continuation(x[idx], q2[idx], cols)
        return out

    def _continuation(self, x: Tensor, q2: Tensor, cols: Tensor | None) -> Tensor:
        low_x = (x < self.x_min).unsqueeze(-1)
        low_q, high_q = q2 < self.q2_min, q2 > self.q2_max
        xa = torch.where(low_x.squeeze(-1), self.x_min, x)
        xb = torch.full_like(x, float(self.x_min1))
        qa = torch.where(high_q, self.q2_max, torch.where(low_q, self.q2_min, q2))
        qb = torch.where(high_q, self.q2_max1, 1.01 * self.q2_min)
        f_aa, f_ab = self.interpolate(xa, qa, cols), self.interpolate(xa, qb, cols)
        f_ba, f_bb = self.interpolate(xb, qa, cols), self.interpolate(xb, qb, cols)
        x_lo, x_lo1 = torch.full_like(x, float(self.x_min)), xb

        def in_x(fa: Tensor, fb: Tensor) -> Tensor:  # extrapolate in x where x < x_min
            return torch.where(low_x, _extrapolate_linear(x, x_lo, x_lo1, fa, fb), fa)

        # large Q^2 (also with small x): in Q^2 at x_min and x_min1 first, then in x
        qmax, qmax1 = (
            torch.full_like(q2, float(self.q2_max)),
            torch.full_like(q2, float(self.q2_max1)),
        )
        ha = _extrapolate_linear(q2, qmax, qmax1, f_aa, f_ab)
        hb = _extrapolate_linear(q2, qmax, qmax1, f_ba, f_bb)
        high = in_x(ha, hb)
        # small Q^2: in x first (at q2_min and 1.01 q2_min), then the anomalous dimension
        fmin, fmin1 = in_x(f_aa, f_ba), in_x(f_ab, f_bb)
        anom = torch.where(
            fmin.abs() >= 1e-5,
            ((fmin1 - fmin) / torch.where(fmin == 0, 1.0, fmin) / 0.01).clamp_min(-2.5),
            torch.ones_like(fmin),
        )
        r = (q2 / self.q2_min).unsqueeze(-1)
        low = fmin * r ** (anom * r + 1.0 - r)
        mid = in_x(f_aa, f_ba)  # Q^2 inside, x below x_min
        return torch.where(high_q.unsqueeze(-1), high, torch.where(low_q.unsqueeze(-1), low, mid))
