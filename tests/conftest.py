"""Shared fixtures: sandboxes run as child processes on free loopback ports (real HTTP, nothing mocked)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulator.process import SandboxProcess, running_sandbox

TEST_SEED = 11
TEST_SCALE = 0.4  # ~1,000 visitors: every code path, small enough for a 2-core machine
SHARED_WORK_BUDGET = 200_000


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    """A sandbox shared by a test module; tests that change its clock or faults use `fresh_sandbox`."""
    # A module runs many full loads against it within ClickMagick's 5-minute work window: a larger budget
    # keeps them from waiting out 429s (the documented budget is tested in tests/sandbox/test_errors.py).
    with running_sandbox(seed=TEST_SEED, scale=TEST_SCALE, work_budget=SHARED_WORK_BUDGET) as sb:
        yield sb


@pytest.fixture
def fresh_sandbox() -> Iterator[SandboxProcess]:
    with running_sandbox(seed=TEST_SEED, scale=TEST_SCALE) as sb:
        yield sb
