"""A full disk and a read-only output folder, for real: each case runs in a child process in
its own user and mount namespace (``unshare``) with a 256 kB tmpfs, or a read-only one, as the
output folder. The writers must fail with an error that names the file and the fix, leave no
temporary file, and keep an earlier file of the same name as it was.

Skipped where unprivileged user namespaces are not allowed (``unshare -rm`` fails).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
EARLIER = "an earlier file, to be kept"


def _namespaces_work() -> bool:
    if shutil.which("unshare") is None or not sys.platform.startswith("linux"):
        return False
    probe = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True
    )
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(
    not _namespaces_work(), reason="needs unprivileged user+mount namespaces (unshare -rm)"
)


def run_in_small_fs(tmp_path: Path, body: str, *, read_only: bool) -> dict:
    """Run ``body`` (Python; ``OUT`` is the output folder, ``EARLIER`` the earlier file's text)
    with OUT a 256 kB tmpfs (remounted read-only if asked); returns what it prints as JSON."""
    out = tmp_path / "out"
    out.mkdir()
    script = tmp_path / "child.py"
    script.write_text(
        "import json, os, sys\n"
        "from pathlib import Path\n"
        f"OUT = Path({str(out)!r})\n"
        f"EARLIER = {EARLIER!r}\n" + textwrap.dedent(body)
    )
    remount = f" && mount -o remount,ro {out}" if read_only else ""
    shell = (
        f"mount -t tmpfs -o size=256k tmpfs {out} && "
        f"printf %s '{EARLIER}' > {out}/events.lhe && "
        f"printf %s '{EARLIER}' > {out}/events.root && "
        f"printf %s '{EARLIER}' > {out}/events.h5"
        f"{remount} && OMP_NUM_THREADS=1 PYTHONPATH={HERE} {sys.executable} {script}"
    )
    proc = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", shell],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


WRITE_EVENTS = """
import hepflow
from io_helpers import RUN_INFO, make_events

CASES = {cases!r}
batches = [make_events(2000, seed=k) for k in range(5)]
results = {{}}
for fmt, (name, options) in CASES.items():
    target = OUT / name
    error = None
    try:
        writer = hepflow.create(
            "writer", fmt, path=str(target), overwrite=True, run_info=RUN_INFO, **options
        )
        with writer:
            for batch in batches:
                writer.write(batch)
            writer.close(RUN_INFO)
    except hepflow.HepflowError as exc:
        error = f"{{type(exc).__name__}}: {{exc}}"
    results[fmt] = {{
        "error": error,
        "files": sorted(os.listdir(OUT)),
        "earlier": target.read_text(errors="replace"),
    }}
print(json.dumps(results))
"""

CASES = {
    "lhe": ("events.lhe", {"beam_energy": 50.0}),
    "root": ("events.root", {}),
    "hdf5": ("events.h5", {}),
}
ALL_FILES = ["events.h5", "events.lhe", "events.root"]


@pytest.mark.slow  # a child process each: ~13 s on two shared cores
@pytest.mark.parametrize("read_only", [False, True], ids=["full", "read-only"])
def test_writers_give_a_clear_error_and_leave_nothing_behind(tmp_path, read_only):
    results = run_in_small_fs(tmp_path, WRITE_EVENTS.format(cases=CASES), read_only=read_only)
    assert sorted(results) == sorted(CASES)
    for fmt, result in results.items():
        error = result["error"]
        assert error is not None, f"{fmt}: writing ~2 MB must fail"
        assert error.startswith("OutputWriteError: "), error
        assert str(tmp_path / "out" / CASES[fmt][0]) in error  # names the file
        if read_only:
            assert "Read-only file system" in error and "[EROFS]" in error, error  # says why
            assert "choose a writable output_dir" in error  # and the fix
        else:
            assert "No space left on device" in error and "[ENOSPC]" in error, error
            assert "free disk space" in error
        assert result["files"] == ALL_FILES, fmt  # no temporary file (body, .tmp) left
        assert result["earlier"] == EARLIER, fmt  # the earlier file is untouched


RUN_CARD = """
from hepflow.card import parse_card
from hepflow.errors import HepflowError
from hepflow.run import run_pipeline

card = parse_card(
    {
        "seed": 3,
        "overwrite": True,
        "output_dir": str(OUT),
        "integrand": {"name": "sm:ee_mumu", "sqrt_s": 91.188},
        "sampler": "vegas",
        "integration": {"survey_iterations": 1, "iterations": 1, "evals": 4000},
        "generation": {"events": 20000, "chunk_size": 5000},
        "output": [{"writer": "lhe", "path": "events.lhe"}],
    },
    source="failure card",
)
error = None
try:
    run_pipeline(card)
except HepflowError as exc:
    error = str(exc)
print(json.dumps({
    "error": error,
    "files": sorted(os.listdir(OUT)),
    "earlier": (OUT / "events.lhe").read_text(),
}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("read_only", [False, True], ids=["full", "read-only"])
def test_pipeline_reports_the_output_problem(tmp_path, read_only):
    result = run_in_small_fs(tmp_path, RUN_CARD, read_only=read_only)
    error = result["error"]
    assert error is not None
    out = tmp_path / "out"
    if read_only:  # found before the integration, naming the folder
        assert f"cannot write {str(out)!r}" in error and "writable output_dir" in error
    else:
        assert str(out / "events.lhe") in error and "free disk space" in error
    assert result["files"] == ALL_FILES  # no summary, no temporaries
    assert result["earlier"] == EARLIER
