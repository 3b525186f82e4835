"""Progress bars for long loops: shown on a terminal, silent in pipes, logs and CI."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm

__all__ = ["progress_bar"]


def progress_bar(total: int, desc: str, *, enabled: bool = True, unit: str = "it") -> tqdm:
    """A tqdm bar on stderr, disabled when ``enabled`` is false or stderr is not a terminal."""
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        disable=not (enabled and sys.stderr.isatty()),
        file=sys.stderr,
        leave=False,
        dynamic_ncols=True,
    )
