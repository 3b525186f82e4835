"""The VEGAS adaptive map y -> x of the unit hypercube, one piecewise-linear map per axis.

Each axis has ``ninc[d]`` increments of equal size 1/ninc[d] in y; increment i maps onto
[grid[d, i], grid[d, i+1]] in x, so the Jacobian dx/dy is piecewise constant and small where
increments are small. Training data (the mean of (J f)^2 per increment) moves the grid nodes so
that every increment holds an equal share of the damped, smoothed projection (Lepage 1978, as
``vegas.AdaptiveMap.adapt``).

Per-point work (mapping, training sums) is torch on the map's device. The adaptation itself
works on dim x ninc numbers: it runs in numpy on the host, where each of its few dozen steps
costs a microsecond rather than a torch dispatch, and only the new grid goes to the device.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import torch

__all__ = ["AdaptiveMap"]

# As vegas: a floor that keeps empty increments alive without touching real data.
TINY = 10.0 ** (sys.float_info.min_10_exp + 50)


class AdaptiveMap:
    """A per-axis piecewise-linear map of [0, 1]^dim onto itself, in float64.

    ``grid`` and ``inc`` are (dim, M + 1) tables, M = max(ninc), so that a flat index
    ``d * (M + 1) + i`` addresses both (``map_t`` returns it, ``accumulate`` consumes it).
    Column ninc[d] of ``inc`` repeats the last increment (a point at y = 1 exactly maps to x = 1
    with the last increment's Jacobian, as in vegas); columns beyond hold 0 in ``inc`` and 1 in
    ``grid``, padding for axes with fewer increments.
    """

    def __init__(self, dim: int, ninc: int | list[int], device: torch.device | str = "cpu"):
        self.dim = int(dim)
        self.device = torch.device(device)
        self.ninc: list[int] = []
        ninc_list = [int(ninc)] * self.dim if isinstance(ninc, int) else [int(n) for n in ninc]
        self._set_grid(_uniform_grid(ninc_list), ninc_list)

    # -- state --------------------------------------------------------------------------------
    def _set_grid(self, grid: np.ndarray, ninc: list[int]) -> None:
        """Install a padded (dim, M + 1) grid and derive the lookup tables."""
        grid = np.ascontiguousarray(grid, dtype=np.float64)
        rows = np.arange(self.dim)
        n = np.asarray(ninc)
        inc = np.zeros_like(grid)
        inc[:, :-1] = np.diff(grid, axis=1)
        inc[np.arange(grid.shape[1]) >= n[:, None]] = 0.0
        inc[rows, n] = inc[rows, n - 1]
        self._grid_np, self._inc_np = grid, inc
        self.grid = torch.from_numpy(grid).to(self.device)
        self.inc = torch.from_numpy(inc).to(self.device)
        if list(ninc) != self.ninc:
            self._set_shape(list(ninc))
        self._inc_scaled = None
        if self._jac_scale is None:
            self._inc_scaled = self.inc * self._ninc_f[:, None]

    def _set_shape(self, ninc: list[int]) -> None:
        """Constants that depend on the number of increments only."""
        self.ninc = ninc
        width = max(ninc) + 1
        self._ninc_t = torch.tensor(ninc, device=self.device, dtype=torch.int64)
        self._ninc_f = self._ninc_t.to(torch.float64)
        self._last = self._ninc_t - 1
        self._offset = torch.arange(self.dim, device=self.device) * width
        self.offset = self._offset.to(torch.float64)
        # int32 indices halve the memory traffic of the lookups and the training sums
        self.index_dtype = torch.int32 if self.dim * width < 2**31 else torch.int64
        # The Jacobian is prod(inc * ninc); multiplying prod(inc) by prod(ninc) saves a pass,
        # unless prod(ninc) would overflow (hundreds of axes), where each factor is scaled.
        log_scale = sum(math.log(n) for n in ninc)
        self._jac_scale = math.exp(log_scale) if log_scale < 600.0 else None

    def state(self) -> dict:
        return {"grid": torch.from_numpy(self._grid_np.copy()), "ninc": list(self.ninc)}

    def load(self, state: dict) -> None:
        grid, ninc = state["grid"], [int(n) for n in state["ninc"]]
        if len(ninc) != self.dim or tuple(grid.shape) != (self.dim, max(ninc) + 1):
            raise ValueError(
                f"vegas map state has grid shape {tuple(grid.shape)}, expected "
                f"({self.dim}, {max(ninc) + 1}) for ninc={ninc}"
            )
        self._set_grid(grid.detach().cpu().numpy().copy(), ninc)

    # -- the map ------------------------------------------------------------------------------
    def map_t(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Map points given in table coordinates to x; returns (x, jac, flat index).

        Table coordinates are t[:, d] = y[:, d] * ninc[d] + ``offset[d]``: the integer part is
        the flat index into ``grid`` and ``inc``, the fraction the position in the increment.
        The sampler builds them in one pass from its hypercube corners (which carry the
        offsets), so mapping costs a cast, a fraction, two lookups, one fma and one product.
        ``t`` is overwritten with the fraction.
        """
        x = torch.empty_like(t)
        jac = torch.empty(t.shape[0], dtype=torch.float64, device=t.device)
        idx = torch.empty(t.shape, dtype=self.index_dtype, device=t.device)
        self.map_into(t, x, jac, idx)
        return x, jac, idx

    def map_into(
        self, t: torch.Tensor, x: torch.Tensor, jac: torch.Tensor, idx: torch.Tensor
    ) -> None:
        """``map_t`` writing into given contiguous tensors (a chunk of a larger batch)."""
        idx.copy_(t)  # trunc == floor, as t >= 0
        t.frac_()
        flat = idx.view(-1)
        inc = self.inc.view(-1).index_select(0, flat).view(t.shape)
        torch.index_select(self.grid.view(-1), 0, flat, out=x.view(-1))
        x.addcmul_(inc, t)
        if self._jac_scale is None:
            inc = self._inc_scaled.view(-1).index_select(0, flat).view(t.shape)
            torch.prod(inc, dim=1, out=jac)
        else:
            torch.prod(inc, dim=1, out=jac).mul_(self._jac_scale)

    def coordinates(self, y: torch.Tensor) -> torch.Tensor:
        """Table coordinates (input of ``map_t``) of points y (n, dim) in [0, 1]^dim."""
        y = y.to(device=self.device, dtype=torch.float64).clamp(0.0, 1.0)
        return torch.addcmul(self.offset, y, self._ninc_f)

    def __call__(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x(y) and the Jacobian dx/dy for y (n, dim) in [0, 1]^dim."""
        x, jac, _ = self.map_t(self.coordinates(y))
        return x, jac

    def jacobian(self, x: torch.Tensor) -> torch.Tensor:
        """dx/dy at points x (the inverse map's Jacobian), e.g. to evaluate the density."""
        x = x.to(device=self.device, dtype=torch.float64)
        # searchsorted needs one sorted row per axis; padding (1.0) keeps rows sorted.
        i = torch.searchsorted(self.grid, x.T.contiguous(), right=True).T - 1
        i = torch.minimum(i.clamp_min(0), self._last)
        table = self._inc_scaled if self._jac_scale is None else self.inc
        jac = torch.take(table, i + self._offset).prod(dim=1)
        return jac if self._jac_scale is None else jac * self._jac_scale

    # -- training -----------------------------------------------------------------------------
    def accumulate(self, idx: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Per-increment sums of ``values`` (n,) and counts, from the flat indices of ``map_t``
        (only columns below ninc count: a point at y == 1 trains nothing, as in vegas)."""
        size = self.grid.numel()
        flat = idx.reshape(-1)
        weights = values[:, None].expand(idx.shape).reshape(-1)
        sums = torch.bincount(flat, weights=weights, minlength=size)
        counts = torch.bincount(flat, minlength=size).to(sums.dtype)
        return sums.view(self.grid.shape), counts.view(self.grid.shape)

    def adapt(
        self,
        sum_f: torch.Tensor | None,
        n_f: torch.Tensor | None,
        alpha: float,
        ninc: list[int] | None = None,
    ) -> None:
        """Move the nodes so each new increment holds an equal share of the training density.

        The density per increment is the mean training value (sum_f / n_f); it is smoothed
        (weights 1, 6, 1 over neighbours), normalised, and compressed by
        ((1 - r) / -ln r)^alpha, so that large alpha adapts fast and alpha = 0 leaves it flat.
        Without data (or alpha = 0) the grid is re-divided into ``ninc`` increments keeping its
        Jacobian, which is how the number of increments changes.
        """
        new_ninc = list(self.ninc) if ninc is None else [int(n) for n in ninc]
        old = np.asarray(self.ninc)
        valid = np.arange(self._grid_np.shape[1]) < old[:, None]
        flat = valid.astype(np.float64)
        if sum_f is None or alpha == 0:
            avg = flat
        else:
            s = sum_f.detach().cpu().numpy()
            n = n_f.detach().cpu().numpy()
            avg = np.where(valid, s / (n + TINY), 0.0)
            avg = _smooth(avg, old, valid)
            total = avg.sum(axis=1, keepdims=True)
            avg = np.where(total > 0, avg / np.maximum(total, TINY) + TINY, TINY)
            avg = np.where(valid, avg, 0.0)
            damp = (avg > 0) & (avg <= 0.99999999)
            safe = np.where(damp, avg, 0.5)
            avg = np.where(damp, (-(1.0 - safe) / np.log(safe)) ** alpha, avg)
            # an axis with a single increment keeps its flat density
            avg = np.where((old[:, None] > 1) & valid, avg, flat)
        self._set_grid(self._regrid(avg, old, new_ninc), new_ninc)

    def _regrid(self, avg: np.ndarray, old: np.ndarray, new_ninc: list[int]) -> np.ndarray:
        """Nodes at equal steps of the cumulative density, interpolated linearly (vegas)."""
        width = max(new_ninc) + 1
        rows = np.arange(self.dim)[:, None]
        cum = np.cumsum(avg, axis=1)
        total = cum[rows[:, 0], old - 1][:, None]
        new_n = np.asarray(new_ninc, dtype=np.float64)[:, None]
        k = np.arange(1, width - 1, dtype=np.float64)
        target = k * (total / new_n)
        # first increment whose cumulative density reaches the target, per axis
        j = np.stack([np.searchsorted(c, tg) for c, tg in zip(cum, target, strict=True)])
        j = np.minimum(j, (old - 1)[:, None])
        rest = (cum[rows, j] - target) / np.maximum(avg[rows, j], TINY)
        nodes = self._grid_np[rows, j + 1] - np.clip(rest, 0.0, 1.0) * self._inc_np[rows, j]
        nodes = np.where(k < new_n, nodes, 1.0)
        grid = np.concatenate([np.zeros((self.dim, 1)), nodes, np.ones((self.dim, 1))], axis=1)
        # rounding must never make a grid non-monotone
        return np.maximum.accumulate(grid, axis=1)


def _smooth(avg: np.ndarray, ninc: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """vegas's smoothing (a[i-1] + 6 a[i] + a[i+1]) / 8, an edge counting as its own neighbour."""
    left = np.concatenate([avg[:, :1], avg[:, :-1]], axis=1)
    right = np.concatenate([avg[:, 1:], avg[:, -1:]], axis=1)
    last = np.arange(avg.shape[1]) == (ninc[:, None] - 1)
    right = np.where(last, avg, right)
    return np.where(valid, np.abs((6.0 * avg + left + right) / 8.0), 0.0)


def _uniform_grid(ninc: list[int]) -> np.ndarray:
    n = np.asarray(ninc, dtype=np.float64)[:, None]
    return np.minimum(np.arange(max(ninc) + 1, dtype=np.float64) / n, 1.0)
