"""The JOB demo (examples/job_demo.py), run in-process with small counts."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from event_core import try_get_current

DEMO_PATH = Path(__file__).resolve().parent.parent / "examples" / "job_demo.py"


@pytest.fixture(scope="module")
def demo() -> ModuleType:
    """examples/job_demo.py imported as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location("job_demo", DEMO_PATH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is being made
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[spec.name]
        raise
    return module


class TestSummary:
    def test_counts_add_up_and_no_mismatch(self, demo: Any) -> None:
        """30 jobs, every 10th failing: 27 completed, 3 failed, every check passes."""
        summary = demo.run_demo(30, fail_every=10)
        assert summary.count == 30
        assert summary.statuses == {"completed": 27, "failed": 3}
        assert sum(summary.statuses.values()) == summary.count
        assert summary.problems == []
        assert summary.mismatches == 0
        assert summary.ok
        assert summary.distinct_event_ids == 30
        assert summary.elapsed > 0
        assert try_get_current() is None

    def test_every_check_ran_and_passed(self, demo: Any) -> None:
        """Each check is evaluated for every job it concerns and passes every time."""
        summary = demo.run_demo(20, fail_every=5)
        checks = {what: (ok, of) for what, ok, of in summary.checks}
        assert checks["ran in one context holding its own input"] == (20, 20)
        assert checks["metadata (checksum, timing)"] == (20, 20)
        assert checks["completed where expected"] == (16, 16)
        assert checks["result matches its own input"] == (16, 16)
        assert checks["stored result is the returned one"] == (16, 16)
        assert checks["failed where expected, with its own error"] == (4, 4)
        assert checks["partial result matches its own input"] == (4, 4)
        ok, of = checks["log records carry their own event"]
        assert ok == of > 20

    def test_jobs_really_run_at_once(self, demo: Any) -> None:
        """All jobs are in flight together, so a leak between them could not hide."""
        summary = demo.run_demo(25, fail_every=0)
        assert summary.statuses == {"completed": 25}
        assert summary.max_in_flight == 25
        assert summary.ok

    def test_failures_where_expected(self, demo: Any) -> None:
        """The jobs made to fail are exactly every Nth one."""
        failing = [job.job_id for job in demo.make_jobs(12, 4) if job.should_fail]
        assert failing == ["job-0003", "job-0007", "job-0011"]
        summary = demo.run_demo(12, fail_every=4)
        assert summary.statuses == {"completed": 9, "failed": 3}
        assert summary.ok


class TestMain:
    def test_main_prints_the_summary_and_exits_0(
        self, demo: Any, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """main() prints a short table and returns 0 when no job saw another's state."""
        assert demo.main(["20"]) == 0
        out = capsys.readouterr().out
        assert "20 jobs at once" in out
        assert re.search(r"^\s*completed\s+18$", out, re.MULTILINE)
        assert re.search(r"^\s*failed\s+2$", out, re.MULTILINE)
        assert re.search(r"^\s*total\s+20$", out, re.MULTILINE)
        assert "mismatches: 0" in out
        assert "OK: every job saw only its own state" in out
        assert len(out.splitlines()) < 30

    def test_main_rejects_a_bad_count(self, demo: Any) -> None:
        """COUNT below 1 is a usage error."""
        with pytest.raises(SystemExit) as info:
            demo.main(["0"])
        assert info.value.code == 2

    def test_cross_talk_is_detected(
        self, demo: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A shared global instead of the event context mixes jobs up: main() returns 1."""
        real_current_order = demo.current_order
        shared: dict[str, Any] = {}

        def current_order_from_a_global() -> Any:
            # what a module-level "current order" variable gives under concurrency
            previous = shared.get("order")
            shared["order"] = real_current_order()
            return previous if previous is not None else shared["order"]

        monkeypatch.setattr(demo, "current_order", current_order_from_a_global)
        assert demo.main(["20", "--fail-every", "0"]) == 1
        out = capsys.readouterr().out
        assert "MISMATCH" in out
        assert "FAILED: cross-talk" in out
        assert "mismatches: 0" not in out
