"""The ``PDF`` object and ``load_pdf``: one member of a set, evaluated in batches on a device."""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .alphas import IpolAlphaS, MGRunningAlphaS
from .errors import PDFError, PDFRangeError
from .interpolate import LogBicubicGrid
from .lhapdf6 import read_member
from .lhgrid import read_lhgrid
from .mg_interpolate import MGPolyInterpolator

__all__ = ["EMBEDDED", "PDF", "load_pdf"]

DATA_DIR = Path(__file__).resolve().parent / "data"
#: Sets shipped in the package: alias -> (file, canonical name, LHAPDF id, madevent's nloop).
EMBEDDED: dict[str, tuple[str, str, int, int]] = {
    "nn23lo1": ("NNPDF23_lo_as_0130_qed_mem0.grid.gz", "NNPDF23_lo_as_0130_qed", 247000, 2),
}
_ALIASES = {"nn23lo1": "nn23lo1", "NNPDF23_lo_as_0130_qed": "nn23lo1"}
ALL_PIDS: tuple[int, ...] = tuple(range(-6, 7))  # xfxQ2_all order; 0 = gluon
# points per pass: bounds the (n,)-sized temporaries of the range checks and extrapolation (the
# interpolators cut their own work into cache-sized pieces); a batch up to this size is one
# pass, with no concatenation of parts
_CHUNK = 1 << 22


def _pid_key(pid: int) -> int:
    return 21 if pid == 0 else pid


class PDF:
    """One member of a PDF set: x·f(x, Q^2) and alpha_s(Q^2), float64, batched, any device.

    ``evaluate(x, q2, cols)`` returns x·f for grid columns ``cols`` (None = all); ``pids`` gives the
    PDG id of each column. Build it with :func:`load_pdf`.
    """

    def __init__(
        self,
        *,
        name: str,
        lhapdf_id: int | None,
        member: int,
        order_qcd: int,
        pids: tuple[int, ...],
        evaluate: Callable[[Tensor, Tensor, Tensor | None], Tensor],
        alphas: Callable[[Tensor], Tensor] | None,
        x_range: tuple[float, float],
        q_range: tuple[float, float],
        force_positive: int = 0,
        device: torch.device | str = "cpu",
    ) -> None:
        self.name, self.lhapdf_id, self.member, self.order_qcd = name, lhapdf_id, member, order_qcd
        self.pids = tuple(_pid_key(p) for p in pids)
        self.flavors = tuple(sorted(self.pids, key=lambda p: (p in (21, 22), p)))
        self.x_min, self.x_max = x_range
        self.q_min, self.q_max = q_range
        self.force_positive = force_positive
        self.device = torch.device(device)
        self._evaluate, self._alphas = evaluate, alphas
        col = {p: i for i, p in enumerate(self.pids)}
        self._col = col
        zero = len(self.pids)  # index of the appended zero column
        present = [(k, col[_pid_key(p)]) for k, p in enumerate(ALL_PIDS) if _pid_key(p) in col]
        self._all_pos = torch.tensor([k for k, _ in present], dtype=torch.long, device=self.device)
        self._all_cols = torch.tensor([c for _, c in present], dtype=torch.long, device=self.device)
        # lookup for per-point pid tensors, indexed by pid + 6: -6..6, then 27 (g as 21), 28 (photon)
        lut = torch.full((29,), zero, dtype=torch.long)
        for p in range(-6, 7):
            lut[p + 6] = col.get(_pid_key(p), zero)
        lut[22 + 6] = col.get(22, zero)
        lut[21 + 6] = col.get(21, zero)
        self._lut = lut.to(self.device)

    def __repr__(self) -> str:
        return (
            f"PDF({self.name!r}, member={self.member}, lhapdf_id={self.lhapdf_id}, "
            f"x in [{self.x_min:g}, {self.x_max:g}], Q in [{self.q_min:g}, {self.q_max:g}] GeV, "
            f"device={self.device})"
        )

    # -- input checks ------------------------------------------------------------------------
    def _prepare(self, x: Tensor, q2: Tensor) -> tuple[Tensor, Tensor]:
        for label, v in (("x", x), ("q2", q2)):
            if isinstance(v, Tensor) and v.is_floating_point() and v.dtype != torch.float64:
                raise PDFError(
                    f"{self.name}: {label} is {v.dtype}; pass float64 ({label}.double()): "
                    "PDFs are evaluated in float64 and a lower precision shifts x and Q^2"
                )
        x = torch.as_tensor(x, dtype=torch.float64, device=self.device).reshape(-1)
        q2 = torch.as_tensor(q2, dtype=torch.float64, device=self.device).reshape(-1)
        if x.shape != q2.shape:
            if q2.numel() == 1:
                q2 = q2.expand_as(x)
            elif x.numel() == 1:
                x = x.expand_as(q2)
            else:
                raise PDFError(f"{self.name}: x has {x.numel()} points but q2 has {q2.numel()}")
        # NaN fails every comparison, so this also catches NaN (and +-inf Q^2)
        bad = ~((x > 0) & (x <= 1) & (q2 > 0) & (q2 < math.inf))
        if bool(bad.any()):
            i = int(torch.nonzero(bad)[0])
            raise PDFRangeError(
                f"{self.name}: x={float(x[i])!r}, q2={float(q2[i])!r} at index {i} cannot be "
                "evaluated: need 0 < x <= 1 and 0 < Q^2 < inf (no NaN); fix the caller's "
                "kinematics or scale choice"
            )
        return x, q2

    def _run(self, x: Tensor, q2: Tensor, cols: Tensor | None) -> Tensor:
        parts = [
            self._evaluate(x[i : i + _CHUNK], q2[i : i + _CHUNK], cols)
            for i in range(0, max(x.numel(), 1), _CHUNK)
        ]
        out = torch.cat(parts) if len(parts) != 1 else parts[0]
        if self.force_positive == 1:
            out = out.clamp_min(0.0)
        elif self.force_positive == 2:
            out = out.clamp_min(1e-10)
        return out

    # -- public API --------------------------------------------------------------------------
    def xfxQ2(self, pid: int | Tensor, x: Tensor, q2: Tensor) -> Tensor:
        """x·f(x, Q^2) for one flavour (int) or per-point flavours (int64 tensor); 0 and 21 are
        the gluon; flavours the set lacks give 0."""
        x, q2 = self._prepare(x, q2)
        if isinstance(pid, Tensor):
            pid = pid.to(self.device).reshape(-1)
            if pid.numel() != x.numel():
                raise PDFError(f"{self.name}: pid has {pid.numel()} entries, x has {x.numel()}")
            if bool(((pid < -6) | (pid > 22) | ((pid > 6) & (pid != 21) & (pid != 22))).any()):
                raise PDFError(f"{self.name}: pid values must be in -6..6, 21 or 22")
            full = self._run(x, q2, None)
            full = torch.cat([full, torch.zeros_like(full[:, :1])], dim=1)
            return full.gather(1, self._lut[pid + 6].unsqueeze(-1)).squeeze(-1)
        pid = _pid_key(int(pid))
        if pid not in self._col:
            if pid in range(-6, 7) or pid in (21, 22):
                return torch.zeros_like(x)
            raise PDFError(
                f"{self.name}: pid {pid} is not a parton id (-6..6, 0/21 gluon, 22 photon)"
            )
        cols = torch.tensor([self._col[pid]], device=self.device)
        return self._run(x, q2, cols)[:, 0]

    def xfxQ2_all(self, x: Tensor, q2: Tensor) -> Tensor:
        """(n, 13) x·f for pids -6..6 in that order (column 6 = gluon), one interpolation pass."""
        x, q2 = self._prepare(x, q2)
        vals = self._run(x, q2, self._all_cols)  # only the columns that exist, in -6..6 order
        if vals.shape[1] == len(ALL_PIDS):
            return vals
        out = torch.zeros(x.shape[0], len(ALL_PIDS), dtype=vals.dtype, device=vals.device)
        out[:, self._all_pos] = vals
        return out

    def alphas_Q2(self, q2: Tensor) -> Tensor:
        """alpha_s(Q^2) from the set's own prescription."""
        if self._alphas is None:
            raise PDFError(
                f"{self.name}: alpha_s is not available: hepflow evaluates LHAPDF's 'ipol' "
                "alpha_s (AlphaS_Qs/AlphaS_Vals in the .info) and this set has no such table; "
                "use backend='lhapdf', or hepflow.physics.pdf.alphas.MGRunningAlphaS with the "
                "set's AlphaS_MZ"
            )
        q2 = torch.as_tensor(q2, dtype=torch.float64, device=self.device)
        if bool((~(q2 > 0) | torch.isinf(q2)).any()):
            raise PDFRangeError(f"{self.name}: alpha_s needs 0 < Q^2 < inf (no NaN)")
        return self._alphas(q2.reshape(-1)).reshape(q2.shape)

    def to(self, device: torch.device | str) -> PDF:
        """The same PDF with its grids on ``device``."""
        ev, al = self._evaluate, self._alphas
        ev_new = ev.to(device) if hasattr(ev, "to") else ev
        al_new = al.to(device) if al is not None and hasattr(al, "to") else al
        return PDF(
            name=self.name,
            lhapdf_id=self.lhapdf_id,
            member=self.member,
            order_qcd=self.order_qcd,
            pids=self.pids,
            evaluate=ev_new,
            alphas=al_new,
            x_range=(self.x_min, self.x_max),
            q_range=(self.q_min, self.q_max),
            force_positive=self.force_positive,
            device=device,
        )


@functools.lru_cache(maxsize=8)
def _embedded_grid(alias: str, member: int):
    return read_lhgrid(DATA_DIR / EMBEDDED[alias][0], member)


def _load_embedded(alias: str, member: int, device: torch.device | str) -> PDF:
    _, canonical, lhaid, nloop = EMBEDDED[alias]
    if member != 0:
        raise PDFError(f"{alias}: the embedded grid has only member 0, asked for {member}")
    g = _embedded_grid(alias, member)
    t = functools.partial(torch.as_tensor, dtype=torch.float64, device=device)
    interp = MGPolyInterpolator(t(g.xs), t(g.q2s), t(g.xf))
    return PDF(
        name=canonical,
        lhapdf_id=lhaid,
        member=member,
        order_qcd={"lo": 0, "nlo": 1, "nnlo": 2}.get(g.order.lower(), 0),
        pids=g.pids,
        evaluate=interp,
        alphas=MGRunningAlphaS(g.alphas_mz, nloop),
        x_range=(float(g.xs[0]), float(g.xs[-1])),
        q_range=(float(np.sqrt(g.q2s[0])), float(np.sqrt(g.q2s[-1]))),
        device=device,
    )


def _load_lhapdf6(name: str, member: int, path, device: torch.device | str) -> PDF:
    m = read_member(name, member, path)
    t = functools.partial(torch.as_tensor, dtype=torch.float64, device=device)
    source = f"{name}.info"
    extrap = str(m.info.get("Extrapolator", "continuation")).lower()
    interp_name = str(m.info.get("Interpolator", "logcubic")).lower()
    if interp_name != "logcubic":
        raise PDFError(f"{source}: Interpolator {interp_name!r} is not supported; only logcubic")
    try:
        grid = LogBicubicGrid([(t(s.xs), t(s.q2s), t(s.xf)) for s in m.subgrids], extrap)
    except PDFError as err:
        raise PDFError(f"{name}_{member:04d}.dat: {err}") from None
    alphas = None
    if "AlphaS_Qs" in m.info and "AlphaS_Vals" in m.info:
        alphas = IpolAlphaS(t(m.info["AlphaS_Qs"]), t(m.info["AlphaS_Vals"]), source)
    q2s = grid.q2s
    return PDF(
        name=name,
        lhapdf_id=(
            m.info.get("SetIndex", None) if isinstance(m.info.get("SetIndex"), int) else None
        ),
        member=member,
        order_qcd=int(m.info.get("OrderQCD", 0)),
        pids=m.pids,
        evaluate=grid,
        alphas=alphas,
        x_range=(float(grid.x_min), float(grid.x_max)),
        q_range=(float(q2s.min().sqrt()), float(q2s.max().sqrt())),
        force_positive=int(m.info.get("ForcePositive", 0)),
        device=device,
    )


def load_pdf(
    name: str = "nn23lo1",
    member: int = 0,
    *,
    path: str | os.PathLike | list | None = None,
    device: torch.device | str = "cpu",
    backend: str = "hepflow",
) -> PDF:
    """Load one member of a PDF set.

    ``"nn23lo1"`` (alias ``"NNPDF23_lo_as_0130_qed"``) is the grid shipped in the package,
    evaluated as MadGraph does. Any other name is an LHAPDF6 set looked up in ``path``, else
    ``$LHAPDF_DATA_PATH``, else ``lhapdf-config --datadir``. ``backend="lhapdf"`` evaluates
    through the ``lhapdf`` Python module instead (CPU, for cross-checks).
    """
    if backend == "lhapdf":
        from .lhapdf_backend import load_with_lhapdf

        return load_with_lhapdf(name, member, path=path)
    if backend != "hepflow":
        raise PDFError(f"backend={backend!r} is not known; use 'hepflow' or 'lhapdf'")
    if not isinstance(member, int) or member < 0:
        raise PDFError(f"member={member!r} must be a non-negative integer")
    alias = _ALIASES.get(name)
    if alias is not None and path is None:
        return _load_embedded(alias, member, device)
    return _load_lhapdf6(name, member, path, device)
