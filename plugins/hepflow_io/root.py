"""The ``root`` writer and reader: events as a ROOT TTree, written and read with uproot.

Layout of the TTree ``events`` (one entry per event)::

    n_particles   int32            the counter shared by every particle branch
    pdg_id, status, mother1, mother2, color1, color2     int32[n_particles]
    E, px, py, pz                                          float64[n_particles]
    mass, spin                                             float64[n_particles] (when present)
    weight                                                 float64
    weight_<id>   float64  one per weight variation (id made of [A-Za-z0-9_])
    <extra>       the extras (scale, alpha_s, process_id...) with their own dtype

It is a TTree made with ``mktree``/``extend`` (uproot 5.7's plain assignment would write an
RNTuple, which older ROOT and most analysis code cannot read). Batches are buffered and written
in large chunks (``flush_events``, 20,000 events by default) since every ``extend`` makes one
basket per branch. The run summary (cross section, error, unit, max weight, generation
statistics, the run card) is a JSON ``TObjString`` named ``hepflow_summary``, which also maps the
weight-variation ids and extra names to their branches. In ROOT::

    auto s = (TObjString*)file->Get("hepflow_summary"); // s->GetString(): the JSON text

``RootReader`` reads such a tree back into EventBatch chunks (via ``uproot.open`` and
``TTree.iterate``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import uproot

import hepflow

from ._common import AtomicWriter, batch_to_numpy, concat_numpy, numpy_to_batch, safe_name

__all__ = ["RootReader", "RootWriter"]

TREE = "events"
SUMMARY_KEY = "hepflow_summary"
COUNTER = "n_particles"
_INT_PARTICLE = ("pdg_id", "status", "mother1", "mother2", "color1", "color2")
_FLOAT_PARTICLE = ("E", "px", "py", "pz")
_RESERVED = {COUNTER, "weight", *_INT_PARTICLE, *_FLOAT_PARTICLE, "mass", "spin"}


class RootWriter(AtomicWriter):
    """ROOT TTree ``events`` via uproot: jagged particle branches sharing one counter.

    Options: ``path``; ``overwrite=True`` to replace an existing file; ``flush_events``, the
    number of events buffered before a write (default 20,000: big baskets read fast);
    ``tree`` name (default ``events``).
    """

    format_name = "ROOT"

    def __init__(
        self,
        path: str | os.PathLike[str],
        overwrite: bool = False,
        run_info: Mapping[str, Any] | None = None,
        flush_events: int = 20_000,
        tree: str = TREE,
    ) -> None:
        if int(flush_events) < 1:
            raise ValueError(f"flush_events must be at least 1, got {flush_events!r}")
        self.flush_events = int(flush_events)
        self.tree_name = str(tree)
        super().__init__(path, overwrite=overwrite, run_info=run_info)
        self._file = None

    # -- life cycle -------------------------------------------------------------------------
    def _open(self) -> None:
        self._file = uproot.recreate(self.tmp_path)
        self._tree = None
        self._buffer: list[dict[str, Any]] = []
        self._buffered = 0
        self._layout: dict[str, Any] | None = None

    def _abort(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _write(self, events: hepflow.EventBatch) -> None:
        cols = batch_to_numpy(events)
        if self._layout is None:
            self._layout = self._make_layout(cols)
        self._check_layout(cols)
        self._buffer.append(cols)
        self._buffered += len(cols["weight"])
        if self._buffered >= self.flush_events:
            self._flush()

    def _make_layout(self, cols: dict[str, Any]) -> dict[str, Any]:
        taken = set(_RESERVED)

        def branch(name: str, prefix: str) -> str:
            base = safe_name(f"{prefix}{name}")
            out, k = base, 1
            while out in taken:
                out, k = f"{base}_{k}", k + 1
            taken.add(out)
            return out

        return {
            "mass": cols["mass"] is not None,
            "spin": cols["spin"] is not None,
            "weight_variations": {k: branch(k, "weight_") for k in cols["weight_variations"]},
            "extras": {k: branch(k, "") for k in cols["extras"]},
        }

    def _check_layout(self, cols: dict[str, Any]) -> None:
        layout = self._layout
        same = (
            layout["mass"] == (cols["mass"] is not None)
            and layout["spin"] == (cols["spin"] is not None)
            and list(layout["weight_variations"]) == list(cols["weight_variations"])
            and list(layout["extras"]) == list(cols["extras"])
        )
        if not same:
            raise hepflow.HepflowError(
                f"ROOT writer for {self.path}: a batch has other columns than the first one "
                f"(mass, spin, weight variations {list(cols['weight_variations'])}, extras "
                f"{list(cols['extras'])}); every batch of a file needs the same columns"
            )

    def _flush(self) -> None:
        if not self._buffer:
            return
        cols = concat_numpy(self._buffer)
        self._buffer, self._buffered = [], 0
        counts = cols["n_particles"]

        def jagged(a: np.ndarray, dtype: type) -> ak.Array:
            return ak.unflatten(np.ascontiguousarray(a, dtype=dtype), counts)

        data: dict[str, Any] = {}
        particle = {
            "pdg_id": cols["pdg_id"],
            "status": cols["status"],
            "mother1": cols["mothers"][:, 0],
            "mother2": cols["mothers"][:, 1],
            "color1": cols["color"][:, 0],
            "color2": cols["color"][:, 1],
        }
        for name, a in particle.items():
            data[name] = jagged(a, np.int32)
        for i, name in enumerate(_FLOAT_PARTICLE):
            data[name] = jagged(cols["momentum"][:, i], np.float64)
        for name in ("mass", "spin"):
            if self._layout[name]:
                data[name] = jagged(cols[name], np.float64)
        data["weight"] = np.ascontiguousarray(cols["weight"], dtype=np.float64)
        for k, b in self._layout["weight_variations"].items():
            data[b] = np.ascontiguousarray(cols["weight_variations"][k], dtype=np.float64)
        for k, b in self._layout["extras"].items():
            data[b] = np.ascontiguousarray(cols["extras"][k])
        if self._tree is None:
            self._tree = self._file.mktree(
                self.tree_name,
                {k: v.type if isinstance(v, ak.Array) else v.dtype for k, v in data.items()},
                title="hepflow events",
                counter_name=lambda counted: COUNTER,
            )
        self._tree.extend(data)

    def _finish(self, summary: dict[str, Any]) -> None:
        self._flush()
        if self._tree is None:  # no events at all: an empty tree, still readable
            self._layout = {"mass": False, "spin": False, "weight_variations": {}, "extras": {}}
            self._tree = self._file.mktree(
                self.tree_name,
                {
                    **{k: "var * int32" for k in _INT_PARTICLE},
                    **{k: "var * float64" for k in _FLOAT_PARTICLE},
                    "weight": np.float64,
                },
                title="hepflow events",
                counter_name=lambda counted: COUNTER,
            )
        record = {
            **summary,
            "hepflow_version": hepflow.__version__,
            "n_events": self.n_events,
            "tree": self.tree_name,
            "layout": self._layout,
        }
        self._file[SUMMARY_KEY] = json.dumps(record, default=str)
        self._file.close()
        self._file = None


class RootReader:
    """Reads a hepflow ROOT file (TTree ``events``) back into EventBatch chunks.

    ``info``: the run summary the writer stored (``cross_section``, ``max_weight``,
    ``generation``, ``card``...), plus ``n_events``, ``weight_ids`` and ``extras``.
    Option ``tree``: the TTree name (default ``events``).
    """

    def __init__(self, path: str | os.PathLike[str], tree: str | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise hepflow.HepflowError(f"ROOT input {str(self.path)!r} does not exist")
        try:
            with uproot.open(self.path) as f:
                record = json.loads(str(f[SUMMARY_KEY])) if SUMMARY_KEY in f else {}
                self.tree_name = tree or record.get("tree", TREE)
                if self.tree_name not in f:
                    raise hepflow.HepflowError(
                        f"ROOT input {str(self.path)!r} has no TTree {self.tree_name!r}; "
                        f"it holds {sorted(f.keys(cycle=False))}"
                    )
                t = f[self.tree_name]
                n_events = t.num_entries
                branches = set(t.keys())
        except (OSError, ValueError) as exc:
            raise hepflow.HepflowError(
                f"ROOT input {str(self.path)!r} cannot be read: {exc}"
            ) from exc
        layout = record.get("layout") or {
            "mass": "mass" in branches,
            "spin": "spin" in branches,
            "weight_variations": {
                b.removeprefix("weight_"): b for b in sorted(branches) if b.startswith("weight_")
            },
            "extras": {},
        }
        self._layout = layout
        self.info = {
            **record,
            "format": "root",
            "path": str(self.path),
            "n_events": n_events,
            "weight_ids": list(layout["weight_variations"]),
            "extras": list(layout["extras"]),
        }

    def batches(self, chunk_size: int = 10_000) -> Iterator[hepflow.EventBatch]:
        """EventBatch chunks of at most ``chunk_size`` events, in file order."""
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        layout = self._layout
        names = [*_INT_PARTICLE, *_FLOAT_PARTICLE, "weight"]
        names += [n for n in ("mass", "spin") if layout[n]]
        names += list(layout["weight_variations"].values()) + list(layout["extras"].values())
        with uproot.open(self.path) as f:
            tree = f[self.tree_name]
            for arrays in tree.iterate(names, step_size=chunk_size, library="ak"):
                if len(arrays) == 0:
                    continue
                yield self._to_batch(arrays)

    def _to_batch(self, arrays: ak.Array) -> hepflow.EventBatch:
        layout = self._layout

        def flat(name: str) -> np.ndarray:
            return ak.to_numpy(ak.flatten(arrays[name]))

        counts = ak.to_numpy(ak.num(arrays["pdg_id"])).astype(np.int64)
        return numpy_to_batch(
            n_particles=counts,
            pdg_id=flat("pdg_id"),
            status=flat("status"),
            mothers=np.stack([flat("mother1"), flat("mother2")], axis=1),
            color=np.stack([flat("color1"), flat("color2")], axis=1),
            momentum=np.stack([flat(n) for n in _FLOAT_PARTICLE], axis=1),
            mass=flat("mass") if layout["mass"] else None,
            spin=flat("spin") if layout["spin"] else None,
            weight=ak.to_numpy(arrays["weight"]),
            weight_variations={
                k: ak.to_numpy(arrays[b]) for k, b in layout["weight_variations"].items()
            },
            extras={k: ak.to_numpy(arrays[b]) for k, b in layout["extras"].items()},
        )
