"""Shared fixtures: sandboxes run as child processes on free loopback ports (real HTTP, nothing mocked)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulator.process import SandboxProcess, running_sandbox

TEST_SEED = 11
TEST_SCALE = 0.4  # ~1,000 visitors: every code path, small enough for a 2-core machine


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    """A sandbox shared by a test module; tests that change its clock or faults use `fresh_sandbox`."""
    with running_sandbox(seed=TEST_SEED, scale=TEST_SCALE) as sb:
        yield sb


@pytest.fixture
def fresh_sandbox() -> Iterator[SandboxProcess]:
    with running_sandbox(seed=TEST_SEED, scale=TEST_SCALE) as sb:
        yield sb
