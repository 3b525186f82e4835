"""The ``hepmc`` writer: events as HepMC3 ASCII (``.hepmc``, or ``.hepmc.gz``), via pyhepmc.

One ``GenEvent`` per event, built with pyhepmc's ``GenEvent.from_hepevt`` (C++) from the
particle columns, and written by HepMC3's own ``WriterAscii``; Rivet, Delphes and the
experiments' HepMC readers read it.

The event graph follows the LHE mothers (LHEF: MOTHUP(1)..MOTHUP(2) is the range of mothers,
as in HEPEVT): particles with the same mother range share one production vertex whose incoming
particles are that range; a single mother may be written (m, 0) or (m, m). Particles other
than the incoming ones that list no mother (some generators leave them 0) come out of the
vertex of the incoming particles. A mothers column HepMC cannot hold (an index outside the
event, a particle among its own mothers, two different ranges sharing a particle, which would
give it two end vertices) is an error naming the event.

Status codes (HepMC3 standard codes 1, 3, 4; 21 and 22 from the generator-specific range
11-200, the codes Pythia 8 gives the hard process; HepMC3's own LHEF reader also makes the
incoming particles status 4, but keeps LHE's 2 for resonances, HepMC's code for a decayed
physical particle, which analysis tools take for a decayed hadron or tau):

=========================================  ==========================================
LHE ISTUP                                  HepMC status
=========================================  ==========================================
-1 incoming, no ``beam_pdg`` given         4 (beam particle: they are the beams,
                                           e.g. e+ e- without initial-state radiation)
-1 incoming, ``beam_pdg`` given            21 (incoming parton; its parent is the beam)
1 outgoing                                 1 (final state)
2 intermediate resonance, -2 space-like    22 (intermediate of the hard process)
3 documentation                            3
=========================================  ==========================================

With ``beam_pdg`` (and ``beam_energy``), every event starts with the two beam particles
(status 4, along +z and -z with mass ``beam_mass``, by default the PDG mass of p, n, e, mu or
0 for a photon), each the parent of one incoming parton (the first incoming particle comes from
beam A, the second from beam B); momentum is not conserved at these two vertices, as the
remnants are not in the record. The event's ``beams`` are the status-4 particles. LHE's
rarely used -9 (beams in the record) is refused.

Weights: the nominal weight first, named ``nominal_weight_name`` (default ``Weight``), then
one per weight variation, named by its id with white space replaced by
``_`` (HepMC3 ASCII separates names by spaces); the run info attribute ``hepflow_run`` maps
them back. Per event, the extras become HepMC3's standard attributes
``signal_process_id`` (process_id), ``event_scale`` (scale), ``alphaQCD`` (alpha_s) and
``alphaQED`` (alpha_qed). Colour lines, spins and lifetimes are not written.

Cross section: HepMC3 keeps it per event (``GenCrossSection``, in pb: a summary in fb, nb,
ub or mb is converted; any other unit is written as it is); generators such as Pythia update it
event by event, so the last event's value is the final estimate. Every event carries the cross section the writer was created
with (``run_info``, the integration result in a pipeline), with the number of events so far;
the last event is held back until ``close`` and carries the closing summary's cross section,
the number of events and of trials (``generation.n_tried``), plus the whole summary (run
card, generation statistics, ``interrupted``) as the JSON attribute ``hepflow_summary``.
HepMC3 writes the cross section with 9 significant digits; momenta and weights are written
with 17 (bit for bit).
"""

from __future__ import annotations

import gzip
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np

import hepflow

from ._common import AtomicWriter, batch_to_numpy

__all__ = ["HepMCWriter"]

# LHE ISTUP -> HepMC status (-1: 4, or 21 with beam_pdg), as a table indexed by ISTUP + 2.
_STATUS = np.array([22, 4, 0, 1, 22, 3], dtype=np.int32)
_KNOWN_STATUS = (-2, -1, 1, 2, 3)
# GeV; the beams whose mass the writer knows (others need ``beam_mass``).
_BEAM_MASS = {2212: 0.93827208816, 2112: 0.93956542052, 11: 0.00051099895, 13: 0.1056583755, 22: 0}
_TO_PB = {"pb": 1.0, "fb": 1e-3, "nb": 1e3, "ub": 1e6, "mb": 1e9}
_EXTRA_ATTRIBUTES = {
    "process_id": ("signal_process_id", int),
    "scale": ("event_scale", float),
    "alpha_s": ("alphaQCD", float),
    "alpha_qed": ("alphaQED", float),
}


def _pair(value: Any, name: str) -> tuple[float, float]:
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"{name} must be one value or a pair (beam A, beam B), got {value!r}")
        return float(value[0]), float(value[1])
    return float(value), float(value)


@cache
def _pyhepmc():
    """pyhepmc, imported on first use (hepflow's plugin discovery does not need it)."""
    import pyhepmc

    return pyhepmc


class HepMCWriter(AtomicWriter):
    """HepMC3 ASCII events via pyhepmc (``.hepmc``; ``.hepmc.gz`` is gzipped).

    Options: ``path``; ``overwrite=True`` to replace an existing file; ``beam_pdg`` (PDG ids of
    beams A and B: add the beams as status-4 particles, parents of the incoming partons; by
    default the incoming particles are the beams); ``beam_energy`` (GeV, one value or a pair;
    needed with ``beam_pdg``); ``beam_mass`` (GeV; default from the beam's PDG id);
    ``nominal_weight_name`` (default ``Weight``); ``compresslevel`` of gzip (1-9, default 6).
    """

    format_name = "HepMC"

    def __init__(
        self,
        path: str | os.PathLike[str],
        overwrite: bool = False,
        run_info: Mapping[str, Any] | None = None,
        beam_pdg: Sequence[int] | None = None,
        beam_energy: float | Sequence[float] | None = None,
        beam_mass: float | Sequence[float] | None = None,
        nominal_weight_name: str = "Weight",
        compresslevel: int = 6,
    ) -> None:
        self.beams: tuple[tuple[int, float, float], ...] | None = None
        if beam_pdg is not None:
            if not isinstance(beam_pdg, (list, tuple)) or len(beam_pdg) != 2:
                raise ValueError(f"beam_pdg must be a pair of PDG ids, got {beam_pdg!r}")
            if beam_energy is None:
                raise ValueError("beam_pdg needs beam_energy (GeV, one value or a pair)")
            energy = _pair(beam_energy, "beam_energy")
            if beam_mass is None:
                unknown = [p for p in beam_pdg if abs(int(p)) not in _BEAM_MASS]
                if unknown:
                    raise ValueError(
                        f"no mass known for beam {unknown[0]}; give beam_mass (GeV) as well"
                    )
                mass = tuple(float(_BEAM_MASS[abs(int(p))]) for p in beam_pdg)
            else:
                mass = _pair(beam_mass, "beam_mass")
            if not all(e > m >= 0 for e, m in zip(energy, mass, strict=True)):
                raise ValueError(
                    f"beam_energy must exceed beam_mass >= 0 (GeV), got {beam_energy!r} and "
                    f"{mass!r}"
                )
            self.beams = tuple(
                (int(p), e, m) for p, e, m in zip(beam_pdg, energy, mass, strict=True)
            )
        elif beam_energy is not None or beam_mass is not None:
            raise ValueError("beam_energy and beam_mass go with beam_pdg; give beam_pdg too")
        if not str(nominal_weight_name) or re.search(r"\s", str(nominal_weight_name)):
            raise ValueError(
                f"nominal_weight_name must be a name without spaces, got {nominal_weight_name!r}"
            )
        self.nominal_weight_name = str(nominal_weight_name)
        if not 1 <= int(compresslevel) <= 9:
            raise ValueError(f"compresslevel must be 1 to 9, got {compresslevel!r}")
        self.compresslevel = int(compresslevel)
        super().__init__(path, overwrite=overwrite, run_info=run_info)
        self.gzipped = self.path.name.endswith(".gz")
        self._raw = self._gz = self._stream = self._writer = None

    # -- life cycle -------------------------------------------------------------------------
    def _open(self) -> None:
        self._variation_ids: list[str] | None = None
        self._extras: list[str] = []
        self._run = None
        self._pending = None  # the last event, written by the next write or by close
        xs = self.run_info.get("cross_section")
        self._xs = self._cross_section_pb(xs) if isinstance(xs, Mapping) else None
        # the file itself is created with the first batch, when the weight names are known;
        # this touch makes the temporary name exist from the start, as for the other writers
        self.tmp_path.touch()

    def _open_file(self, weight_names: list[str]) -> None:
        ph = _pyhepmc()
        run = ph.GenRunInfo()
        run.weight_names = weight_names
        run.tools = [
            ph.GenRunInfo.ToolInfo("hepflow", hepflow.__version__, "hepflow event generation")
        ]
        run.attributes["hepflow_run"] = json.dumps(
            {
                "hepflow_version": hepflow.__version__,
                "cross_section": self.run_info.get("cross_section"),
                "max_weight": self.run_info.get("max_weight"),
                "weight_ids": {
                    "nominal": weight_names[0],
                    **dict(zip(self._variation_ids or [], weight_names[1:], strict=True)),
                },
                "extras": self._extras,
            },
            default=str,
        )
        self._run = run
        if self.gzipped:
            self._raw = open(self.tmp_path, "wb")  # noqa: SIM115
            self._gz = gzip.GzipFile(
                self.path.name.removesuffix(".gz"),
                mode="wb",
                compresslevel=self.compresslevel,
                fileobj=self._raw,
                mtime=0,
            )
            self._stream = ph.io.pyiostream(self._gz)
            self._writer = ph.io.WriterAscii(self._stream, run)
        else:
            self._writer = ph.io.WriterAscii(str(self.tmp_path), run)
        self._check_writer()

    def _check_writer(self) -> None:
        if self._writer.failed():
            raise hepflow.HepflowError(
                f"HepMC writer for {self.path}: writing {self.tmp_path} failed (disk full or "
                "not writable?)"
            )

    def _close_file(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._stream is not None:
            self._stream.flush()
        if self._gz is not None:
            self._gz.close()
        if self._raw is not None:
            self._raw.close()
        self._writer = self._stream = self._gz = self._raw = None

    def _abort(self) -> None:
        self._pending = None
        self._close_file()

    def _weight_names(self, ids: list[str]) -> list[str]:
        names = [self.nominal_weight_name] + [re.sub(r"\s", "_", str(k)) for k in ids]
        if len(set(names)) != len(names):
            raise hepflow.HepflowError(
                f"HepMC writer for {self.path}: weight names {names} (ids with spaces replaced "
                "by _, after the nominal weight's name) are not unique; rename the weight "
                "variations or set nominal_weight_name"
            )
        return names

    @staticmethod
    def _cross_section_pb(xs: Mapping[str, Any]) -> tuple[float, float] | None:
        value, error = xs.get("value"), xs.get("error")
        if value is None:
            return None
        scale = _TO_PB.get(str(xs.get("unit") or "pb").lower(), 1.0)
        err = math.nan if error is None else float(error) * scale
        return float(value) * scale, err

    # -- events ---------------------------------------------------------------------------
    def _write(self, events: hepflow.EventBatch) -> None:
        cols = batch_to_numpy(events)
        ids = list(cols["weight_variations"])
        if self._variation_ids is None:
            self._variation_ids = ids
            self._extras = [k for k in _EXTRA_ATTRIBUTES if k in cols["extras"]]
            self._open_file(self._weight_names(ids))
        elif ids != self._variation_ids:
            raise hepflow.HepflowError(
                f"HepMC writer for {self.path}: batch has weight variations {ids}, but the file "
                f"declares {self._variation_ids}; every batch needs the same ids"
            )
        record = self._record(cols)
        counts = record["counts"]
        starts = np.concatenate([[0], np.cumsum(counts)]).tolist()
        weights = np.stack(
            [cols["weight"], *(cols["weight_variations"][k] for k in ids)], axis=1
        ).tolist()
        extras = [
            (name, kind, np.asarray(cols["extras"][k]).tolist())
            for k, (name, kind) in _EXTRA_ATTRIBUTES.items()
            if k in self._extras
        ]
        px, py, pz, en, mass = (record[k] for k in ("px", "py", "pz", "en", "mass"))
        pid, status, parents = record["pid"], record["status"], record["parents"]
        ph = _pyhepmc()
        for j in range(len(counts)):
            if self._pending is not None:
                self._emit(self._pending)
            a, b = starts[j], starts[j + 1]
            ev = ph.GenEvent(ph.Units.GEV, ph.Units.MM)
            ev.from_hepevt(
                self.n_events + j,
                px[a:b],
                py[a:b],
                pz[a:b],
                en[a:b],
                mass[a:b],
                pid[a:b],
                status[a:b],
                parents[a:b],
            )
            ev.run_info = self._run
            ev.weights = weights[j]
            for name, kind, values in extras:
                ev.attributes[name] = kind(values[j])
            self._pending = (ev, self.n_events + j + 1)

    def _emit(self, pending: tuple[Any, int], final: dict[str, Any] | None = None) -> None:
        ev, n_accepted = pending
        xs, n_tried = self._xs, -1
        if final is not None:
            xs = self._cross_section_pb(final.get("cross_section") or {}) or xs
            generation = final.get("generation") or {}
            n_tried = int(generation.get("n_tried", -1) or -1)
            ev.attributes["hepflow_summary"] = json.dumps(
                {**final, "n_events": n_accepted}, default=str
            )
        if xs is not None:
            cs = _pyhepmc().GenCrossSection()
            cs.set_cross_section(xs[0], xs[1], n_accepted, n_tried)
            ev.cross_section = cs
        self._writer.write_event(ev)
        self._pending = None
        self._check_writer()

    def _record(self, cols: dict[str, Any]) -> dict[str, Any]:
        """The HEPEVT arrays of the batch: statuses mapped, mothers checked and made ranges,
        the beams prepended when configured."""
        counts = cols["n_particles"].astype(np.int64)
        n_ev = len(counts)
        event = np.repeat(np.arange(n_ev), counts)
        offsets = np.concatenate([[0], np.cumsum(counts)])
        local = np.arange(len(event)) - offsets[event] + 1  # 1-based index within the event
        lhe_status = cols["status"].astype(np.int64)
        mothers = cols["mothers"].astype(np.int64).copy()
        m1, m2 = mothers[:, 0], mothers[:, 1]

        def fail(mask: np.ndarray, what: str) -> None:
            if mask.any():
                k = int(np.flatnonzero(mask)[0])
                raise hepflow.HepflowError(
                    f"HepMC writer for {self.path}: event {self.n_events + int(event[k])} "
                    f"(0-based), particle {int(local[k])}: {what} (status {int(lhe_status[k])}, "
                    f"mothers {int(m1[k])} {int(m2[k])})"
                )

        known = np.isin(lhe_status, _KNOWN_STATUS)
        fail(~known, "status not supported (the writer takes LHE's -1, 1, -2, 2, 3)")
        incoming = lhe_status == -1
        n_in = np.bincount(event[incoming], minlength=n_ev)
        if (n_in == 0).any():
            j = int(np.flatnonzero(n_in == 0)[0])
            raise hepflow.HepflowError(
                f"HepMC writer for {self.path}: event {self.n_events + j} (0-based) has no "
                "incoming particle (LHE status -1)"
            )
        fail(incoming & ((m1 != 0) | (m2 != 0)), "an incoming particle has mothers")
        n_of = counts[event]
        fail((m1 < 0) | (m2 < 0) | (m1 > n_of) | (m2 > n_of), "mother index outside the event")
        fail((m1 == 0) & (m2 != 0), "second mother without a first")
        m2 = np.where(m2 == 0, m1, m2)
        fail(m2 < m1, "mothers are a range first..last, but last < first")
        # orphans come from the vertex of the incoming particles, which must be adjacent
        first_in = np.full(n_ev, np.iinfo(np.int64).max)
        last_in = np.zeros(n_ev, np.int64)
        np.minimum.at(first_in, event[incoming], local[incoming])
        np.maximum.at(last_in, event[incoming], local[incoming])
        orphan = ~incoming & (m1 == 0)
        fail(
            orphan & (last_in - first_in + 1 != n_in)[event],
            "no mothers, and the incoming particles are not adjacent",
        )
        m1 = np.where(orphan, first_in[event], m1)
        m2 = np.where(orphan, last_in[event], m2)
        fail((m1 <= local) & (local <= m2), "the particle is among its own mothers")
        # one end vertex per particle: distinct mother ranges of an event must not overlap
        has = m1 > 0
        keys = np.unique(np.stack([event[has], m1[has], m2[has]], axis=1), axis=0)
        if len(keys):
            width = keys[:, 2] - keys[:, 1] + 1
            member = np.repeat(offsets[keys[:, 0]] + keys[:, 1] - 1, width) + (
                np.arange(int(width.sum())) - np.repeat(np.cumsum(width) - width, width)
            )
            seen = np.bincount(member, minlength=len(event))
            twice = seen > 1
            fail(twice, "listed in two different mother ranges (two end vertices)")

        status = _STATUS[lhe_status + 2]
        mom = cols["momentum"]
        mass = cols["mass"]
        if mass is None:
            m_sq = mom[:, 0] ** 2 - (mom[:, 1:] ** 2).sum(axis=1)
            mass = np.sqrt(np.clip(m_sq, 0.0, None))
        parents = np.stack([m1, m2], axis=1)
        if self.beams is None:
            return {
                "counts": counts,
                "px": np.ascontiguousarray(mom[:, 1]),
                "py": np.ascontiguousarray(mom[:, 2]),
                "pz": np.ascontiguousarray(mom[:, 3]),
                "en": np.ascontiguousarray(mom[:, 0]),
                "mass": np.ascontiguousarray(mass, dtype=np.float64),
                "pid": cols["pdg_id"].astype(np.int32),
                "status": status.astype(np.int32),
                "parents": parents,
            }
        # beams prepended: two more particles per event, indices shift by 2
        if (n_in != 2).any():
            j = int(np.flatnonzero(n_in != 2)[0])
            raise hepflow.HepflowError(
                f"HepMC writer for {self.path}: event {self.n_events + j} (0-based) does not "
                "have exactly two incoming partons (LHE status -1) to attach to beam_pdg's "
                "beams; leave beam_pdg out for this process"
            )
        status = np.where(lhe_status == -1, 21, status)
        parents = np.where(parents > 0, parents + 2, 0)
        rank = np.zeros(len(event), np.int64)  # 0: first incoming of its event, 1: second
        inc_idx = np.flatnonzero(incoming)
        rank[inc_idx[1::2]] = 1
        parents[incoming] = np.stack([rank[incoming] + 1, rank[incoming] + 1], axis=1)
        total = counts + 2
        new_off = np.concatenate([[0], np.cumsum(total)])
        keep = np.arange(len(event)) + 2 * (event + 1)  # where each particle goes
        n_all = int(total.sum())

        def spread(values: np.ndarray, beam_a: Any, beam_b: Any, dtype: Any) -> np.ndarray:
            out = np.empty((n_all, *values.shape[1:]), dtype=dtype)
            out[keep] = values
            out[new_off[:-1]] = beam_a
            out[new_off[:-1] + 1] = beam_b
            return out

        (pa, ea, ma), (pb, eb, mb) = ((p, e, m) for p, e, m in self.beams)
        za, zb = math.sqrt(ea * ea - ma * ma), -math.sqrt(eb * eb - mb * mb)
        return {
            "counts": total,
            "px": spread(mom[:, 1], 0.0, 0.0, np.float64),
            "py": spread(mom[:, 2], 0.0, 0.0, np.float64),
            "pz": spread(mom[:, 3], za, zb, np.float64),
            "en": spread(mom[:, 0], ea, eb, np.float64),
            "mass": spread(mass, ma, mb, np.float64),
            "pid": spread(cols["pdg_id"], pa, pb, np.int32),
            "status": spread(status, 4, 4, np.int32),
            "parents": spread(parents, 0, 0, np.int64),
        }

    def _finish(self, summary: dict[str, Any]) -> None:
        if self._writer is None:  # no events: a valid file with its header only
            self._variation_ids = []
            self._open_file(self._weight_names([]))
        if self._pending is not None:
            self._emit(self._pending, final=summary)
        self._close_file()
