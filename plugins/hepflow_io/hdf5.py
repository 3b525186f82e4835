"""The ``hdf5`` writer and reader: events as columnar HDF5 datasets, via h5py.

Layout (every dataset resizable, chunked, gzip-compressed with the shuffle filter, appended to
as batches arrive)::

    /                       attrs: format = "hepflow-events", format_version = 1,
                                   cross_section, cross_section_error, cross_section_unit,
                                   max_weight (NaN for weighted events), n_events,
                                   summary (the run summary as JSON, with the run card)
    /events/n_particles     (N,)   int32  particles per event
    /events/offset          (N,)   int64  index of the event's first particle in /particles
    /events/weight          (N,)   float64
    /events/weight_variations/<id>  (N,) float64   attrs: id (the weight id as given)
    /events/extras/<name>   (N,)   the extra's dtype (scale, alpha_s, process_id...)
    /particles/pdg_id, status       (P,)   int32
    /particles/mothers, color       (P, 2) int32
    /particles/momentum             (P, 4) float64  (E, px, py, pz)
    /particles/mass, spin           (P,)   float64  (when the events have them)

Event i's particles are rows offset[i] : offset[i] + n_particles[i], the layout awkward uses;
in numpy::

    with h5py.File(path) as f:
        n = f["events/n_particles"][:]
        p = np.split(f["particles/momentum"][:], np.cumsum(n)[:-1])

It is not the LHEH5 layout (pylhe's ``LHEFile.tofile("x.hdf5")`` writes that, one compound
row per particle); this one keeps hepflow's columns, extras and weight ids as they are.
``Hdf5Reader`` reads it back into EventBatch chunks.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

import hepflow

from ._common import AtomicWriter, batch_to_numpy, concat_numpy, numpy_to_batch, safe_name

__all__ = ["Hdf5Reader", "Hdf5Writer"]

FORMAT = "hepflow-events"
FORMAT_VERSION = 1


class Hdf5Writer(AtomicWriter):
    """Columnar HDF5 (h5py): flat particle datasets with per-event counts and offsets.

    Options: ``path``; ``overwrite=True`` to replace an existing file; ``compression`` level of
    gzip (0 for none, default 4); ``chunk_rows`` of the HDF5 chunks (default 65,536);
    ``flush_events``, events buffered before a write (default 20,000).
    """

    format_name = "HDF5"

    def __init__(
        self,
        path: str | os.PathLike[str],
        overwrite: bool = False,
        run_info: Mapping[str, Any] | None = None,
        compression: int = 4,
        chunk_rows: int = 65_536,
        flush_events: int = 20_000,
    ) -> None:
        if not 0 <= int(compression) <= 9:
            raise ValueError(f"compression must be a gzip level 0 to 9, got {compression!r}")
        if int(chunk_rows) < 1 or int(flush_events) < 1:
            raise ValueError(
                f"chunk_rows and flush_events must be at least 1, got {chunk_rows!r} and "
                f"{flush_events!r}"
            )
        self.compression = int(compression)
        self.chunk_rows = int(chunk_rows)
        self.flush_events = int(flush_events)
        super().__init__(path, overwrite=overwrite, run_info=run_info)
        self._file = None

    # -- life cycle -------------------------------------------------------------------------
    def _open(self) -> None:
        # no chunk cache: with HDF5's default (1 MiB per dataset, smaller than a momentum
        # chunk) the resident memory grew by ~40 MB per million events (measured in
        # benchmarks/io.py; 4 MiB caches still grew); without it, it stays flat at the same speed
        self._file = h5py.File(self.tmp_path, "w", rdcc_nbytes=0)
        self._file.attrs["format"] = FORMAT
        self._file.attrs["format_version"] = FORMAT_VERSION
        self._columns: dict[str, Any] | None = None
        self._buffer: list[dict[str, Any]] = []
        self._buffered = 0
        self._n_particles_total = 0

    def _abort(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _dataset(self, name: str, dtype: Any, tail: tuple[int, ...] = ()) -> h5py.Dataset:
        options: dict[str, Any] = {}
        if self.compression:
            options = {"compression": "gzip", "compression_opts": self.compression, "shuffle": True}
        return self._file.create_dataset(
            name,
            shape=(0, *tail),
            maxshape=(None, *tail),
            dtype=dtype,
            chunks=(self.chunk_rows, *tail),
            **options,
        )

    def _create(self, cols: dict[str, Any]) -> None:
        ds = {
            "n_particles": self._dataset("events/n_particles", np.int32),
            "offset": self._dataset("events/offset", np.int64),
            "weight": self._dataset("events/weight", np.float64),
            "pdg_id": self._dataset("particles/pdg_id", np.int32),
            "status": self._dataset("particles/status", np.int32),
            "mothers": self._dataset("particles/mothers", np.int32, (2,)),
            "color": self._dataset("particles/color", np.int32, (2,)),
            "momentum": self._dataset("particles/momentum", np.float64, (4,)),
        }
        for name in ("mass", "spin"):
            if cols[name] is not None:
                ds[name] = self._dataset(f"particles/{name}", np.float64)
        variations, extras = {}, {}
        for group, source, target in (
            ("weight_variations", cols["weight_variations"], variations),
            ("extras", cols["extras"], extras),
        ):
            g = self._file.require_group(f"events/{group}")
            g.attrs["order"] = json.dumps(list(source))  # h5py lists members by name
            taken: set[str] = set()
            for key, value in source.items():
                name = safe_name(key)
                while name in taken:
                    name += "_"
                taken.add(name)
                dtype = np.float64 if group == "weight_variations" else value.dtype
                d = self._dataset(f"events/{group}/{name}", dtype)
                d.attrs["id" if group == "weight_variations" else "name"] = str(key)
                target[key] = d
        self._columns = {"datasets": ds, "weight_variations": variations, "extras": extras}

    def _write(self, events: hepflow.EventBatch) -> None:
        cols = batch_to_numpy(events)
        if self._columns is None:
            self._create(cols)
        c = self._columns
        same = (
            ("mass" in c["datasets"]) == (cols["mass"] is not None)
            and ("spin" in c["datasets"]) == (cols["spin"] is not None)
            and list(c["weight_variations"]) == list(cols["weight_variations"])
            and list(c["extras"]) == list(cols["extras"])
        )
        if not same:
            raise hepflow.HepflowError(
                f"HDF5 writer for {self.path}: a batch has other columns than the first one "
                f"(mass, spin, weight variations {list(cols['weight_variations'])}, extras "
                f"{list(cols['extras'])}); every batch of a file needs the same columns"
            )
        self._buffer.append(cols)
        self._buffered += len(cols["weight"])
        if self._buffered >= self.flush_events:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        cols = concat_numpy(self._buffer)
        self._buffer, self._buffered = [], 0
        counts = cols["n_particles"]
        offset = self._n_particles_total + np.concatenate([[0], np.cumsum(counts)[:-1]])
        self._n_particles_total += int(counts.sum())
        ds = self._columns["datasets"]
        per_event = {"n_particles": counts, "offset": offset, "weight": cols["weight"]}
        per_particle = {k: cols[k] for k in ds if k not in per_event}

        def append(d: h5py.Dataset, a: np.ndarray) -> None:
            n0 = d.shape[0]
            d.resize(n0 + len(a), axis=0)
            d[n0:] = a

        for k, a in per_event.items():
            append(ds[k], a)
        for k, a in per_particle.items():
            append(ds[k], a)
        for k, d in self._columns["weight_variations"].items():
            append(d, cols["weight_variations"][k])
        for k, d in self._columns["extras"].items():
            append(d, cols["extras"][k])

    def _finish(self, summary: dict[str, Any]) -> None:
        self._flush()
        if self._columns is None:  # no events: the datasets still exist, empty
            self._create({"mass": None, "spin": None, "weight_variations": {}, "extras": {}})
        xs = summary.get("cross_section") or {}
        attrs = self._file.attrs
        attrs["cross_section"] = _number(xs.get("value"))
        attrs["cross_section_error"] = _number(xs.get("error"))
        attrs["cross_section_unit"] = str(xs.get("unit", ""))
        attrs["max_weight"] = _number(summary.get("max_weight"))
        attrs["n_events"] = self.n_events
        attrs["hepflow_version"] = hepflow.__version__
        attrs["summary"] = json.dumps(summary, default=str, sort_keys=True)
        self._file.close()
        self._file = None


def _number(x: Any) -> float:
    return math.nan if x is None else float(x)


def _members(group: h5py.Group, key: str) -> dict[str, str]:
    """{original name: dataset path} of a group's columns, in the order they were written."""
    found = {str(d.attrs[key]): d.name for d in group.values()}
    order = json.loads(group.attrs.get("order", "[]"))
    return {k: found[k] for k in order if k in found} | found


class Hdf5Reader:
    """Reads hepflow's columnar HDF5 event files back into EventBatch chunks.

    ``info``: ``cross_section`` {"value", "error", "unit"}, ``max_weight``, ``n_events``,
    ``weight_ids``, ``extras`` and the stored run ``summary`` (with the ``card``).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise hepflow.HepflowError(f"HDF5 input {str(self.path)!r} does not exist")
        try:
            with h5py.File(self.path, "r") as f:
                if f.attrs.get("format") != FORMAT:
                    raise hepflow.HepflowError(
                        f"HDF5 input {str(self.path)!r} is not a hepflow event file (its "
                        f"'format' attribute is {f.attrs.get('format')!r}, not {FORMAT!r})"
                    )
                attrs = dict(f.attrs)
                self._variations = _members(f["events/weight_variations"], "id")
                self._extras = _members(f["events/extras"], "name")
                self._optional = [n for n in ("mass", "spin") if f"particles/{n}" in f]
                n_events = f["events/weight"].shape[0]
        except OSError as exc:
            raise hepflow.HepflowError(
                f"HDF5 input {str(self.path)!r} cannot be read: {exc}"
            ) from exc
        summary = json.loads(attrs.get("summary", "{}"))
        max_weight = float(attrs.get("max_weight", math.nan))
        self.info = {
            "format": "hdf5",
            "path": str(self.path),
            "n_events": int(n_events),
            "cross_section": {
                "value": float(attrs.get("cross_section", math.nan)),
                "error": float(attrs.get("cross_section_error", math.nan)),
                "unit": str(attrs.get("cross_section_unit", "")),
            },
            "max_weight": None if math.isnan(max_weight) else max_weight,
            "weight_ids": list(self._variations),
            "extras": list(self._extras),
            "summary": summary,
            "card": summary.get("card"),
        }

    def batches(self, chunk_size: int = 10_000) -> Iterator[hepflow.EventBatch]:
        """EventBatch chunks of at most ``chunk_size`` events, in file order."""
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        with h5py.File(self.path, "r") as f:
            counts_all = f["events/n_particles"]
            offsets = f["events/offset"]
            n = counts_all.shape[0]
            for start in range(0, n, chunk_size):
                stop = min(start + chunk_size, n)
                counts = counts_all[start:stop].astype(np.int64)
                p0 = int(offsets[start])
                p1 = p0 + int(counts.sum())
                yield numpy_to_batch(
                    n_particles=counts,
                    pdg_id=f["particles/pdg_id"][p0:p1],
                    status=f["particles/status"][p0:p1],
                    mothers=f["particles/mothers"][p0:p1],
                    color=f["particles/color"][p0:p1],
                    momentum=f["particles/momentum"][p0:p1],
                    mass=f["particles/mass"][p0:p1] if "mass" in self._optional else None,
                    spin=f["particles/spin"][p0:p1] if "spin" in self._optional else None,
                    weight=f["events/weight"][start:stop],
                    weight_variations={k: f[p][start:stop] for k, p in self._variations.items()},
                    extras={k: f[p][start:stop] for k, p in self._extras.items()},
                )
