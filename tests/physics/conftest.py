"""Shared helpers for the physics tests: the copied MadGraph reference data, and one CPU thread.

The machines these tests run on are shared; torch's default of one thread per core makes the
many small complex-tensor operations of helicity amplitudes several times slower under load, so
each test here runs single-threaded (restored afterwards).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

DATA = Path(__file__).resolve().parent.parent / "data"


def _load(name: str) -> dict:
    return json.loads((DATA / name).read_text())


@pytest.fixture(scope="session")
def load_data():
    """``load_data(name)``: a JSON file from tests/data (copies of MadGraph's numbers, each
    with a note of its origin), so nothing here needs the shared data directory."""
    return _load


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
