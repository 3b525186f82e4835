"""Unit conversions used when a matrix element becomes a cross section."""

from __future__ import annotations

__all__ = ["GEV2_TO_PB"]

#: 1 GeV^-2 in picobarn: (hbar c)^2 = 0.3893793721 GeV^2 mbarn (PDG, "Physical constants",
#: Review of Particle Physics 2022, table 1.1), 1 mbarn = 1e9 pb. MadGraph uses the same value.
GEV2_TO_PB = 0.3893793721e9
