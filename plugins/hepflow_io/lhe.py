"""The ``lhe`` writer and reader: Les Houches Event files (LHEF 3.0), plain or gzipped.

Writer
------
The file is what Pythia 8, Herwig and pylhe read::

    <LesHouchesEvents version="3.0">
    <header>
      <hepflow_card format="json">{...the run card...}</hepflow_card>
      <hepflow_run format="json">{...cross section, generation stats, column layout...}</hepflow_run>
      <initrwgt><weightgroup name="hepflow"><weight id="ID">ID</weight>...</weightgroup></initrwgt>
    </header>
    <init>
     IDBMUP(1) IDBMUP(2) EBMUP(1) EBMUP(2) PDFGUP(1) PDFGUP(2) PDFSUP(1) PDFSUP(2) IDWTUP NPRUP
     XSECUP XERRUP XMAXUP LPRUP        (one line per process)
    <generator name="hepflow" version="...">...</generator>
    </init>
    <event>
     NUP IDPRUP XWGTUP SCALUP AQEDUP AQCDUP
     IDUP ISTUP MOTHUP(1) MOTHUP(2) ICOLUP(1) ICOLUP(2) PUP(1..5) VTIMUP SPINUP   (per particle)
    <rwgt><wgt id='ID'>value</wgt>...</rwgt>
    </event>
    ...
    </LesHouchesEvents>

The structural blocks (``<header>``, ``<initrwgt>``, ``<init>``, ``<generator>``) are pylhe 2.x
data classes (``LHEHeader``, ``LHEInitRWGT``, ``LHEInit``, ``LHEInitInfo``, ``LHEProcInfo``,
``LHEGenerator``) serialised by pylhe. Events are formatted here, whole columns at a time
with numpy (``_format.py``): every float with 17 significant digits, which read back bit for
bit, where pylhe's ``LHEEvent.tolhe`` rounds momenta to 9 and ``<rwgt>`` weights to 5
significant digits; building one pylhe object per particle, or calling ``repr`` per number,
is 5-10 times slower (benchmarks/io.py).

Choices, as LHEF leaves them to the writer:

* IDWTUP (weighting strategy): 3 for unweighted events (the summary has a ``max_weight``),
  4 for weighted ones (XWGTUP in pb, the cross section is their mean); negated (-3, -4) when
  any event weight is negative.
* Processes: one ``<init>`` line per ``process_id`` extra (1 when absent). With one process,
  XSECUP/XERRUP are the run's cross section and error; with several, each gets the share of
  the cross section (and of its error) in proportion to its sum of event weights. XMAXUP is the
  largest |XWGTUP| of the process's events.
* Units: LHEF wants pb; the cross section is written as the summary gives it (``unit`` is
  recorded in ``<hepflow_run>``).
* Beams: ``beam_pdg`` (default e- e+), ``beam_energy`` in GeV (one value for both beams, or a
  pair; by default the energies of the incoming particles of the first event, which is exact
  for a lepton collider without initial-state radiation), ``pdf_id`` (LHAPDF ids, 0: none) and
  ``pdf_group`` (the obsolete PDFLIB group, 0).
* Missing per-event columns: SCALUP, AQEDUP, AQCDUP = -1 (undefined, in LHEF's convention);
  VTIMUP = 0; SPINUP = 9 (unknown) when the batch has no ``spin``; PUP(5) = the invariant mass
  of the momentum when it has no ``mass``. Extras other than ``process_id``, ``scale``,
  ``alpha_qed``, ``alpha_s`` have no place in LHE and are not written.

XSECUP is known only when the run ends, so events go to a temporary body file
(``.<name>.<pid>.body.tmp``) and ``close`` assembles header, ``<init>`` and body into the
temporary target, gzip-compressed when the name ends in ``.gz``, which it then renames.

Reader
------
``LheReader(path)`` reads any LHE file pylhe reads (MadGraph, Sherpa, WHIZARD, POWHEG; plain or
gzipped) into EventBatch chunks; ``info`` holds beams, PDFs, weighting strategy, processes,
weight ids, generators and, for files hepflow wrote, the run card. A file that ends early
(a truncated download, a killed job) is an error naming the file, the line and column where
the XML stops and the number of complete events before it.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import shutil
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import quoteattr

import numpy as np

import hepflow

from ._common import AtomicWriter, batch_to_numpy, numpy_to_batch
from ._format import drop_nul, float_field, int_field, row

if TYPE_CHECKING:
    import pylhe

__all__ = ["LheReader", "LheWriter"]


@cache
def _pylhe():
    """pylhe, imported on first use: it pulls in vector and sympy (about a second), which
    every `hepflow` command would otherwise pay at plugin discovery."""
    import pylhe

    return pylhe


@cache
def _full_precision():
    """pylhe's formats with every float as repr (full precision) for the <init> block."""
    return _pylhe().LHEXMLFormat(
        initinfo=(
            " {beamA:d} {beamB:d} {energyA!r} {energyB!r} {PDFgroupA:d} {PDFgroupB:d} "
            "{PDFsetA:d} {PDFsetB:d} {weightingStrategy:d} {numProcesses:d}"
        ),
        procinfo=" {xSection!r} {error!r} {unitWeight!r} {procId:d}",
    )


_LHE_EXTRAS = ("process_id", "scale", "alpha_qed", "alpha_s")
_CARD_TAG = "hepflow_card"
_RUN_TAG = "hepflow_run"


_BLOCK = 4096  # events formatted at once


def _event_text(
    counts: np.ndarray,
    per_event: list[np.ndarray],
    per_particle: list[np.ndarray],
    variations: list[np.ndarray],
    ids: list[str],
) -> bytes:
    """The <event> blocks of a run of events, every number formatted column by column."""
    n, n_part = len(counts), len(per_particle[0])
    pid, weight, scale, aqed, aqcd = per_event
    head = row(
        n, b"<event>\n ", int_field(counts), b" ", int_field(pid), b" ", float_field(weight),
        b" ", float_field(scale), b" ", float_field(aqed), b" ", float_field(aqcd), b"\n",
    )  # fmt: skip
    ints, floats = per_particle[:6], per_particle[6:]
    parts = [b" ", int_field(ints[0])]
    for c in ints[1:]:
        parts += [b" ", int_field(c)]
    for j, c in enumerate(floats):
        parts += [b" 0.0 " if j == len(floats) - 1 else b" ", float_field(c)]
    particles = row(n_part, *parts, b"\n")
    # one row of text per event: head, its particles (NUL rows pad to the largest count),
    # the weight variations and the closing tags; the NULs are dropped at the end
    width = int(counts.max())
    if np.all(counts == width):
        padded = particles.reshape(n, width * particles.shape[1])
    else:
        padded = np.zeros((n, width, particles.shape[1]), np.uint8)
        within = np.arange(n_part) - np.repeat(np.cumsum(counts) - counts, counts)
        padded[np.repeat(np.arange(n), counts), within] = particles
        padded = padded.reshape(n, -1)
    pieces = [head, padded]
    for k, (key, values) in enumerate(zip(ids, variations, strict=True)):
        tag = ("<rwgt>\n" if k == 0 else "") + f"<wgt id={quoteattr(key)}>"
        pieces.append(row(n, tag.encode(), float_field(values), b"</wgt>\n"))
    pieces.append(row(n, b"</rwgt>\n</event>\n" if variations else b"</event>\n"))
    return drop_nul(np.concatenate(pieces, axis=1))


def _pair(value: Any, name: str, kind: type) -> tuple[Any, Any]:
    """A per-beam option: one value for both beams, or a pair."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"{name} must be one value or a pair (beam A, beam B), got {value!r}")
        return kind(value[0]), kind(value[1])
    return kind(value), kind(value)


def _number(x: Any) -> float:
    """A summary number as a float; NaN where the summary has none."""
    return math.nan if x is None else float(x)


class LheWriter(AtomicWriter):
    """Les Houches Event file (LHEF 3.0; ``.lhe.gz`` is gzipped), floats at full precision.

    Options: ``path``; ``overwrite=True`` to replace an existing file; ``beam_pdg`` (PDG ids of
    beams A and B; default: the integrand's ``beam_pdg``, else [11, -11]); ``beam_energy`` (GeV,
    one value or a pair; default: the integrand's ``beam_energy``, else the incoming particles'
    energies in the first event); ``pdf_id`` (LHAPDF id per beam, 0 for
    none); ``pdf_group`` (PDFLIB group, 0); ``compresslevel`` of gzip (1-9, default 6).
    """

    format_name = "LHE"

    def __init__(
        self,
        path: str | os.PathLike[str],
        overwrite: bool = False,
        run_info: Mapping[str, Any] | None = None,
        beam_pdg: Sequence[int] | None = None,
        beam_energy: float | Sequence[float] | None = None,
        pdf_id: int | Sequence[int] | None = None,
        pdf_group: int | Sequence[int] = 0,
        compresslevel: int = 6,
    ) -> None:
        # beams: the card's options win, then what the integrand declared (run_info), then e- e+
        known = run_info or {}
        beam_pdg = beam_pdg if beam_pdg is not None else known.get("beam_pdg") or (11, -11)
        if beam_energy is None:
            beam_energy = known.get("beam_energy")
        self.beam_pdg = _pair(beam_pdg, "beam_pdg", int)
        self.beam_energy = None if beam_energy is None else _pair(beam_energy, "beam_energy", float)
        if self.beam_energy is not None and not all(e > 0 for e in self.beam_energy):
            raise ValueError(f"beam_energy must be positive GeV, got {beam_energy!r}")
        if pdf_id is None:  # the card's option, else the integrand's PDF set (LHAPDF id)
            pdf_id = known.get("pdf_id") or 0
        self.pdf_id = _pair(pdf_id, "pdf_id", int)
        self.pdf_group = _pair(pdf_group, "pdf_group", int)
        if not 1 <= int(compresslevel) <= 9:
            raise ValueError(f"compresslevel must be 1 to 9, got {compresslevel!r}")
        self.compresslevel = int(compresslevel)
        super().__init__(path, overwrite=overwrite, run_info=run_info)
        self.body_path = self.path.with_name(f".{self.path.name}.{os.getpid()}.body.tmp")
        self.gzipped = self.path.name.endswith(".gz")
        self._body = None

    def _temporaries(self) -> list[Path]:
        return [self.tmp_path, self.body_path]

    # -- life cycle -------------------------------------------------------------------------
    def _open(self) -> None:
        self._body = open(self.body_path, "wb")  # noqa: SIM115
        self._processes: dict[int, list[float]] = {}  # id -> [sum w, max |w|, n]
        self._negative = False
        self._variation_ids: list[str] | None = None
        self._extras: list[str] | None = None
        self._has_mass = True
        self._has_spin = True
        self._first_energies: tuple[float, float] | None = None

    def _abort(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def _write(self, events: hepflow.EventBatch) -> None:
        cols = batch_to_numpy(events)
        n = len(cols["weight"])
        ids = list(cols["weight_variations"])
        if self._variation_ids is None:
            self._variation_ids = ids
            self._extras = [k for k in _LHE_EXTRAS if k in cols["extras"]]
            self._first_energies = self._incoming_energies(cols)
        elif ids != self._variation_ids:
            raise hepflow.HepflowError(
                f"LHE writer for {self.path}: batch has weight variations {ids}, but the file "
                f"declares {self._variation_ids} in <initrwgt>; every batch needs the same ids"
            )
        self._has_mass &= cols["mass"] is not None
        self._has_spin &= cols["spin"] is not None

        extras = cols["extras"]
        weight = cols["weight"]
        pid = extras.get("process_id")
        pid = np.ones(n, np.int64) if pid is None else np.asarray(pid).astype(np.int64)
        self._negative |= bool((weight < 0).any())
        for p in np.unique(pid):
            w = weight[pid == p]
            acc = self._processes.setdefault(int(p), [0.0, 0.0, 0])
            acc[0] += float(w.sum())
            acc[1] = max(acc[1], float(np.abs(w).max()))
            acc[2] += len(w)

        mom = cols["momentum"]
        mass = cols["mass"]
        if mass is None:
            m2 = mom[:, 0] ** 2 - (mom[:, 1:] ** 2).sum(axis=1)
            mass = np.sqrt(np.clip(m2, 0.0, None))
        spin = cols["spin"]
        spin = np.full(len(mom), 9.0) if spin is None else spin
        undefined = np.full(n, -1.0)
        per_event = [pid, weight] + [
            undefined if extras.get(k) is None else np.asarray(extras[k], np.float64)
            for k in ("scale", "alpha_qed", "alpha_s")
        ]
        per_particle = [
            cols["pdg_id"], cols["status"], *cols["mothers"].T, *cols["color"].T,
            mom[:, 1], mom[:, 2], mom[:, 3], mom[:, 0], mass, spin,
        ]  # fmt: skip
        variations = [cols["weight_variations"][k] for k in ids]
        counts = cols["n_particles"]
        offsets = np.concatenate([[0], np.cumsum(counts)])
        for a in range(0, n, _BLOCK):  # blocks that stay in the CPU cache
            b = min(a + _BLOCK, n)
            p0, p1 = int(offsets[a]), int(offsets[b])
            self._body.write(
                _event_text(
                    counts[a:b],
                    [c[a:b] for c in per_event],
                    [c[p0:p1] for c in per_particle],
                    [v[a:b] for v in variations],
                    ids,
                )
            )

    @staticmethod
    def _incoming_energies(cols: dict[str, Any]) -> tuple[float, float] | None:
        """Energies of the two incoming particles of the first event (A along +z, B along -z)."""
        k = int(cols["n_particles"][0])
        status, mom = cols["status"][:k], cols["momentum"][:k]
        incoming = mom[status == -1]
        if len(incoming) != 2:
            return None
        a, b = (incoming[0], incoming[1]) if incoming[0][3] >= incoming[1][3] else incoming[::-1]
        return float(a[0]), float(b[0])

    def _finish(self, summary: dict[str, Any]) -> None:
        self._body.close()
        self._body = None
        header = self._header(summary).tolhe(lheformat=_full_precision()).rstrip("\n")
        init = self._init(summary).tolhe(lheformat=_full_precision())
        head = f'<LesHouchesEvents version="3.0">\n{header}\n{init}\n'
        with open(self.tmp_path, "wb") as raw, open(self.body_path, "rb") as body:
            # mtime=0 and the final name in the gzip header: the same events give the same bytes
            out = (
                gzip.GzipFile(
                    self.path.name.removesuffix(".gz"),
                    mode="wb",
                    compresslevel=self.compresslevel,
                    fileobj=raw,
                    mtime=0,
                )
                if self.gzipped
                else raw
            )
            out.write(head.encode("utf-8"))
            shutil.copyfileobj(body, out, 1 << 20)
            out.write(b"</LesHouchesEvents>\n")
            out.close()  # the gzip trailer; raw is closed by the with block
        self.body_path.unlink()

    # -- the blocks pylhe serialises ---------------------------------------------------------
    def _header(self, summary: dict[str, Any]) -> pylhe.LHEHeader:
        card = ET.Element(_CARD_TAG, {"format": "json"})
        card.text = json.dumps(summary.get("card") or {}, default=str, indent=1)
        run = ET.Element(_RUN_TAG, {"format": "json"})
        run.text = json.dumps(
            {
                "hepflow_version": hepflow.__version__,
                "cross_section": summary.get("cross_section"),
                "max_weight": summary.get("max_weight"),
                "generation": summary.get("generation"),
                "n_events": self.n_events,
                "layout": {
                    "extras": self._extras or [],
                    "mass": bool(self._has_mass and self._extras is not None),
                    "spin": bool(self._has_spin and self._extras is not None),
                    "weight_variations": self._variation_ids or [],
                },
            },
            default=str,
        )
        entries = []
        if self._variation_ids:
            group = _pylhe().LHEInitRWGTWeightGroup(
                name="hepflow",
                weights=[_pylhe().LHEInitRWGTWeight(id=k, name=k) for k in self._variation_ids],
            )
            entries.append(group)
        return _pylhe().LHEHeader(
            initrwgt=_pylhe().LHEInitRWGT(entries=entries), extra_elements=[card, run]
        )

    def _init(self, summary: dict[str, Any]) -> pylhe.LHEInit:
        xs = summary.get("cross_section") or {}
        sigma, error = _number(xs.get("value")), _number(xs.get("error"))
        unweighted = summary.get("max_weight") is not None
        strategy = (3 if unweighted else 4) * (-1 if self._negative else 1)
        processes = self._processes or {1: [1.0, 0.0, 0]}
        total = sum(acc[0] for acc in processes.values())
        procs = []
        for p, (sum_w, max_w, _) in sorted(processes.items()):
            share = 1.0 if len(processes) == 1 else (sum_w / total if total else math.nan)
            procs.append(
                _pylhe().LHEProcInfo(
                    xSection=float(sigma * share),
                    error=float(abs(error * share)),
                    unitWeight=float(max_w),
                    procId=int(p),
                )
            )
        energies = self.beam_energy or self._first_energies
        if energies is None:
            raise hepflow.HepflowError(
                f"LHE writer for {self.path}: cannot tell the beam energies (no events, or the "
                "first event has no two incoming particles); set beam_energy in the [[output]] "
                "table"
            )
        info = _pylhe().LHEInitInfo(
            beamA=self.beam_pdg[0],
            beamB=self.beam_pdg[1],
            energyA=float(energies[0]),
            energyB=float(energies[1]),
            PDFgroupA=self.pdf_group[0],
            PDFgroupB=self.pdf_group[1],
            PDFsetA=self.pdf_id[0],
            PDFsetB=self.pdf_id[1],
            weightingStrategy=strategy,
            numProcesses=len(procs),
        )
        gen = _pylhe().LHEGenerator(
            name="hepflow", version=hepflow.__version__, description="hepflow event generation"
        )
        return _pylhe().LHEInit(initInfo=info, procInfo=procs, generators=[gen])


# -- reader ------------------------------------------------------------------------------------
class LheReader:
    """Reads a Les Houches Event file (plain or gzipped) into EventBatch chunks, via pylhe.

    ``info``: ``beams`` [(pdg, energy GeV), (pdg, energy GeV)], ``pdf_id``, ``pdf_group``,
    ``weighting_strategy`` (IDWTUP), ``processes`` [{"id", "cross_section", "error",
    "max_weight"}], ``cross_section`` {"value", "error", "unit"} (sum over processes),
    ``weight_ids`` (the ``<initrwgt>`` ids, or those of the first event when undeclared),
    ``generators``, ``version``, and for files hepflow wrote ``card`` and ``run``.

    Batches carry ``extras`` process_id, scale, alpha_qed, alpha_s (for hepflow's own files,
    the ones it wrote), ``weight_variations`` by weight id (NaN where an event lacks one),
    ``mass`` and ``spin``. Lifetimes (VTIMUP) are not kept.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise hepflow.HepflowError(f"LHE input {str(self.path)!r} does not exist")
        lhef = self._open()
        try:
            self.info = self._read_info(lhef)
            if not self.info["weight_ids"]:
                first = self._next_chunk(iter(lhef.events), 1, 0)
                if first:
                    self.info["weight_ids"] = list(first[0].weights)
        finally:
            lhef.events.close()

    # -- pylhe, with its parse warnings turned into errors ----------------------------------
    def _fail(self, what: str, caught: list[warnings.WarningMessage], n_read: int) -> None:
        problems = [str(w.message) for w in caught if str(w.message).startswith("Parse Error")]
        if problems:
            raise hepflow.HepflowError(
                f"LHE input {str(self.path)!r} is truncated or malformed: "
                f"{problems[0].removeprefix('Parse Error: ')} ({what}, after {n_read} complete "
                "events); regenerate or re-download the file"
            )
        for w in caught:  # anything else pylhe said is passed on
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)

    def _open(self) -> pylhe.LHEFile:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                lhef = _pylhe().LHEFile.fromfile(self.path, with_attributes=True, generator=True)
            except (ValueError, EOFError, OSError, AttributeError) as exc:
                self._fail("in the header or <init>", caught, 0)
                raise hepflow.HepflowError(
                    f"LHE input {str(self.path)!r} cannot be read: {exc}"
                ) from exc
        self._fail("in the header or <init>", caught, 0)
        return lhef

    def _next_chunk(self, events: Iterator[Any], size: int, n_read: int) -> list[Any]:
        chunk: list[Any] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                for ev in events:
                    chunk.append(ev)
                    if len(chunk) >= size:
                        break
            except EOFError as exc:  # a gzip stream cut short
                raise hepflow.HepflowError(
                    f"LHE input {str(self.path)!r} is truncated: {exc} (stopped at event "
                    f"{n_read + len(chunk) + 1}, after {n_read + len(chunk)} complete events); "
                    "regenerate or re-download the file"
                ) from exc
            except (ValueError, IndexError, KeyError, OSError) as exc:
                raise hepflow.HepflowError(
                    f"LHE input {str(self.path)!r}: cannot read event {n_read + len(chunk) + 1}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
        self._fail(f"stopped at event {n_read + len(chunk) + 1}", caught, n_read + len(chunk))
        return chunk

    def _read_info(self, lhef: pylhe.LHEFile) -> dict[str, Any]:
        init = lhef.init.initInfo
        procs = [
            {
                "id": p.procId,
                "cross_section": p.xSection,
                "error": p.error,
                "max_weight": p.unitWeight,
            }
            for p in lhef.init.procInfo
        ]
        info: dict[str, Any] = {
            "format": "lhe",
            "path": str(self.path),
            "version": lhef.version,
            "beams": [(init.beamA, init.energyA), (init.beamB, init.energyB)],
            "pdf_group": (init.PDFgroupA, init.PDFgroupB),
            "pdf_id": (init.PDFsetA, init.PDFsetB),
            "weighting_strategy": init.weightingStrategy,
            "processes": procs,
            "cross_section": {
                "value": sum(p["cross_section"] for p in procs),
                "error": math.sqrt(sum(p["error"] ** 2 for p in procs)),
                "unit": "pb",
            },
            "generators": [
                {"name": g.name, "version": g.version, "description": g.description}
                for g in lhef.init.generators
            ],
            "weight_ids": [],
        }
        if lhef.header is not None:
            info["weight_ids"] = lhef.header.initrwgt.list_weights_ids()
            for el in lhef.header.extra_elements:
                if el.tag in (_CARD_TAG, _RUN_TAG) and el.text:
                    key = "card" if el.tag == _CARD_TAG else "run"
                    try:
                        info[key] = json.loads(el.text)
                    except json.JSONDecodeError:
                        info[key] = el.text
        run = info.get("run")
        if isinstance(run, dict) and isinstance(run.get("cross_section"), dict):
            info["cross_section"] = run["cross_section"]
        layout = run.get("layout") if isinstance(run, dict) else None
        self._layout = layout if isinstance(layout, dict) else None
        return info

    # -- the EventReader contract -------------------------------------------------------------
    def batches(self, chunk_size: int = 10_000) -> Iterator[hepflow.EventBatch]:
        """EventBatch chunks of at most ``chunk_size`` events, in file order."""
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        lhef = self._open()
        events = iter(lhef.events)
        n_read = 0
        try:
            while True:
                chunk = self._next_chunk(events, chunk_size, n_read)
                if not chunk:
                    return
                n_read += len(chunk)
                yield self._to_batch(chunk)
        finally:
            lhef.events.close()

    def _to_batch(self, chunk: list[Any]) -> hepflow.EventBatch:
        ids = self.info["weight_ids"]
        layout = self._layout
        extras_wanted = _LHE_EXTRAS if layout is None else tuple(layout.get("extras", ()))
        int_cols: list[int] = []  # per particle: id, status, mother1, mother2, color1, color2
        float_cols: list[float] = []  # per particle: E, px, py, pz, m, spin
        counts, info_rows = [], []
        variations: dict[str, list[float]] = {k: [] for k in ids}
        for ev in chunk:
            parts = ev.particles
            counts.append(len(parts))
            e = ev.eventinfo
            info_rows.append((e.pid, e.weight, e.scale, e.aqed, e.aqcd))
            for p in parts:
                int_cols += (p.id, p.status, p.mother1, p.mother2, p.color1, p.color2)
                float_cols += (p.e, p.px, p.py, p.pz, p.m, p.spin)
            for k in ids:
                variations[k].append(ev.weights.get(k, math.nan))
        ints = np.array(int_cols, dtype=np.int64).reshape(-1, 6)
        floats = np.array(float_cols, dtype=np.float64).reshape(-1, 6)
        per_event = np.array(info_rows, dtype=np.float64).reshape(-1, 5)
        all_extras = {
            "process_id": np.array([r[0] for r in info_rows], dtype=np.int64),
            "scale": per_event[:, 2],
            "alpha_qed": per_event[:, 3],
            "alpha_s": per_event[:, 4],
        }
        return numpy_to_batch(
            n_particles=np.array(counts, dtype=np.int64),
            pdg_id=ints[:, 0],
            status=ints[:, 1],
            mothers=ints[:, 2:4],
            color=ints[:, 4:6],
            momentum=floats[:, 0:4],
            mass=floats[:, 4] if layout is None or layout.get("mass") else None,
            spin=floats[:, 5] if layout is None or layout.get("spin") else None,
            weight=per_event[:, 1],
            weight_variations={k: np.array(v, dtype=np.float64) for k, v in variations.items()},
            extras={k: all_extras[k] for k in extras_wanted if k in all_extras},
        )
