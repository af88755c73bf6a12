"""Smoke pass of the benchmarks: every workload is correct, and the harness runs end to end.

Benchmarks are not tests: nothing here asserts a timing. This runs ``benchmarks/run.py
--smoke`` (each implementation's check, then one iteration of every timed item through the
real harness and reports) so that a benchmark can never time code that does the wrong thing.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent

SYNC = ["floor", "shape", "seed", "typed", "flask", "werkzeug", "otel", "structlog"]
ASYNC = ["baseline", "floor", "seed", "typed"]
PEERS = {"flask", "werkzeug", "otel", "structlog"}


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    """``benchmarks.run``, imported from the checkout (the repository root is not on sys.path)."""
    added = str(ROOT) not in sys.path
    if added:
        sys.path.insert(0, str(ROOT))
    try:
        yield importlib.import_module("benchmarks.run")
    finally:
        if added:
            sys.path.remove(str(ROOT))


class Smoke(NamedTuple):
    exit_code: int
    output: str

    def check(self, key: str) -> str:
        """What the smoke pass printed for the check ``key``: "ok", "FAILED: ...", "skipped"."""
        prefix = f"check {key}: "
        lines = [line for line in self.output.splitlines() if line.startswith(prefix)]
        assert len(lines) == 1, f"no single line for {key!r} in:\n{self.output}"
        return lines[0][len(prefix) :]


@pytest.fixture(scope="module")
def smoke(bench: ModuleType) -> Smoke:
    """``run.py --smoke``, run once for the module, with what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exit_code = bench.main(["--smoke"])
    return Smoke(exit_code, out.getvalue())


class TestSmoke:
    def test_every_implementation_is_benchmarked(self, bench: ModuleType) -> None:
        """The harness knows every implementation the issue lists, sync and async."""
        workloads = bench.wl
        assert sorted([w.name for w in workloads.SYNC] + list(workloads.UNAVAILABLE)) == sorted(
            SYNC
        )
        assert [w.name for w in workloads.ASYNC] == ASYNC
        assert set(workloads.UNAVAILABLE) <= PEERS

    @pytest.mark.parametrize("name", SYNC)
    def test_sync_workload_is_correct(self, bench: ModuleType, smoke: Smoke, name: str) -> None:
        """Each sync implementation starts fresh, ends completed with result and metadata."""
        if name in bench.wl.UNAVAILABLE:
            pytest.skip(bench.wl.UNAVAILABLE[name])
        assert smoke.check(f"sync/{name}") == "ok"

    @pytest.mark.parametrize("name", ASYNC)
    def test_async_workload_is_correct(self, smoke: Smoke, name: str) -> None:
        """Each async implementation keeps concurrent events apart and correct."""
        assert smoke.check(f"async/{name}") == "ok"

    def test_breakdown_does_the_workload(self, smoke: Smoke) -> None:
        """The breakdown's step that does the whole workload without composables is correct."""
        assert smoke.check("breakdown/direct") == "ok"

    def test_breakdown_steps_end_with_the_seed_workload(self, bench: ModuleType) -> None:
        """Each step runs events of the JOB workload; the last one is the seed workload."""
        steps = bench.breakdown.STEPS
        seed = next(w for w in bench.wl.SYNC if w.name == "seed")
        assert [step.key for step in steps][-1] == "seed"
        assert steps[-1].run is seed.run
        for step in steps:
            assert step.run(2) == bench.wl.EXPECTED_OUT

    def test_smoke_runs_the_whole_harness(self, smoke: Smoke) -> None:
        """The smoke pass exits 0 after timing every group once and printing every table."""
        assert smoke.exit_code == 0, smoke.output
        titles = ("Sync JOB workload", "Async JOB workload", "Where a seed-API event's time")
        for title in (*titles, "Primitives", "Targets"):
            assert title in smoke.output
        assert "wrote " not in smoke.output  # a smoke pass leaves no results behind

    def test_a_wrong_workload_fails_its_check(self, bench: ModuleType) -> None:
        """The check catches an implementation that skips a step of the workload."""
        workloads = bench.wl
        floor = next(w for w in workloads.SYNC if w.name == "floor")

        def lazy() -> tuple[str, int]:
            state = workloads._FLOOR.get()
            state["status"] = "running"  # never "completed", no result, no metadata
            return workloads.EXPECTED_OUT

        wrong = floor._replace(
            handler=lazy, run=lambda loops, handler=lazy: floor.run(loops, handler)
        )
        with pytest.raises(workloads.CheckError, match="floor: an event ended with"):
            workloads.check_sync(wrong)
