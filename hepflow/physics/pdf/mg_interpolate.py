"""MadGraph's interpolation of NNPDF ``.LHgrid`` grids (``NNPDFDriver.f``, ``NNevolvePDF``),
batched in torch.

Why a second interpolator: MadGraph's built-in ``nn23lo1`` is evaluated this way inside
madevent, so matching its cross sections means matching this, not LHAPDF's log-bicubic:

* x and Q^2 outside the grid are frozen to the grid edges;
* a 4-point polynomial in x on knots ``ix-1 .. ix+2`` (shifted inwards at the edges), in log x
  for x < 0.1 and in x above;
* then a 2-point (linear) polynomial in log Q^2 between the bracketing knots.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from .errors import PDFError
from .interpolate import INNER_CHUNK, ColumnTables, KnotLocator, weighted_row_sum

__all__ = ["MGPolyInterpolator"]

_XCH = 0.1  # MadGraph's switch from log-x to linear-x interpolation


def _lagrange_inverse_denominators(knots: np.ndarray) -> np.ndarray:
    """1 / prod_{j != i} (k_i - k_j) for each row of 4 knots, formed in long double."""
    k = knots.astype(np.longdouble)
    den = np.ones_like(k)
    for i in range(4):
        for j in range(4):
            if j != i:
                den[:, i] *= k[:, i] - k[:, j]
    return (1 / den).astype(np.float64)


class MGPolyInterpolator:
    """x·f on one grid: ``xs`` (nx,), ``q2s`` (nq,), ``xf`` (nx, nq, ncol), float64.

    The result is linear in the grid values: per point, 8 weights (4 Lagrange weights in x times
    2 linear weights in log Q^2) on 8 rows of the (nx·nq, ncol) table, summed by one sparse
    (CSR) x dense product per cache-sized chunk. Per x cell (first knot x0, log or linear x),
    the 4 knots and the Lagrange denominators are tabulated at load time.
    """

    def __init__(self, xs: Tensor, q2s: Tensor, xf: Tensor) -> None:
        self.xs, self.q2s, self.xf = xs, q2s, xf
        self.nx, self.nq = xs.numel(), q2s.numel()
        if self.nx < 4 or self.nq < 2 or xf.shape[:2] != (self.nx, self.nq):
            raise PDFError(
                f"MadGraph interpolation needs >= 4 x knots, >= 2 Q^2 knots and xf of shape "
                f"(nx, nq, ncol); got {self.nx}, {self.nq} and {tuple(xf.shape)}"
            )
        dev = xs.device
        self.logxs, self.logq2s = xs.log(), q2s.log()
        self.x_lo, self.x_hi = float(xs[0]), float(xs[-1])
        self.q2_lo, self.q2_hi = float(q2s[0]), float(q2s[-1])
        # the count of these knots <= the point is the first of the 4 x knots,
        # clamp(ix-1, 0, nx-4), and the lower Q^2 knot, clamp(iq, 0, nq-2) (ix, iq: the
        # largest knot <= the point)
        self._xloc = KnotLocator(xs[2 : self.nx - 2], self.x_lo, self.x_hi)
        self._qloc = KnotLocator(q2s[1 : self.nq - 1], self.q2_lo, self.q2_hi)
        # per x cell c = x0 (+ ncell where log x is used): its 4 knots and 1/denominators
        self.ncell = self.nx - 3
        idx = np.arange(self.ncell)[:, None] + np.arange(4)
        knots = np.concatenate([xs.cpu().numpy()[idx], self.logxs.cpu().numpy()[idx]])
        cells = np.concatenate([knots, _lagrange_inverse_denominators(knots)], axis=1)
        self._cells = torch.as_tensor(cells, device=dev)  # (2·ncell, 8)
        lq = self.logq2s
        self._qcells = torch.stack([lq[:-1], lq[1:] - lq[:-1]], 1).contiguous()  # (nq-1, 2)
        nq = self.nq
        offs = [i * nq + k for i in range(4) for k in range(2)]  # row order: x knot, then Q^2
        self._offs = torch.tensor(offs, dtype=torch.int32, device=dev)
        self.tables = ColumnTables(xf.reshape(self.nx * self.nq, xf.shape[-1]))

    def to(self, device: torch.device | str) -> MGPolyInterpolator:
        return MGPolyInterpolator(self.xs.to(device), self.q2s.to(device), self.xf.to(device))

    def weights(self, x: Tensor, q2: Tensor) -> tuple[Tensor, Tensor]:
        """Table rows (n, 8) int32 and their weights (n, 8) for the points (x, q2)."""
        x = x.clamp(self.x_lo, self.x_hi)
        q2 = q2.clamp(self.q2_lo, self.q2_hi)
        lx, lq = x.log(), q2.log()
        x0, q0 = self._xloc(x, lx), self._qloc(q2, lq)
        use_log = x < _XCH
        xv = torch.where(use_log, lx, x)
        cell = self._cells.index_select(0, torch.where(use_log, x0 + self.ncell, x0))
        n = x.shape[0]
        d0, d1, d2, d3 = (xv - cell[:, j] for j in range(4))  # xv - knot_j
        p01, p23 = d0 * d1, d2 * d3
        lag = torch.empty(4, n, dtype=x.dtype, device=x.device)  # (4, n): fast vector ops
        torch.mul(d1, p23, out=lag[0])
        torch.mul(d0, p23, out=lag[1])
        torch.mul(p01, d3, out=lag[2])
        torch.mul(p01, d2, out=lag[3])
        lag.mul_(cell[:, 4:].t())  # the 4 Lagrange weights in x
        qc = self._qcells.index_select(0, q0)
        wq = torch.empty(2, n, dtype=x.dtype, device=x.device)
        torch.div(lq - qc[:, 0], qc[:, 1], out=wq[1])
        torch.neg(wq[1], out=wq[0]).add_(1.0)  # linear weights in log Q^2
        # one broadcast product into the (n, 4 x knots, 2 Q^2 knots) layout of the rows
        w = torch.empty(n, 4, 2, dtype=x.dtype, device=x.device)
        torch.mul(lag.t().unsqueeze(-1), wq.t().unsqueeze(1), out=w)
        w = w.view(-1, 8)
        rows = (x0 * self.nq + q0).unsqueeze(-1) + self._offs
        return rows, w

    def __call__(self, x: Tensor, q2: Tensor, cols: Tensor | None = None) -> Tensor:
        """x·f at (x, q2) for the grid columns ``cols`` (all if None): shape (n, ncols)."""
        table = self.tables.get(cols)
        out = torch.empty(x.shape[0], table.shape[1], dtype=table.dtype, device=table.device)
        for i in range(0, x.shape[0], INNER_CHUNK):
            rows, w = self.weights(x[i : i + INNER_CHUNK], q2[i : i + INNER_CHUNK])
            weighted_row_sum(table, rows, w, out[i : i + INNER_CHUNK])
        return out
