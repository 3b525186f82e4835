"""Shared machinery of the io writers: the safe-output life cycle and numpy <-> EventBatch.

Every writer here follows hepflow's rules for outputs (ARCHITECTURE.md, "Errors"):

* an existing target is refused unless ``overwrite=True``, when the writer is created (so a run
  fails before an hour of integration, not after) and again when it is renamed;
* everything is written to a hidden temporary file beside the target,
  ``.<name>.<pid>.tmp``, which ``close`` renames to the target in one ``os.replace``;
* an exception inside the ``with`` block removes the temporary file and leaves an earlier
  target untouched; leaving the block without ``close`` closes with the ``run_info`` as
  summary.
"""

from __future__ import annotations

import abc
import contextlib
import errno
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

import hepflow

__all__ = [
    "EXTRA_DTYPES",
    "AtomicWriter",
    "OutputWriteError",
    "batch_to_numpy",
    "concat_numpy",
    "numpy_to_batch",
    "safe_name",
]

# Per-event extras that LHE knows by name, with the dtype our readers give them.
EXTRA_DTYPES = {
    "process_id": np.int64,
    "scale": np.float64,
    "alpha_qed": np.float64,
    "alpha_s": np.float64,
}


class OutputWriteError(hepflow.HepflowError):
    """The operating system refused to write an output (full disk, read-only place, quota)."""


_FIXES = {
    errno.ENOSPC: "free disk space or write to another file system (output_dir in the card)",
    errno.EDQUOT: "free space in your quota or write elsewhere (output_dir in the card)",
    errno.EFBIG: "the file system or a limit (ulimit -f) caps file size; write elsewhere or "
    "split the run (fewer events per file, --executor dask shards)",
    errno.EROFS: "the file system is read-only; choose a writable output_dir",
    errno.EACCES: "you may not write there; choose a writable output_dir or fix its permissions",
    errno.EPERM: "you may not write there; choose a writable output_dir or fix its permissions",
}


def write_error(what: str, path: Path, exc: OSError) -> OutputWriteError:
    """A clear error for an OSError met while writing ``path``: what failed, why, the fix."""
    fix = _FIXES.get(exc.errno, "check that the output folder is writable and has free space")
    reason = exc.strerror or str(exc)
    return OutputWriteError(
        f"cannot write {what} {str(path)!r}: {reason} [{errno.errorcode.get(exc.errno, exc.errno)}]"
        f"; {fix}. Nothing was left behind, an earlier file of that name is untouched"
    )


def safe_name(name: str) -> str:
    """A branch/dataset name made of letters, digits and underscores only."""
    return re.sub(r"[^A-Za-z0-9_]", "_", str(name))


def batch_to_numpy(events: hepflow.EventBatch) -> dict[str, Any]:
    """The one crossing from torch to numpy: every column of ``events`` on the CPU."""
    events = events.to("cpu")

    def arr(t: torch.Tensor | None) -> np.ndarray | None:
        return None if t is None else t.detach().numpy()

    return {
        "n_particles": arr(events.n_particles).astype(np.int64, copy=False),
        "pdg_id": arr(events.pdg_id),
        "status": arr(events.status),
        "mothers": arr(events.mothers).reshape(-1, 2),
        "color": arr(events.color).reshape(-1, 2),
        "momentum": arr(events.momentum).astype(np.float64, copy=False).reshape(-1, 4),
        "mass": None if events.mass is None else arr(events.mass).astype(np.float64, copy=False),
        "spin": None if events.spin is None else arr(events.spin).astype(np.float64, copy=False),
        "weight": arr(events.weight).astype(np.float64, copy=False),
        "weight_variations": {
            k: arr(v).astype(np.float64, copy=False) for k, v in events.weight_variations.items()
        },
        "extras": {k: arr(v) for k, v in events.extras.items()},
    }


def concat_numpy(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """Join numpy chunks from ``batch_to_numpy`` (same columns assumed)."""
    if len(chunks) == 1:
        return chunks[0]
    first = chunks[0]
    out: dict[str, Any] = {}
    for key, value in first.items():
        if isinstance(value, dict):
            out[key] = {k: np.concatenate([c[key][k] for c in chunks]) for k in value}
        elif value is None:
            out[key] = None
        else:
            out[key] = np.concatenate([c[key] for c in chunks])
    return out


def numpy_to_batch(
    *,
    n_particles: np.ndarray,
    pdg_id: np.ndarray,
    status: np.ndarray,
    mothers: np.ndarray,
    color: np.ndarray,
    momentum: np.ndarray,
    weight: np.ndarray,
    mass: np.ndarray | None = None,
    spin: np.ndarray | None = None,
    weight_variations: Mapping[str, np.ndarray] | None = None,
    extras: Mapping[str, np.ndarray] | None = None,
) -> hepflow.EventBatch:
    """An EventBatch (CPU, int64 ids, float64 kinematics) from numpy columns."""

    def t(a: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a)).to(dtype)

    def extra(name: str, a: np.ndarray) -> torch.Tensor:
        a = np.ascontiguousarray(a)
        return torch.from_numpy(a.astype(EXTRA_DTYPES.get(name, a.dtype), copy=False))

    return hepflow.EventBatch(
        n_particles=t(n_particles, torch.int64),
        pdg_id=t(pdg_id, torch.int64),
        status=t(status, torch.int64),
        mothers=t(np.reshape(mothers, (-1, 2)), torch.int64),
        color=t(np.reshape(color, (-1, 2)), torch.int64),
        momentum=t(np.reshape(momentum, (-1, 4)), torch.float64),
        weight=t(weight, torch.float64),
        mass=None if mass is None else t(mass, torch.float64),
        spin=None if spin is None else t(spin, torch.float64),
        weight_variations={k: t(v, torch.float64) for k, v in (weight_variations or {}).items()},
        extras={k: extra(k, v) for k, v in (extras or {}).items()},
    )


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class AtomicWriter(abc.ABC):
    """Base of the io writers: target checks, temporary file, rename at close, clean-up.

    Subclasses implement ``_open()`` (create ``self.tmp_path``), ``_write(events)``,
    ``_finish(summary)`` (complete and close the temporary file) and ``_abort()`` (close
    whatever is open, quietly; the base then deletes the temporary files).
    """

    format_name = "event"

    def __init__(
        self,
        path: str | os.PathLike[str],
        overwrite: bool = False,
        run_info: Mapping[str, Any] | None = None,
    ) -> None:
        self.path = Path(path)
        self.overwrite = bool(overwrite)
        self.run_info = dict(run_info or {})
        self.tmp_path = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self.n_events = 0
        self._open_state = False
        self._check_target()

    # -- helpers ---------------------------------------------------------------------------
    def _temporaries(self) -> list[Path]:
        """Every temporary file this writer may leave behind (subclasses add theirs)."""
        return [self.tmp_path]

    def _check_target(self) -> None:
        if self.path.exists() and not self.overwrite:
            raise hepflow.OutputExistsError(
                f"{self.format_name} output {str(self.path)!r} exists; choose another path, "
                "or pass overwrite=True (overwrite = true in the card, --overwrite) to replace it"
            )
        if not self.path.parent.is_dir():
            raise hepflow.HepflowError(
                f"cannot write {str(self.path)!r}: directory {str(self.path.parent)!r} does not "
                "exist; create it first"
            )

    def _os_error(self, exc: OSError) -> OutputWriteError:
        return write_error(f"{self.format_name} output", self.path, exc)

    def _summary(self, summary: Mapping[str, Any] | None) -> dict[str, Any]:
        """The closing summary, with anything missing taken from ``run_info``."""
        return {**self.run_info, **dict(summary or {})}

    def _discard(self) -> None:
        try:
            with contextlib.suppress(OSError):  # e.g. a full disk again while closing
                self._abort()
        finally:
            self._open_state = False
            for tmp in self._temporaries():
                with contextlib.suppress(OSError):  # a read-only place refuses even that
                    tmp.unlink(missing_ok=True)

    # -- the EventWriter contract ----------------------------------------------------------
    def __enter__(self):
        if self._open_state:
            raise hepflow.HepflowError(f"the {self.format_name} writer for {self.path} is open")
        self._check_target()
        self.n_events = 0
        try:
            self._open()
        except BaseException as exc:
            self._discard()
            if isinstance(exc, OSError):
                raise self._os_error(exc) from exc
            raise
        self._open_state = True
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            if self._open_state:
                self._discard()  # nothing half-written survives; an earlier file is untouched
        elif self._open_state:
            self.close(self.run_info)

    def write(self, events: hepflow.EventBatch) -> None:
        """Append a batch of events (on any device)."""
        if not self._open_state:
            raise hepflow.HepflowError(
                f"write() on the {self.format_name} writer for {self.path} outside its with "
                "block; use `with writer: writer.write(events)`"
            )
        if len(events) == 0:
            return
        try:
            self._write(events)
        except BaseException as exc:
            self._discard()
            if isinstance(exc, OSError):
                raise self._os_error(exc) from exc
            raise
        self.n_events += len(events)

    def close(self, summary: Mapping[str, Any] | None = None) -> None:
        """Record the run summary and rename the temporary file to the target."""
        if not self._open_state:
            raise hepflow.HepflowError(
                f"close() on the {self.format_name} writer for {self.path}: not open"
            )
        try:
            self._finish(self._summary(summary))
            _fsync(self.tmp_path)  # the data is on disk before the name points at it
            self._check_target()  # someone may have created the target meanwhile
            os.replace(self.tmp_path, self.path)
        except BaseException as exc:
            self._discard()
            if isinstance(exc, OSError):
                raise self._os_error(exc) from exc
            raise
        self._open_state = False
        for tmp in self._temporaries():
            tmp.unlink(missing_ok=True)

    # -- what a format implements ---------------------------------------------------------
    @abc.abstractmethod
    def _open(self) -> None:
        """Create and open ``self.tmp_path`` (and any other temporary file)."""

    @abc.abstractmethod
    def _write(self, events: hepflow.EventBatch) -> None:
        """Append a non-empty batch."""

    @abc.abstractmethod
    def _finish(self, summary: dict[str, Any]) -> None:
        """Complete ``self.tmp_path`` with the summary and close it."""

    @abc.abstractmethod
    def _abort(self) -> None:
        """Close whatever is open, without completing it."""
