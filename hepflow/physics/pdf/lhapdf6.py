"""Reader for LHAPDF6 sets: ``NAME/NAME.info`` (metadata) and ``NAME/NAME_MMMM.dat``
(``lhagrid1`` format), and the search for a set on ``LHAPDF_DATA_PATH``.

An ``lhagrid1`` member file is a header block ending in ``---``, then one block per Q
subgrid, each ``---``-terminated: a line of x knots, a line of Q knots (GeV, not Q^2), a line
of PDG ids, then nx·nq rows (x outer, Q inner) of x·f per id.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import PDFFormatError, PDFNotFoundError
from .infofile import read_info

__all__ = ["LHAPDF6Member", "Subgrid", "find_set", "read_member", "search_paths"]


@dataclass(frozen=True)
class Subgrid:
    """One Q subgrid: knots and x·f (nx, nq, nflav) in the member's flavour order."""

    xs: np.ndarray
    q2s: np.ndarray
    xf: np.ndarray


@dataclass(frozen=True)
class LHAPDF6Member:
    """One member of an LHAPDF6 set: merged metadata (set .info + member header) and grids."""

    name: str
    member: int
    info: dict[str, Any]
    pids: tuple[int, ...]
    subgrids: list[Subgrid] = field(default_factory=list)


def search_paths(path: str | os.PathLike | list | None = None) -> list[Path]:
    """Where sets are looked for: ``path`` (a dir or list of dirs) if given, else
    ``$LHAPDF_DATA_PATH`` (colon-separated), else ``lhapdf-config --datadir`` if on PATH."""
    if path is not None:
        items = [path] if isinstance(path, (str, os.PathLike)) else list(path)
        return [Path(p) for item in items for p in str(item).split(os.pathsep) if p]
    env = os.environ.get("LHAPDF_DATA_PATH") or os.environ.get("LHAPATH")
    if env:
        return [Path(p) for p in env.split(os.pathsep) if p]
    exe = shutil.which("lhapdf-config")
    if exe:
        try:
            out = subprocess.run([exe, "--datadir"], capture_output=True, text=True, timeout=10)
            if out.returncode == 0 and out.stdout.strip():
                return [Path(out.stdout.strip())]
        except (OSError, subprocess.SubprocessError):
            pass
    return []


def find_set(name: str, path: str | os.PathLike | list | None = None) -> Path:
    """The directory of set ``name``; a clear error listing the places searched if absent."""
    dirs = search_paths(path)
    for d in dirs:
        if (d / name / f"{name}.info").is_file():
            return d / name
    where = (
        ", ".join(str(d) for d in dirs)
        or "nowhere (no path given, LHAPDF_DATA_PATH unset, no lhapdf-config)"
    )
    raise PDFNotFoundError(
        f"PDF set {name!r} not found: looked for {name}/{name}.info in {where}. Fix: pass "
        f"path=DIR, or set LHAPDF_DATA_PATH=DIR, after downloading it with "
        f"`lhapdf install {name}` (or unpacking it from https://lhapdfsets.web.cern.ch)"
    )


def _open_lines(path: Path) -> list[str]:
    if path.is_file():
        return path.read_text().splitlines()
    gz = path.with_name(path.name + ".gz")
    if gz.is_file():
        with gzip.open(gz, "rt") as fh:
            return fh.read().splitlines()
    raise PDFNotFoundError(f"{path}: member file missing; the set is incomplete, re-download it")


def _floats(line: str, path: Path, lineno: int, what: str) -> np.ndarray:
    try:
        return np.array(line.split(), dtype=np.float64)
    except ValueError:
        raise PDFFormatError(
            f"{path}:{lineno}: expected {what}, got {line.strip()[:80]!r}"
        ) from None


def _read_dat(path: Path) -> tuple[dict[str, Any], tuple[int, ...], list[Subgrid]]:
    from .infofile import parse_info

    lines = _open_lines(path)
    try:
        sep = next(i for i, s in enumerate(lines) if s.strip() == "---")
    except StopIteration:
        raise PDFFormatError(
            f"{path}: no '---' line ends the header; not an lhagrid1 file"
        ) from None
    header = parse_info("\n".join(lines[:sep]), str(path))
    fmt = header.get("Format", "lhagrid1")
    if fmt != "lhagrid1":
        raise PDFFormatError(f"{path}:1: Format {fmt!r} is not supported; only lhagrid1 is")
    pos, subgrids, pids = sep + 1, [], None
    while pos < len(lines) and lines[pos].strip():
        if pos + 3 > len(lines):
            raise PDFFormatError(f"{path}:{pos + 1}: subgrid header (x, Q, ids lines) truncated")
        xs = _floats(lines[pos], path, pos + 1, "a line of x knots")
        qs = _floats(lines[pos + 1], path, pos + 2, "a line of Q knots")
        try:
            ids = tuple(int(t) for t in lines[pos + 2].split())
        except ValueError:
            raise PDFFormatError(f"{path}:{pos + 3}: expected a line of integer PDG ids") from None
        for arr, what, ln in ((xs, "x", pos + 1), (qs, "Q", pos + 2)):
            if arr.size < 2 or np.any(np.diff(arr) <= 0) or arr[0] <= 0:
                raise PDFFormatError(
                    f"{path}:{ln}: {what} knots must be >= 2 positive increasing numbers"
                )
        if pids is not None and ids != pids:
            raise PDFFormatError(f"{path}:{pos + 3}: flavour list differs from the first subgrid's")
        pids = ids
        nrow = xs.size * qs.size
        body_start = pos + 3
        rows = lines[body_start : body_start + nrow]
        if len(rows) < nrow or body_start + nrow >= len(lines) + 1:
            raise PDFFormatError(
                f"{path}: subgrid at line {pos + 1} needs {nrow} rows; file ends early"
            )
        try:
            xf = np.array(" ".join(rows).split(), dtype=np.float64)
        except ValueError:
            xf = None
        if xf is None or xf.size != nrow * len(ids) or not np.all(np.isfinite(xf)):
            for k, row in enumerate(rows):
                vals = _floats(row, path, body_start + k + 1, f"{len(ids)} numbers")
                if vals.size != len(ids) or not np.all(np.isfinite(vals)):
                    raise PDFFormatError(
                        f"{path}:{body_start + k + 1}: expected {len(ids)} finite numbers, "
                        f"found {row.strip()[:80]!r}"
                    )
        end = body_start + nrow
        if end >= len(lines) or lines[end].strip() != "---":
            raise PDFFormatError(
                f"{path}:{end + 1}: expected '---' after the subgrid's {nrow} rows"
            )
        subgrids.append(Subgrid(xs, qs**2, xf.reshape(xs.size, qs.size, len(ids))))
        pos = end + 1
    if not subgrids:
        raise PDFFormatError(f"{path}: no subgrid after the header")
    return header, pids, subgrids


def read_member(
    name: str, member: int = 0, path: str | os.PathLike | list | None = None
) -> LHAPDF6Member:
    """Find and read member ``member`` of LHAPDF6 set ``name``."""
    setdir = find_set(name, path)
    info = read_info(setdir / f"{name}.info")
    nmem = info.get("NumMembers")
    if isinstance(nmem, int) and not 0 <= member < nmem:
        raise PDFNotFoundError(
            f"{setdir / name}.info: member {member} asked, the set has 0..{nmem - 1}"
        )
    header, pids, subgrids = _read_dat(setdir / f"{name}_{member:04d}.dat")
    merged = {**info, **header}
    return LHAPDF6Member(name=name, member=member, info=merged, pids=pids, subgrids=subgrids)
