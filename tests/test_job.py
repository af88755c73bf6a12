"""The JOB adapter, event_core.job: SPEC section 4 (the seed document in Python)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from typing_extensions import is_typeddict

from event_core import (
    EventContext,
    EventRunner,
    EventTypeMismatchError,
    NoEventContextError,
    create_event_context,
    try_get_current,
    use_event_context,
)
from event_core.job import (
    JOB_STATUSES,
    JobContextStore,
    JobEventData,
    JobMetadata,
    JobResult,
    JobState,
    JobStatus,
    create_job_context,
    run_job,
    track_job,
    use_job_context,
    use_job_metadata,
    use_job_result,
    use_job_status,
)

DATA: JobEventData = {"job_id": "abc123", "input": {"foo": "bar"}}


class Boom(Exception):
    """A distinctive handler error."""


@pytest.fixture
def job() -> Iterator[EventContext[Any, Any]]:
    """An active JOB event for DATA."""
    with create_job_context(DATA) as ctx:
        yield ctx


class TestShapes:
    def test_typed_dicts_exist(self) -> None:
        """JobEventData, JobState and JobContextStore are TypedDicts with the seed's keys."""
        assert is_typeddict(JobEventData)
        assert is_typeddict(JobState)
        assert is_typeddict(JobContextStore)
        assert set(JobEventData.__annotations__) == {"job_id", "input"}
        assert set(JobState.__annotations__) == {"status", "result", "metadata"}
        assert set(JobContextStore.__annotations__) == {"event", "options", "job"}

    def test_statuses(self) -> None:
        """The statuses are pending, running, completed, failed."""
        assert JOB_STATUSES == ("pending", "running", "completed", "failed")


class TestCreateJobContext:
    def test_event_is_data_plus_type(self) -> None:
        """The event is {**data, "type": "JOB"} and data is not mutated."""
        data = {"job_id": "abc123", "input": {"foo": "bar"}}
        runner = create_job_context(data)  # type: ignore[arg-type]
        assert isinstance(runner, EventRunner)
        assert runner.context.event == {"job_id": "abc123", "input": {"foo": "bar"}, "type": "JOB"}
        assert runner.context.type == "JOB"
        assert data == {"job_id": "abc123", "input": {"foo": "bar"}}

    def test_type_in_data_is_overridden(self) -> None:
        """A "type" in data is replaced by "JOB", as {**data, "type": "JOB"} does."""
        runner = create_job_context({"job_id": "j", "input": {}, "type": "HTTP"})  # type: ignore[typeddict-unknown-key]
        assert runner.context.type == "JOB"

    def test_options_kept(self) -> None:
        """Options are passed to the event context as given."""
        options = {"event_logger": {"name": "jobs"}}
        runner = create_job_context(DATA, options)  # type: ignore[arg-type]
        assert runner.context.options is options

    def test_runs_handler(self) -> None:
        """The runner runs a handler that reads the job's event."""
        runner = create_job_context(DATA)
        assert runner(lambda: use_job_context().event["input"]) == {"foo": "bar"}

    def test_non_mapping_data(self) -> None:
        """Data that is not a mapping is a TypeError naming create_job_context's data."""
        with pytest.raises(TypeError, match="create_job_context\\(\\) data must be a mapping"):
            create_job_context(["abc"])  # type: ignore[arg-type]


class TestUseJobContext:
    def test_returns_active_job(self, job: EventContext[Any, Any]) -> None:
        """use_job_context() returns the active JOB context."""
        assert use_job_context() is job
        assert use_job_context().event["job_id"] == "abc123"

    def test_finds_job_ancestor(self, job: EventContext[Any, Any]) -> None:
        """Inside a child event, use_job_context() returns the JOB ancestor."""
        with create_event_context({"type": "STEP"}):
            assert use_job_context() is job
            use_job_status().set_status("running")
        assert job.store("job").get("status") == "running"

    def test_outside_any_event(self) -> None:
        """Outside any event, use_job_context() raises NoEventContextError."""
        with pytest.raises(NoEventContextError):
            use_job_context()

    def test_not_a_job(self) -> None:
        """In a non-JOB event without JOB ancestor, it raises EventTypeMismatchError."""
        with create_event_context({"type": "HTTP"}), pytest.raises(EventTypeMismatchError) as info:
            use_job_context()
        assert str(info.value).startswith(
            'Event context type mismatch: expected "JOB", received "HTTP"'
        )


class TestUseJobStatus:
    def test_initial_pending(self, job: EventContext[Any, Any]) -> None:
        """get_status() inits the status to "pending" in the "job" section."""
        get_status, _ = use_job_status()
        assert job.store("job").has("status") is False
        assert get_status() == "pending"
        assert job.get_ctx()["job"]["status"] == "pending"

    @pytest.mark.parametrize("status", ["pending", "running", "completed", "failed"])
    def test_set_each_status(self, job: EventContext[Any, Any], status: str) -> None:
        """set_status accepts each status, returns it, and get_status reads it back."""
        get_status, set_status = use_job_status()
        assert set_status(status) == status  # type: ignore[arg-type]
        assert get_status() == status
        assert job.store("job").get("status") == status

    @pytest.mark.parametrize("status", ["done", "", "RUNNING", None, 1])
    def test_unknown_status(self, job: EventContext[Any, Any], status: Any) -> None:
        """An unknown status is a ValueError naming it; the status is unchanged."""
        _, set_status = use_job_status()
        set_status("running")
        with pytest.raises(ValueError, match="unknown job status"):
            set_status(status)
        assert job.store("job").get("status") == "running"

    def test_namedtuple_destructuring_and_attributes(self, job: EventContext[Any, Any]) -> None:
        """The result destructures like the seed and also has named attributes."""
        result = use_job_status()
        assert isinstance(result, JobStatus)
        assert isinstance(result, tuple)
        get_status, set_status = result
        set_status("completed")
        assert use_job_status().get_status() == "completed"
        assert result.get_status is get_status
        assert result.set_status is set_status
        assert result._fields == ("get_status", "set_status")


class TestUseJobResult:
    def test_get_set(self, job: EventContext[Any, Any]) -> None:
        """get_result() is None until set; set_result stores and returns the value."""
        get_result, set_result = use_job_result()
        assert get_result() is None
        value = {"rows": 3}
        assert set_result(value) is value
        assert get_result() is value
        assert job.store("job").get("result") is value

    def test_namedtuple(self, job: EventContext[Any, Any]) -> None:
        """use_job_result() is a NamedTuple with get_result/set_result."""
        result = use_job_result()
        assert isinstance(result, JobResult)
        result.set_result(1)
        assert result.get_result() == 1


class TestUseJobMetadata:
    @pytest.mark.parametrize("value", ["text", 3, 2.5, 0, ""])
    def test_allowed_values(self, job: EventContext[Any, Any], value: Any) -> None:
        """str, int and float values are stored in the "metadata" dict and returned."""
        get_metadata, set_metadata = use_job_metadata()
        assert set_metadata("k", value) == value
        assert get_metadata("k") == value
        assert job.store("job").get("metadata") == {"k": value}

    def test_missing_key_is_none(self, job: EventContext[Any, Any]) -> None:
        """get_metadata of an absent key is None."""
        assert use_job_metadata().get_metadata("nope") is None

    @pytest.mark.parametrize("value", [None, [1], {"a": 1}, object(), b"x"])
    def test_bad_values(self, job: EventContext[Any, Any], value: Any) -> None:
        """Another value type is a TypeError naming the key; nothing is stored."""
        _, set_metadata = use_job_metadata()
        with pytest.raises(TypeError, match="job metadata 'k' must be a str, int or float"):
            set_metadata("k", value)
        assert use_job_metadata().get_metadata("k") is None

    def test_bad_key(self, job: EventContext[Any, Any]) -> None:
        """A non-str key is a TypeError naming the key."""
        with pytest.raises(TypeError, match="job metadata key must be a str"):
            use_job_metadata().set_metadata(1, "x")  # type: ignore[arg-type]

    def test_namedtuple(self, job: EventContext[Any, Any]) -> None:
        """use_job_metadata() is a NamedTuple with get_metadata/set_metadata."""
        result = use_job_metadata()
        assert isinstance(result, JobMetadata)
        result.set_metadata("a", 1)
        get_metadata, _ = result
        assert get_metadata("a") == 1


class TestRunJobSync:
    def test_running_during_handler_then_completed(self) -> None:
        """The status is running during the handler, then completed with the result."""
        seen: dict[str, Any] = {}

        def handler() -> str:
            seen["status"] = use_job_status().get_status()
            seen["ctx"] = use_job_context()
            return "result-value"

        assert run_job(DATA, handler) == "result-value"
        ctx = seen["ctx"]
        assert seen["status"] == "running"
        assert ctx.store("job").get("status") == "completed"
        assert ctx.store("job").get("result") == "result-value"
        assert ctx.event == {**DATA, "type": "JOB"}
        assert try_get_current() is None

    def test_metadata_times(self) -> None:
        """started_at/finished_at are float Unix seconds, finished >= started, duration >= 0."""
        seen: dict[str, Any] = {}
        before = time.time()

        def handler() -> None:
            seen["ctx"] = use_job_context()
            seen["started_during"] = use_job_metadata().get_metadata("started_at")
            seen["finished_during"] = use_job_metadata().get_metadata("finished_at")

        run_job(DATA, handler)
        after = time.time()
        metadata = seen["ctx"].store("job").get("metadata")
        started, finished = metadata["started_at"], metadata["finished_at"]
        assert type(started) is float
        assert type(finished) is float
        assert before <= started <= finished <= after
        assert type(metadata["duration_ms"]) is float
        assert metadata["duration_ms"] >= 0
        assert seen["started_during"] == started
        assert seen["finished_during"] is None
        assert "error" not in metadata

    def test_failure(self) -> None:
        """A failing handler: failed, error "<Type>: <msg>", times recorded, same error raised."""
        seen: dict[str, Any] = {}
        err = Boom("disk full")

        def handler() -> None:
            seen["ctx"] = use_job_context()
            raise err

        with pytest.raises(Boom) as info:
            run_job(DATA, handler)
        assert info.value is err
        job_state = seen["ctx"].store("job").value
        assert job_state["status"] == "failed"
        assert job_state["metadata"]["error"] == "Boom: disk full"
        assert "result" not in job_state
        assert job_state["metadata"]["finished_at"] >= job_state["metadata"]["started_at"]
        assert job_state["metadata"]["duration_ms"] >= 0
        assert try_get_current() is None

    def test_failure_with_builtin_error(self) -> None:
        """The error string uses the exception class name and its str()."""
        seen: dict[str, Any] = {}

        def handler() -> None:
            seen["ctx"] = use_job_context()
            raise KeyError("missing")

        with pytest.raises(KeyError):
            run_job(DATA, handler)
        assert seen["ctx"].store("job").get("metadata")["error"] == "KeyError: 'missing'"

    def test_handler_result_none(self) -> None:
        """A handler returning None completes with result None stored."""
        seen: dict[str, Any] = {}

        def handler() -> None:
            seen["ctx"] = use_job_context()

        assert run_job(DATA, handler) is None
        section = seen["ctx"].store("job")
        assert section.has("result")
        assert section.get("status") == "completed"

    def test_non_callable_handler(self) -> None:
        """run_job with a non-callable handler is a TypeError naming the handler."""
        with pytest.raises(TypeError, match="run_job\\(\\) handler must be callable"):
            run_job(DATA, "nope")  # type: ignore[call-overload]
        assert try_get_current() is None

    def test_options_passed(self) -> None:
        """run_job passes options to the JOB context."""
        options = {"event_logger": {"name": "jobs"}}
        result = run_job(DATA, lambda: use_job_context().options, options)  # type: ignore[arg-type]
        assert result is options

    def test_nested_in_other_event(self) -> None:
        """A job run inside another event has it as parent and restores it afterwards."""
        with create_event_context({"type": "HTTP"}) as http:
            parent = run_job(DATA, lambda: use_job_context().parent)
            assert try_get_current() is http
        assert parent is http


class TestRunJobAsync:
    @pytest.mark.asyncio
    async def test_async_completed(self) -> None:
        """An async handler: running while awaited, then completed with the result."""
        seen: dict[str, Any] = {}

        async def handler() -> int:
            await asyncio.sleep(0)
            seen["status"] = use_job_status().get_status()
            seen["ctx"] = use_job_context()
            await asyncio.sleep(0)
            return 7

        coro = run_job(DATA, handler)
        assert try_get_current() is None
        assert await coro == 7
        state = seen["ctx"].store("job").value
        assert seen["status"] == "running"
        assert state["status"] == "completed"
        assert state["result"] == 7
        metadata = state["metadata"]
        assert type(metadata["started_at"]) is float
        assert metadata["finished_at"] >= metadata["started_at"]
        assert type(metadata["duration_ms"]) is float
        assert metadata["duration_ms"] >= 0

    @pytest.mark.asyncio
    async def test_async_failed(self) -> None:
        """An async failure: failed, error recorded, the same exception re-raised."""
        seen: dict[str, Any] = {}
        err = Boom("async boom")

        async def handler() -> None:
            seen["ctx"] = use_job_context()
            await asyncio.sleep(0)
            raise err

        with pytest.raises(Boom) as info:
            await run_job(DATA, handler)
        assert info.value is err
        state = seen["ctx"].store("job").value
        assert state["status"] == "failed"
        assert state["metadata"]["error"] == "Boom: async boom"
        assert state["metadata"]["finished_at"] >= state["metadata"]["started_at"]
        assert try_get_current() is None

    @pytest.mark.asyncio
    async def test_async_still_running_until_awaited(self) -> None:
        """Before the coroutine finishes, the status stays running (not completed early)."""
        seen: dict[str, Any] = {}
        entered, gate = asyncio.Event(), asyncio.Event()

        async def handler() -> str:
            seen["ctx"] = use_job_context()
            entered.set()
            await gate.wait()
            return "ok"

        task = asyncio.ensure_future(run_job(DATA, handler))
        await entered.wait()
        assert seen["ctx"].store("job").get("status") == "running"
        gate.set()
        assert await task == "ok"
        assert seen["ctx"].store("job").get("status") == "completed"

    @pytest.mark.asyncio
    async def test_async_concurrent_jobs_isolated(self) -> None:
        """Concurrent async jobs each record their own status and result."""

        async def handler() -> str:
            await asyncio.sleep(0)
            job_id: str = use_job_context().event["job_id"]
            use_job_metadata().set_metadata("who", job_id)
            await asyncio.sleep(0)
            return job_id

        results = await asyncio.gather(
            *(run_job({"job_id": f"j{i}", "input": {}}, handler) for i in range(5))
        )
        assert results == [f"j{i}" for i in range(5)]


class TestTrackJob:
    def test_keeps_final_state_on_runner(self) -> None:
        """create_job_context(data)(track_job, handler) records the job on the kept runner."""
        runner = create_job_context(DATA)
        assert runner(track_job, lambda: use_job_status().get_status()) == "running"
        state = runner.context.store("job").value
        assert state is not None
        assert state["status"] == "completed"
        assert state["result"] == "running"
        assert set(state["metadata"]) == {"started_at", "finished_at", "duration_ms"}

    def test_failure_recorded(self) -> None:
        """A failing handler under track_job is recorded as failed and re-raised unchanged."""
        runner = create_job_context(DATA)
        err = Boom("x")

        def handler() -> None:
            raise err

        with pytest.raises(Boom) as info:
            runner(track_job, handler)
        assert info.value is err
        assert runner.context.store("job").get("status") == "failed"
        assert runner.context.store("job").get("metadata")["error"] == "Boom: x"

    @pytest.mark.asyncio
    async def test_async(self) -> None:
        """track_job with an async handler completes after the awaited handler."""
        runner = create_job_context(DATA)

        async def handler() -> str:
            await asyncio.sleep(0)
            return use_job_status().get_status()

        assert await runner(track_job, handler) == "running"
        assert runner.context.store("job").get("status") == "completed"

    def test_tracks_job_ancestor(self) -> None:
        """Inside a child event of a job, track_job records on the JOB ancestor."""
        runner = create_job_context(DATA)
        with runner, create_event_context({"type": "STEP"}):
            assert track_job(lambda: 1) == 1
        assert runner.context.store("job").get("status") == "completed"

    def test_outside_a_job(self) -> None:
        """track_job outside any event raises NoEventContextError and never calls the handler."""
        calls: list[int] = []
        with pytest.raises(NoEventContextError):
            track_job(lambda: calls.append(1))
        assert calls == []


# -- "Bringing it all together": the seed's processJob flow ----------------------------------


def perform_work(payload: dict[str, Any]) -> dict[str, Any]:
    """Two calls deep: reads the job input and records progress through composables."""
    _, set_metadata = use_job_metadata()
    set_metadata("progress", 50)
    return record_step({"echo": payload["foo"]})


def record_step(partial: dict[str, Any]) -> dict[str, Any]:
    """Three calls deep: reads the status and the job id without any argument passing."""
    get_status, _ = use_job_status()
    return {**partial, "status_seen": get_status(), "job": use_job_context().event["job_id"]}


def process_job() -> dict[str, Any]:
    """The seed's processJob: status, metadata and result set through composables."""
    get_status, set_status = use_job_status()
    _, set_result = use_job_result()
    get_metadata, set_metadata = use_job_metadata()
    assert get_status() == "pending"
    set_status("running")
    set_metadata("started_by", "test")
    result = perform_work(use_job_context().event["input"])
    set_result(result)
    set_metadata("progress", 100)
    set_status("completed")
    return {"result": result, "progress": get_metadata("progress")}


class TestBringingItAllTogether:
    def test_process_job_flow(self) -> None:
        """The seed's flow: createJobContext(data)(processJob) with composables 3 calls deep."""
        run_in_context = create_job_context({"job_id": "abc123", "input": {"foo": "bar"}})
        out = run_in_context(process_job)
        expected = {"echo": "bar", "status_seen": "running", "job": "abc123"}
        assert out == {"result": expected, "progress": 100}
        store = run_in_context.context.get_ctx()
        assert store["job"] == {
            "status": "completed",
            "metadata": {"started_by": "test", "progress": 100},
            "result": expected,
        }
        assert store["event"] == {"job_id": "abc123", "input": {"foo": "bar"}, "type": "JOB"}
        assert try_get_current() is None

    def test_process_job_under_run_job(self) -> None:
        """The same handler under run_job ends completed with the lifecycle metadata added."""
        seen: dict[str, Any] = {}

        def handler() -> dict[str, Any]:
            seen["ctx"] = use_event_context()
            use_job_status().set_status("pending")  # process_job expects a fresh job
            return process_job()

        out = run_job({"job_id": "abc123", "input": {"foo": "bar"}}, handler)
        metadata = seen["ctx"].store("job").get("metadata")
        assert out["progress"] == 100
        assert metadata["progress"] == 100
        assert set(metadata) == {
            "started_at",
            "started_by",
            "progress",
            "finished_at",
            "duration_ms",
        }
        assert seen["ctx"].store("job").get("status") == "completed"
