"""Reader for the LHAPDF5 ``.LHgrid`` text layout as NNPDF writes it (``NNPDF20int[qed]``),
the format of MadGraph's built-in grids such as ``NNPDF23_lo_as_0130_qed_mem0.grid``.

It follows MadGraph's own reader (``NNPDFDriver.f``, ``readPDFSet``): header up to
``Parameterlist:`` (alpha_s(MZ)), the ``NNPDF20int``/``NNPDF20intqed`` tag (the latter adds a
photon column), then x knots, Q^2 knots and one block of rows per member, x outer and Q^2 inner,
each row holding x·f for tbar, bbar, cbar, sbar, ubar, dbar, g, d, u, s, c, b, t (, photon).
``.gz`` files are read transparently.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import PDFFormatError

__all__ = ["LHGrid", "read_lhgrid"]

#: PDG ids of the grid columns, in file order (0 is never used: the gluon is 21).
LHGRID_PIDS: tuple[int, ...] = (-6, -5, -4, -3, -2, -1, 21, 1, 2, 3, 4, 5, 6)


@dataclass(frozen=True)
class LHGrid:
    """One member of an ``.LHgrid`` set, as numpy float64 arrays."""

    path: str
    description: str
    alphas_mz: float  # the Parameterlist value, alpha_s(MZ)
    mz: float  # the 'Alphas:' line's MZ
    quark_masses: tuple[float, float, float]  # mc, mb, mt from the 'Alphas:' line
    order: str  # 'lo', 'nlo', ... from the 'Alphas:' block
    xs: np.ndarray  # (nx,)
    q2s: np.ndarray  # (nq2,) in GeV^2
    pids: tuple[int, ...]  # PDG id per column
    xf: np.ndarray  # (nx, nq2, ncol) x·f(x, Q^2)


def _open_text(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:
        return fh.read().splitlines()


def _unquote(line: str) -> str:
    return line.strip().strip("'").strip()


def _numbers(line: str, path: Path, lineno: int, what: str) -> list[float]:
    try:
        return [
            float(t.replace("D", "E").replace("d", "e")) for t in line.replace(",", " ").split()
        ]
    except ValueError:
        raise PDFFormatError(
            f"{path}:{lineno}: expected {what}, got {line.strip()!r}; the file is damaged, "
            "copy it again from MadGraph's Template/LO/lib/Pdfdata/"
        ) from None


def read_lhgrid(path: str | Path, member: int = 0) -> LHGrid:
    """Read member ``member`` of an NNPDF-style ``.LHgrid`` file."""
    path = Path(path)
    lines = _open_text(path)

    def find(tag: str, start: int) -> int:
        for i in range(start, len(lines)):
            if _unquote(lines[i]).startswith(tag):
                return i
        raise PDFFormatError(
            f"{path}: no {tag!r} line found after line {start + 1}; this is not an "
            "NNPDF-style .LHgrid file"
        )

    description = " ".join(_unquote(s) for s in lines[2:4])
    ia = find("Alphas:", 0)
    order = lines[ia + 1].replace("'", " ").replace(",", " ").split()[1]
    avals = _numbers(lines[ia + 2], path, ia + 3, "'Alphas:' numbers (code, MZ, mc, mb, mt)")
    if len(avals) < 5:
        raise PDFFormatError(f"{path}:{ia + 3}: expected 5 numbers after 'Alphas:'")
    ip = find("Parameterlist:", ia)
    head = lines[ip + 1].replace("'", " ").replace(",", " ").split()
    nmem = int(head[1]) if len(head) > 1 and head[1].lstrip("-").isdigit() else 0
    alphas_mz = _numbers(lines[ip + 2], path, ip + 3, "alpha_s(MZ)")[0]
    it = find("NNPDF20int", ip)
    ncol = 14 if _unquote(lines[it]).startswith("NNPDF20intqed") else 13
    pids = LHGRID_PIDS + ((22,) if ncol == 14 else ())
    pos = it + 2  # skip the tag and its '0 , 1' line

    def count(what: str) -> int:
        nonlocal pos
        vals = _numbers(lines[pos], path, pos + 1, what)
        pos += 1
        if len(vals) != 1 or vals[0] != int(vals[0]) or vals[0] < 2:
            raise PDFFormatError(f"{path}:{pos}: expected {what} (an integer >= 2)")
        return int(vals[0])

    def column(n: int, what: str) -> np.ndarray:
        nonlocal pos
        vals = [_numbers(lines[pos + k], path, pos + k + 1, what) for k in range(n)]
        for k, v in enumerate(vals):
            if len(v) != 1:
                raise PDFFormatError(f"{path}:{pos + k + 1}: expected one {what} per line")
        pos += n
        arr = np.array([v[0] for v in vals], dtype=np.float64)
        if np.any(np.diff(arr) <= 0) or arr[0] <= 0:
            raise PDFFormatError(
                f"{path}:{pos - n + 1}: the {what} are not positive and increasing"
            )
        return arr

    try:
        nx = count("the number of x knots")
        xs = column(nx, "x knots")
        nq = count("the number of Q^2 knots")
        pos += 1  # MadGraph skips one line (the Q^2 minimum) here
        q2s = column(nq, "Q^2 knots")
        if not 0 <= member <= nmem:
            raise PDFFormatError(f"{path}: member {member} requested, the file has 0..{nmem}")
        pos += 1  # the member-index line
        start = pos + member * nx * nq
        block = lines[start : start + nx * nq]
    except IndexError:
        raise PDFFormatError(f"{path}: file ends early (line {pos + 1}); it is truncated") from None
    if len(block) != nx * nq:
        raise PDFFormatError(
            f"{path}: expected {nx * nq} data rows from line {start + 1}, found {len(block)}; "
            "the file is truncated"
        )
    try:
        xf = np.array(" ".join(block).split(), dtype=np.float64)
    except ValueError:
        xf = None
    if xf is None or xf.size != nx * nq * ncol:
        for k, row in enumerate(block):  # find the culprit to name its line
            vals = _numbers(row, path, start + k + 1, f"{ncol} numbers")
            if len(vals) != ncol:
                raise PDFFormatError(
                    f"{path}:{start + k + 1}: expected {ncol} numbers, found {len(vals)}"
                )
        raise PDFFormatError(f"{path}: data block from line {start + 1} is malformed")
    if not np.all(np.isfinite(xf)):
        bad = int(np.flatnonzero(~np.isfinite(xf))[0]) // ncol
        raise PDFFormatError(f"{path}:{start + bad + 1}: non-finite value in the data")
    return LHGrid(
        path=str(path),
        description=description,
        alphas_mz=alphas_mz,
        mz=avals[1],
        quark_masses=(avals[2], avals[3], avals[4]),
        order=order,
        xs=xs,
        q2s=q2s,
        pids=pids,
        xf=xf.reshape(nx, nq, ncol),
    )
