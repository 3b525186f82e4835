"""The ``csv`` event writer: one line per particle, readable by anything.

The file looks like::

    event,pdg_id,status,E,px,py,pz,weight
    0,2,-1,45.6,0.0,0.0,45.6,0.93
    ...
    # summary: {"value": 0.97, "error": 0.004, ...}

``event`` counts from 0 across every ``write`` call; ``weight`` is the event's weight repeated
on each of its particles; floats are written with ``repr``, so they read back bit for bit. The
run summary (cross section, error, ...) is the last line, a ``#`` comment holding JSON. Read it
back with::

    with open(path, newline="") as f:
        lines = list(f)
    rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    summary = json.loads(lines[-1].removeprefix("# summary: "))

The writer follows hepflow's rules for outputs: events go to ``<path>.tmp`` beside the target,
which ``close`` renames to ``<path>`` in one atomic step (``os.replace``); an exception in the
``with`` block deletes the temporary file and leaves any earlier ``<path>`` as it was; an
existing ``<path>`` is replaced only with ``overwrite=True``.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import hepflow

__all__ = ["COLUMNS", "CsvWriter"]

COLUMNS = ("event", "pdg_id", "status", "E", "px", "py", "pz", "weight")
SUMMARY_PREFIX = "# summary: "


class CsvWriter:
    """Events as CSV, one line per particle: event, pdg_id, status, E, px, py, pz, weight.

    Options: ``path`` of the file to write; ``overwrite=True`` to replace an existing file.
    """

    def __init__(self, path: str | os.PathLike[str], overwrite: bool = False) -> None:
        self.path = Path(path)
        self.overwrite = bool(overwrite)
        self.tmp_path = self.path.with_name(self.path.name + ".tmp")
        self._file = None
        self._csv = None
        self._n_events = 0
        self._check_target()  # fail now, not after an hour of integration

    def _check_target(self) -> None:
        if self.path.exists() and not self.overwrite:
            raise hepflow.OutputExistsError(
                f"{self.path} exists; choose another path, or pass overwrite=True to replace it"
            )
        if not self.path.parent.is_dir():
            raise hepflow.HepflowError(
                f"cannot write {self.path}: directory {self.path.parent} does not exist; "
                "create it first"
            )

    # -- the context manager ----------------------------------------------------------------
    def __enter__(self) -> CsvWriter:
        if self._file is not None:
            raise hepflow.HepflowError(f"the csv writer for {self.path} is already open")
        self._check_target()
        self._file = open(self.tmp_path, "w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._file)
        self._csv.writerow(COLUMNS)
        self._n_events = 0
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self._discard()  # nothing half-written survives; an earlier file stays untouched
        elif self._file is not None:
            self.close({})  # left without close(): keep the events, with an empty summary

    # -- the EventWriter contract -----------------------------------------------------------
    def write(self, events: hepflow.EventBatch) -> None:
        """Append a batch of events (on any device), one line per particle."""
        if self._csv is None:
            raise hepflow.HepflowError(
                f"write() on the csv writer for {self.path} outside its with block; "
                "use `with writer: writer.write(events)`"
            )
        events = events.to("cpu")  # the one crossing from torch to plain Python
        index = events.particle_event_index()
        momentum = events.momentum.T.tolist()  # E, px, py, pz columns
        self._csv.writerows(
            zip(
                (index + self._n_events).tolist(),
                events.pdg_id.tolist(),
                events.status.tolist(),
                *momentum,
                events.weight[index].tolist(),
                strict=True,
            )
        )
        self._n_events += len(events)

    def close(self, summary: Mapping[str, Any]) -> None:
        """Append the run summary as a JSON comment line and rename to the final name."""
        if self._file is None:
            raise hepflow.HepflowError(f"close() on the csv writer for {self.path}: not open")
        try:
            self._file.write(SUMMARY_PREFIX + json.dumps(dict(summary), default=str) + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())  # the data is on disk before the name points at it
            self._file.close()
            self._file = self._csv = None
            self._check_target()  # someone may have created the target meanwhile
            os.replace(self.tmp_path, self.path)
        except BaseException:
            self._discard()
            raise

    def _discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = self._csv = None
        self.tmp_path.unlink(missing_ok=True)
