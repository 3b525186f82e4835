"""Fixtures for the flow tests: every flow kind, plain and conditional."""

from __future__ import annotations

import pytest
from flow_helpers import KINDS


@pytest.fixture(params=KINDS, ids=[f"{f}-{t}" for f, t in KINDS])
def kind(request) -> tuple[str, str]:
    return request.param


@pytest.fixture(params=[0, 2], ids=["plain", "conditional"])
def condition_dim(request) -> int:
    return request.param
