"""hepflow_io: event files in the formats the field reads, each a thin layer over its library.

Registered through the entry point ``io = "hepflow_io"`` like any third-party plugin:

- writer and reader ``lhe``: Les Houches Event files (LHEF 3.0, ``.lhe`` or ``.lhe.gz``),
  structure via pylhe, floats at full precision (``hepflow_io.lhe``);
- writer and reader ``root``: a ROOT TTree via uproot ``mktree``/``extend``
  (``hepflow_io.root``);
- writer and reader ``hdf5``: columnar, chunked, compressed HDF5 via h5py (``hepflow_io.hdf5``);
- writer ``hepmc``: HepMC3 ASCII via pyhepmc (``hepflow_io.hepmc``).

Every writer writes to a temporary file beside the target and renames it when the run closes
it; an exception leaves no partial file and an earlier file untouched; an existing target is
refused unless ``overwrite = true``.
"""

from __future__ import annotations

from typing import Any

import hepflow

from .hdf5 import Hdf5Reader, Hdf5Writer
from .hepmc import HepMCWriter
from .lhe import LheReader, LheWriter
from .root import RootReader, RootWriter

__all__ = [
    "Hdf5Reader",
    "Hdf5Writer",
    "HepMCWriter",
    "LheReader",
    "LheWriter",
    "RootReader",
    "RootWriter",
]


@hepflow.hookimpl
def hepflow_writers() -> dict[str, Any]:
    return {"lhe": LheWriter, "root": RootWriter, "hdf5": Hdf5Writer, "hepmc": HepMCWriter}


@hepflow.hookimpl
def hepflow_readers() -> dict[str, Any]:
    return {"lhe": LheReader, "root": RootReader, "hdf5": Hdf5Reader}
