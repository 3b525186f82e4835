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

import math
import warnings

import numpy as np
import torch
from torch import Tensor

from .errors import PDFError, PDFRangeError

__all__ = [
    "EXTRAPOLATORS",
    "INNER_CHUNK",
    "ColumnTables",
    "KnotLocator",
    "LogBicubicGrid",
    "weighted_row_sum",
]

EXTRAPOLATORS = ("continuation", "nearest", "error")


#: points per inner pass: bounds the per-point temporaries (~20 arrays of this many float64, a
#: few MB, near the caches); measured on CPU, 2^14 .. 2^16 are equally fast, smaller passes pay
#: more per-call overhead and larger ones more memory traffic
INNER_CHUNK = 1 << 15


class ColumnTables:
    """A (rows, ncol) float64 table and its column selections, each made contiguous once."""

    def __init__(self, table: Tensor) -> None:
        self.full = table.contiguous()
        self._cache: dict[tuple[int, ...], Tensor] = {}

    def get(self, cols: Tensor | None) -> Tensor:
        if cols is None:
            return self.full
        key = tuple(int(c) for c in cols.tolist())
        if key == tuple(range(self.full.shape[1])):
            return self.full
        if key not in self._cache:
            if len(self._cache) > 32:
                self._cache.clear()
            self._cache[key] = self.full.index_select(1, cols.to(self.full.device)).contiguous()
        return self._cache[key]


def weighted_row_sum(table: Tensor, rows: Tensor, w: Tensor, out: Tensor) -> None:
    """``out[p] = sum_k w[p, k] * table[rows[p, k]]`` with ``rows`` (n, k) int32.

    On CPU this is one CSR sparse x dense product (MKL: one pass over the gathered rows, no
    (n, k, ncol) temporary); elsewhere a gather and a sum. Each output row depends only on its
    own point, so the result does not depend on how a batch is cut."""
    n, k = rows.shape
    if n == 0:
        return
    if table.device.type != "cpu":
        torch.sum(table[rows.long()] * w.unsqueeze(-1), dim=1, out=out)
        return
    crow = torch.arange(0, n * k + 1, k, dtype=torch.int32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta state"
        a = torch.sparse_csr_tensor(
            crow, rows.reshape(-1), w.reshape(-1), size=(n, table.shape[0]), check_invariants=False
        )
    out.addmm_(a, table, beta=0.0)  # beta = 0: out is not read (no temporary, no copy)


class KnotLocator:
    """``torch.searchsorted(knots, v, right=True)`` (int32) for v in [lo, hi], from log v.

    A binary search costs ~80 ns a point on CPU; this costs a few vector passes: log v is
    binned on a uniform grid fine enough that each bin (widened by a rounding margin) holds at
    most one knot, a table gives the count of knots below the bin, and one comparison with the
    next knot finishes it. The result is exact (the comparison is on v itself); if no grid of
    at most 2^16 bins separates the knots, it falls back to ``searchsorted``.
    """

    _MAX_BINS = 1 << 16

    def __init__(self, knots: Tensor, lo: float, hi: float) -> None:
        self.knots = knots.contiguous()
        k = knots.cpu().numpy()
        a, b = math.log(lo), math.log(hi)
        self.lut: Tensor | None = None
        nb = 64
        while nb <= self._MAX_BINS and b > a:
            h = (b - a) / nb
            margin = 1e-9 * max(1.0, abs(a), abs(b))
            edges = a + h * np.arange(nb + 1)
            below = np.searchsorted(k, np.exp(edges[:-1] - margin), side="left")
            upto = np.searchsorted(k, np.exp(edges[1:] + margin), side="right")
            if np.all(upto - below <= 1):
                dev = knots.device
                self.lut = torch.as_tensor(below, dtype=torch.int32, device=dev)
                padded = np.concatenate([k, [np.inf]])
                self.next_knot = torch.as_tensor(padded, device=dev)
                self.a, self.inv_h, self.nb = a, 1.0 / h, nb
                break
            nb *= 2

    def to(self, device: torch.device | str) -> KnotLocator:
        new = object.__new__(KnotLocator)
        for key, v in vars(self).items():
            setattr(new, key, v.to(device) if isinstance(v, Tensor) else v)
        return new

    def __call__(self, v: Tensor, logv: Tensor) -> Tensor:
        if self.lut is None:
            return torch.searchsorted(self.knots, v, right=True, out_int32=True)
        b = (logv - self.a).mul_(self.inv_h).clamp_(0, self.nb - 1).to(torch.int32)
        base = self.lut.index_select(0, b)
        return base + (v >= self.next_knot.index_select(0, base))


def _ddlogx(xf: Tensor, logxs: Tensor) -> Tensor:
    """d(x·f)/d(log x) at every knot, LHAPDF's rule; xf is (nx, nq, nf)."""
    slope = (xf[1:] - xf[:-1]) / (logxs[1:] - logxs[:-1]).view(-1, 1, 1)
    d = torch.empty_like(xf)
    d[0], d[-1] = slope[0], slope[-1]
    d[1:-1] = 0.5 * (slope[1:] + slope[:-1])
    return d


def _hermite(t: Tensor) -> Tensor:
    """The four cubic Hermite basis functions at t, (4, n) (one contiguous row each, the fast
    layout for these vector ops): value-left (2t^3 - 3t^2 + 1), slope-left (t^3 - 2t^2 + t),
    value-right (3t^2 - 2t^3), slope-right (t^3 - t^2)."""
    h = torch.empty(4, t.shape[0], dtype=t.dtype, device=t.device)
    t2 = t * t
    t3 = t2 * t
    torch.sub(t3, t2, out=h[3])
    torch.sub(h[3], t2, out=h[1]).add_(t)
    torch.mul(t2, 3.0, out=h[2]).sub_(t3, alpha=2.0)
    torch.neg(h[2], out=h[0]).add_(1.0)
    return h


def _extrapolate_linear(x: Tensor, xl: Tensor, xh: Tensor, yl: Tensor, yh: Tensor) -> Tensor:
    """LHAPDF's 1D extrapolation in log x: of log y when both y > 1e-3, else of y."""
    w = ((x.log() - xl.log()) / (xh.log() - xl.log())).unsqueeze(-1)
    pos = (yl > 1e-3) & (yh > 1e-3)
    lyl, lyh = yl.clamp_min(1e-300).log(), yh.clamp_min(1e-300).log()
    return torch.where(pos, torch.exp(lyl + w * (lyh - lyl)), yl + w * (yh - yl))


def _q_cells(q2s: np.ndarray, sizes: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per Q^2 cell (lower knot g, global index): [log Q^2_g, dq1, m0 .. m5], the numbers that
    turn the Hermite basis (h00, h10, h01, h11) in tq into the weights of the Q rows
    g-1, g, g+1, g+2: (m0 h10, h00 + m1 h10 + m2 h11, h01 + m3 h10 + m4 h11, m5 h11); the
    first padded row (g - 1) of each cell in the padded table; and the lookup from
    ``searchsorted(q2s, q2, right=True)`` to the cell (a point on a subgrid boundary belongs to
    the upper subgrid, a cell never crosses one).

    LHAPDF's Q stage: v(tq) = h00 vl + h10 dq1 vdl + h01 vh + h11 dq1 vdh with
    vdl = al (vh-vl)/dq1 + bl (vl-vll)/dq0 and vdh = ah (vh-vl)/dq1 + bh (vhh-vh)/dq2
    (al = bl = 1/2 with a lower neighbour in the subgrid, else al = 1, bl = 0; same for h)."""
    lq = np.log(q2s)
    nq = lq.size
    sub = np.repeat(np.arange(len(sizes)), sizes)
    off = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    size = np.asarray(sizes)[sub]
    g = np.arange(nq)
    loc = np.minimum(g - off[sub], size - 2)
    lower = off[sub] + loc  # the cell of a point whose largest knot <= Q^2 is g
    lut = lower[np.clip(np.arange(nq + 1) - 1, 0, nq - 1)]
    data = np.zeros((nq, 8))
    base = np.zeros(nq, dtype=np.int64)
    for c in np.unique(lower):
        s, lc = sub[c], c - off[sub[c]]
        has_lo, has_hi = lc > 0, lc + 2 <= size[c] - 1
        dq1 = lq[c + 1] - lq[c]
        k1 = 0.5 * dq1 / (lq[c] - lq[c - 1]) if has_lo else 0.0  # bl dq1 / dq0
        k3 = 0.5 * dq1 / (lq[c + 2] - lq[c + 1]) if has_hi else 0.0  # bh dq1 / dq2
        al, ah = (0.5 if has_lo else 1.0), (0.5 if has_hi else 1.0)
        data[c] = [lq[c], dq1, -k1, k1 - al, -ah, al, ah - k3, k3]
        base[c] = c + 2 * s  # padded index of knot c is c + 2s + 1; one zero row below it
    return data, base, lut


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
        dev = xs.device
        self.extrapolator = extrapolator
        self.xs, self.logxs = xs, xs.log()
        self.nx = xs.numel()
        self.q2s = torch.cat([s[1] for s in subgrids])
        self.logq2s = self.q2s.log()
        self.nq = self.q2s.numel()
        sizes = [s[1].numel() for s in subgrids]
        xf = torch.cat([s[2] for s in subgrids], dim=1)  # (nx, NQ, nf)
        self.nf = xf.shape[-1]
        d = _ddlogx(xf, self.logxs)
        dlx = self.logxs[1:] - self.logxs[:-1]
        # table (x cell ix, padded Q row, [x·f(ix), dlx d(ix), x·f(ix+1), dlx d(ix+1)], nf), d
        # the slope in ln x: a point reads 16 consecutive rows (Q rows g-1 .. g+2 of its x
        # cell); a zero Q row below and above each subgrid stands in for a missing neighbour
        # (whose weight is 0)
        self.nqp = self.nq + 2 * len(sizes)
        pos = torch.arange(self.nq, device=dev) + 1
        pos += 2 * torch.repeat_interleave(
            torch.arange(len(sizes), device=dev), torch.tensor(sizes, device=dev)
        )
        tab = torch.zeros(self.nx - 1, self.nqp, 4, self.nf, dtype=xf.dtype, device=dev)
        tab[:, pos, 0], tab[:, pos, 2] = xf[:-1], xf[1:]
        tab[:, pos, 1] = d[:-1] * dlx.view(-1, 1, 1)
        tab[:, pos, 3] = d[1:] * dlx.view(-1, 1, 1)
        self.tables = ColumnTables(tab.reshape(-1, self.nf))
        self._xcells = torch.stack([self.logxs[:-1], dlx], 1).contiguous()  # (nx-1, 2)
        q2np = self.q2s.cpu().numpy()
        qdata, qbase, qlut = _q_cells(q2np, sizes)
        self._qcells = torch.as_tensor(qdata, device=dev)
        self._qbase = torch.as_tensor(qbase, dtype=torch.int32, device=dev)
        # the Q^2 cell from the count of distinct knots <= Q^2 (equal knots end/start subgrids)
        uq_np = np.unique(q2np)
        full = np.searchsorted(q2np, uq_np, side="right")
        self._qlut = torch.as_tensor(
            qlut[np.concatenate([[0], full])], dtype=torch.int32, device=dev
        )
        x_lo, x_hi = float(xs[0]), float(xs[-1])
        self._xloc = KnotLocator(xs[1 : self.nx - 1], x_lo, x_hi)
        self._qloc = KnotLocator(torch.as_tensor(uq_np, device=dev), uq_np[0], uq_np[-1])
        self._offs = torch.arange(16, dtype=torch.int32, device=dev)
        uq = torch.unique(self.q2s)
        self.x_min, self.x_min1, self.x_max = xs[0], xs[1], xs[-1]
        self.q2_min, self.q2_max, self.q2_max1 = uq[0], uq[-1], uq[-2]
        self._clamp = (x_lo, x_hi, float(uq[0]), float(uq[-1]))

    def to(self, device: torch.device | str) -> LogBicubicGrid:
        new = object.__new__(LogBicubicGrid)
        for k, v in vars(self).items():
            setattr(new, k, v.to(device) if isinstance(v, Tensor) else v)
        new.tables = ColumnTables(self.tables.full.to(device))
        new._xloc, new._qloc = self._xloc.to(device), self._qloc.to(device)
        return new

    # -- interpolation inside the grid ---------------------------------------------------------
    def weights(self, x: Tensor, q2: Tensor) -> tuple[Tensor, Tensor]:
        """Rows (n, 16) int32 of the table and their weights, for points clamped to the grid.

        LHAPDF's two-stage Hermite is linear in the knot values and slopes: the Q stage gives
        weights c (n, 4) on the Q rows g-1 .. g+2, the x stage the Hermite basis in tx on
        (x·f, dlx d) at the two x knots; row r, entry b has weight c_r h_b."""
        x_lo, x_hi, q2_lo, q2_hi = self._clamp
        x = x.clamp(x_lo, x_hi)
        q2 = q2.clamp(q2_lo, q2_hi)
        lx, lq = x.log(), q2.log()
        ix = self._xloc(x, lx)
        xc = self._xcells.index_select(0, ix)
        hx = _hermite((lx - xc[:, 0]) / xc[:, 1])
        cell = self._qlut.index_select(0, self._qloc(q2, lq))
        m = self._qcells.index_select(0, cell).t()  # (8, n)
        h = _hermite((lq - m[0]) / m[1])
        c = torch.empty_like(h)  # (4 Q rows, n)
        torch.mul(m[2], h[1], out=c[0])
        torch.addcmul(h[0], m[3], h[1], out=c[1]).addcmul_(m[4], h[3])
        torch.addcmul(h[2], m[5], h[1], out=c[2]).addcmul_(m[6], h[3])
        torch.mul(m[7], h[3], out=c[3])
        # one broadcast product into the (n, 4, 4) layout the sparse product reads
        w = torch.empty(x.shape[0], 4, 4, dtype=x.dtype, device=x.device)
        torch.mul(c.t().unsqueeze(-1), hx.t().unsqueeze(1), out=w)
        w = w.view(-1, 16)
        base = (ix * self.nqp + self._qbase.index_select(0, cell)) * 4
        return base.unsqueeze(-1) + self._offs, w

    def interpolate(self, x: Tensor, q2: Tensor, cols: Tensor | None = None) -> Tensor:
        """x·f for points inside the grid (x and q2 are clamped to it), shape (n, ncols)."""
        table = self.tables.get(cols)
        out = torch.empty(x.shape[0], table.shape[1], dtype=table.dtype, device=table.device)
        for i in range(0, x.shape[0], INNER_CHUNK):
            rows, w = self.weights(x[i : i + INNER_CHUNK], q2[i : i + INNER_CHUNK])
            weighted_row_sum(table, rows, w, out[i : i + INNER_CHUNK])
        return out

    # -- everything, with the extrapolation rules ----------------------------------------------
    def __call__(self, x: Tensor, q2: Tensor, cols: Tensor | None = None) -> Tensor:
        if x.numel() == 0 or self.extrapolator == "nearest":
            return self.interpolate(x, q2, cols)  # interpolate() clamps to the edges
        (x_lo, x_hi), (q_lo, q_hi) = torch.aminmax(x), torch.aminmax(q2)
        x_min, x_max, q2_min, q2_max = self._clamp
        if (
            float(x_lo) >= x_min
            and float(x_hi) <= x_max
            and float(q_lo) >= q2_min
            and float(q_hi) <= q2_max
        ):
            return self.interpolate(x, q2, cols)  # all inside: no masks needed
        low_x, high_x = x < self.x_min, x > self.x_max
        low_q, high_q = q2 < self.q2_min, q2 > self.q2_max
        outside = low_x | high_x | low_q | high_q
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
