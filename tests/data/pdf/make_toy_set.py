"""Write ``HepflowToy``: a small LHAPDF6 (lhagrid1) set of analytic functions, for the tests.

Why analytic: the exact value at every (x, Q^2) is known, so the reader, the log-bicubic
interpolation and the extrapolation rules are checked against numbers nobody had to trust.
Run ``python make_toy_set.py [OUTDIR]`` to regenerate (the tests also call ``write_set`` for
finer grids). Two Q subgrids (1-4.5 GeV and 4.5-10^4 GeV, sharing the 4.5 GeV knot), knots
uniform in log x and in log Q^2, flavours d, u, s and their antiquarks and the gluon (no c, b, t).

Functions (L = ln(Q^2 / 1 GeV^2)):
  xf = N x^a (1-x)^b (1 + c L)      for u, d, ubar, dbar, g
  xf = (2 + 0.1 ln x) (1 + 0.05 L)  for s and sbar: linear in ln x and in L, which
                                    LHAPDF's log-bicubic reproduces exactly
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

NAME = "HepflowToy"
PIDS = (-3, -2, -1, 1, 2, 3, 21)
PARAMS = {  # N, a, b, c
    -2: (0.2, -0.1, 7.0, 0.02),
    -1: (0.25, -0.1, 8.0, 0.02),
    1: (0.8, 0.4, 4.0, -0.01),
    2: (1.5, 0.5, 3.0, -0.015),
    21: (2.0, -0.2, 5.0, 0.04),
}


def toy_xf(pid: int, x: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """The exact x·f of the toy set (0 for flavours it lacks)."""
    x, q2 = np.asarray(x, dtype=np.float64), np.asarray(q2, dtype=np.float64)
    L = np.log(q2)
    pid = 21 if pid == 0 else pid
    if pid in (3, -3):
        return (2.0 + 0.1 * np.log(x)) * (1.0 + 0.05 * L)
    if pid not in PARAMS:
        return np.zeros(np.broadcast(x, q2).shape)
    n, a, b, c = PARAMS[pid]
    return n * x**a * (1.0 - x) ** b * (1.0 + c * L)


def knots(nx: int = 25, nq_lo: int = 5, nq_hi: int = 9):
    """x knots (uniform in ln x, 1e-6..1) and the Q knots (GeV) of the two subgrids."""
    xs = np.exp(np.linspace(math.log(1e-6), 0.0, nx))
    xs[-1] = 1.0
    q_lo = np.exp(np.linspace(math.log(1.0), math.log(4.5), nq_lo))
    q_hi = np.exp(np.linspace(math.log(4.5), math.log(1e4), nq_hi))
    q_lo[-1] = q_hi[0] = 4.5
    return xs, [q_lo, q_hi]


def alphas_table():
    """A 1-loop alpha_s(Q) table with a repeated knot at the b threshold (4.5 GeV)."""
    qs = [1.0, 1.5, 2.2, 3.2, 4.5, 4.5, 8.0, 15.0, 30.0, 91.1876, 200.0, 600.0, 2000.0, 1e4]
    vals = []
    for i, q in enumerate(qs):
        nf = 4 if (q < 4.5 or (q == 4.5 and qs[i + 1] == 4.5)) else 5
        b0 = (33 - 2 * nf) / (12 * math.pi)
        lam = 0.2 if nf == 5 else 0.25
        vals.append(1.0 / (b0 * math.log(q * q / lam**2)))
    return qs, vals


def write_set(
    outdir: Path, nx: int = 25, nq_lo: int = 5, nq_hi: int = 9, extrapolator: str | None = None
) -> Path:
    """Write NAME/NAME.info and NAME/NAME_0000.dat under ``outdir``; return the set dir."""
    setdir = Path(outdir) / NAME
    setdir.mkdir(parents=True, exist_ok=True)
    xs, qsubs = knots(nx, nq_lo, nq_hi)
    aq, av = alphas_table()
    info = [
        "SetDesc: 'hepflow analytic toy set for reader tests'",
        "SetIndex: 999990",
        "Authors: hepflow",
        "Format: lhagrid1",
        "DataVersion: 1",
        "NumMembers: 1",
        "Particle: 2212",
        "Flavors: [" + ", ".join(str(p) for p in PIDS) + "]",
        "OrderQCD: 0",
        "FlavorScheme: variable",
        "NumFlavors: 3",
        f"XMin: {xs[0]:.8e}",
        "XMax: 1",
        "QMin: 1",
        "QMax: 10000",
        "MZ: 91.1876",
        "AlphaS_MZ: 0.118",
        "AlphaS_OrderQCD: 0",
        "AlphaS_Type: ipol",
        "AlphaS_Qs: [" + ", ".join(f"{q:.17g}" for q in aq) + "]",
        "AlphaS_Vals: [" + ", ".join(f"{v:.17g}" for v in av) + "]",
    ]
    if extrapolator:
        info.append(f"Extrapolator: {extrapolator}")
    (setdir / f"{NAME}.info").write_text("\n".join(info) + "\n")
    lines = ["PdfType: central", "Format: lhagrid1", "---"]
    for qs in qsubs:
        lines.append(" ".join(f"{x:.17g}" for x in xs))
        lines.append(" ".join(f"{q:.17g}" for q in qs))
        lines.append(" ".join(str(p) for p in PIDS))
        for x in xs:
            for q in qs:
                lines.append(" ".join(f"{float(toy_xf(p, x, q * q)): .10e}" for p in PIDS))
        lines.append("---")
    (setdir / f"{NAME}_0000.dat").write_text("\n".join(lines) + "\n")
    return setdir


if __name__ == "__main__":
    write_set(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
