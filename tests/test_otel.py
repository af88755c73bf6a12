"""event_core.otel: one OpenTelemetry span per run of a runner, sync, async and `with`.

Spans go to opentelemetry-sdk's InMemorySpanExporter through a TracerProvider passed to the
injector explicitly: the global provider is never set.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from event_core import (
    ContextInjector,
    create_event_context,
    replace_context_injector,
    reset_context_injector,
    snapshot,
    use_event_id,
)
from event_core.job import run_job
from event_core.otel import ATTR_EVENT_ID, ATTR_EVENT_TYPE, ATTR_JOB_ID, OpenTelemetryInjector


class Boom(Exception):
    pass


class Halt(BaseException):
    """A BaseException that is not an Exception (like KeyboardInterrupt)."""


@pytest.fixture
def sdk() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    """A provider exporting to memory; not the global one."""
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    yield provider, spans
    provider.shutdown()


@pytest.fixture
def exporter(sdk: tuple[TracerProvider, InMemorySpanExporter]) -> Iterator[InMemorySpanExporter]:
    """The spans of an OpenTelemetryInjector installed for the test."""
    provider, spans = sdk
    replace_context_injector(OpenTelemetryInjector(provider))
    yield spans
    reset_context_injector()


def finished(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return list(exporter.get_finished_spans())


def only(exporter: InMemorySpanExporter) -> ReadableSpan:
    (span,) = finished(exporter)
    return span


def current_span_id() -> int:
    return trace.get_current_span().get_span_context().span_id


class TestSyncHandlers:
    """Spans around sync handlers."""

    def test_one_span_named_after_the_event_type(self, exporter: InMemorySpanExporter) -> None:
        """A run makes one span named after the event type, with type and id attributes."""
        result = create_event_context({"type": "CLI", "id": "cli-1"})(lambda: "done")
        span = only(exporter)
        assert result == "done"
        assert span.name == "CLI"
        assert dict(span.attributes or {}) == {ATTR_EVENT_TYPE: "CLI", ATTR_EVENT_ID: "cli-1"}
        assert span.status.status_code is StatusCode.UNSET
        assert span.end_time is not None

    def test_lazily_generated_id_is_the_events_id(self, exporter: InMemorySpanExporter) -> None:
        """An event without an id: the span carries the id use_event_id() later returns."""
        run = create_event_context({"type": "HTTP"})
        run(lambda: None)
        assert (only(exporter).attributes or {})[ATTR_EVENT_ID] == run(
            lambda: use_event_id().get_id()
        )

    def test_job_events_carry_the_job_id(self, exporter: InMemorySpanExporter) -> None:
        """run_job makes a JOB span with the job id attribute."""
        assert run_job({"job_id": "j-1", "input": {}}, lambda: 5) == 5
        span = only(exporter)
        assert span.name == "JOB"
        assert (span.attributes or {})[ATTR_JOB_ID] == "j-1"

    def test_job_id_that_is_not_a_primitive_is_shown_as_str(
        self, exporter: InMemorySpanExporter
    ) -> None:
        """A job id such as a UUID object becomes its str in the attribute."""
        job_id = uuid.UUID(int=1)
        run_job({"job_id": job_id, "input": {}}, lambda: None)  # type: ignore[typeddict-item]
        assert (only(exporter).attributes or {})[ATTR_JOB_ID] == str(job_id)

    def test_other_events_have_no_job_id(self, exporter: InMemorySpanExporter) -> None:
        """Only JOB events get the job id attribute, even if their event has a job_id."""
        create_event_context({"type": "HTTP", "job_id": "x"})(lambda: None)
        assert ATTR_JOB_ID not in (only(exporter).attributes or {})

    def test_each_run_of_a_runner_is_a_span(self, exporter: InMemorySpanExporter) -> None:
        """Running one runner three times makes three spans with the same event id."""
        run = create_event_context({"type": "CLI", "id": "same"})
        for _ in range(3):
            run(lambda: None)
        spans = finished(exporter)
        assert len(spans) == 3
        assert {(s.attributes or {})[ATTR_EVENT_ID] for s in spans} == {"same"}

    def test_span_is_current_inside_the_handler(self, exporter: InMemorySpanExporter) -> None:
        """The event's span is the current span while the handler runs, and only then."""
        inside = create_event_context({"type": "CLI"})(current_span_id)
        assert inside == only(exporter).context.span_id
        assert not trace.get_current_span().get_span_context().is_valid

    def test_exception_recorded_with_error_status(self, exporter: InMemorySpanExporter) -> None:
        """A failing handler: exception event, ERROR status, the same exception re-raised."""
        error = Boom("boom")

        def handler() -> None:
            raise error

        with pytest.raises(Boom) as caught:
            create_event_context({"type": "JOB"})(handler)
        assert caught.value is error
        span = only(exporter)
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description == "Boom: boom"
        (event,) = span.events
        assert event.name == "exception"
        assert str((event.attributes or {})["exception.type"]).endswith("Boom")
        assert (event.attributes or {})["exception.message"] == "boom"

    def test_base_exception_ends_the_span_without_error(
        self, exporter: InMemorySpanExporter
    ) -> None:
        """A BaseException that is not an Exception ends the span, status left unset."""

        def handler() -> None:
            raise Halt

        with pytest.raises(Halt):
            create_event_context({"type": "CLI"})(handler)
        span = only(exporter)
        assert span.end_time is not None
        assert span.status.status_code is StatusCode.UNSET
        assert not span.events

    def test_nested_events_make_child_spans(self, exporter: InMemorySpanExporter) -> None:
        """An event run inside another's handler gets a child span of the same trace."""

        def outer() -> None:
            create_event_context({"type": "JOB"})(lambda: None)
            create_event_context({"type": "JOB"})(lambda: None)

        create_event_context({"type": "HTTP"})(outer)
        first, second, parent = finished(exporter)
        assert parent.name == "HTTP"
        assert parent.parent is None
        for child in (first, second):
            assert child.parent is not None
            assert child.parent.span_id == parent.context.span_id
            assert child.context.trace_id == parent.context.trace_id

    def test_span_nests_under_an_application_span(self, exporter: InMemorySpanExporter) -> None:
        """A span the application made current is the parent of the event's span."""
        provider = TracerProvider()
        with provider.get_tracer("app").start_as_current_span("request") as app_span:
            create_event_context({"type": "HTTP"})(lambda: None)
        span = only(exporter)
        assert span.parent is not None
        assert span.parent.span_id == app_span.get_span_context().span_id


class TestAsyncHandlers:
    """Spans around async handlers: ended when the coroutine finishes, fails or is cancelled."""

    @pytest.mark.asyncio
    async def test_span_ends_when_the_coroutine_finishes(
        self, exporter: InMemorySpanExporter
    ) -> None:
        """No span is finished until the handler's coroutine has run to its end."""

        async def handler() -> int:
            await asyncio.sleep(0)
            return 42

        pending = create_event_context({"type": "JOB", "id": "a-1"})(handler)
        assert finished(exporter) == []
        assert await pending == 42
        span = only(exporter)
        assert span.name == "JOB"
        assert (span.attributes or {})[ATTR_EVENT_ID] == "a-1"

    @pytest.mark.asyncio
    async def test_span_stays_current_across_awaits(self, exporter: InMemorySpanExporter) -> None:
        """The span is current before and after awaits inside the handler."""

        async def handler() -> list[int]:
            seen = [current_span_id()]
            await asyncio.sleep(0)
            seen.append(current_span_id())
            return seen

        seen = await create_event_context({"type": "JOB"})(handler)
        assert seen == [only(exporter).context.span_id] * 2
        assert not trace.get_current_span().get_span_context().is_valid

    @pytest.mark.asyncio
    async def test_async_failure_recorded(self, exporter: InMemorySpanExporter) -> None:
        """An async handler that raises: ERROR status, exception event, exception re-raised."""

        async def handler() -> None:
            await asyncio.sleep(0)
            raise Boom("late")

        with pytest.raises(Boom, match="late"):
            await create_event_context({"type": "JOB"})(handler)
        span = only(exporter)
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description == "Boom: late"
        assert [e.name for e in span.events] == ["exception"]

    @pytest.mark.asyncio
    async def test_cancellation_ends_the_span(self, exporter: InMemorySpanExporter) -> None:
        """A cancelled handler: the span is ended, not marked as an error."""
        started = asyncio.Event()

        async def handler() -> None:
            started.set()
            await asyncio.Event().wait()  # until cancelled

        task = asyncio.ensure_future(create_event_context({"type": "JOB"})(handler))
        await started.wait()
        assert finished(exporter) == []
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        span = only(exporter)
        assert span.end_time is not None
        assert span.status.status_code is StatusCode.UNSET

    @pytest.mark.asyncio
    async def test_async_run_job(self, exporter: InMemorySpanExporter) -> None:
        """An async run_job is one JOB span with the job id."""

        async def handler() -> str:
            await asyncio.sleep(0)
            return "ok"

        assert await run_job({"job_id": "aj", "input": {}}, handler) == "ok"
        assert (only(exporter).attributes or {})[ATTR_JOB_ID] == "aj"

    @pytest.mark.asyncio
    async def test_concurrent_nested_events_are_children(
        self, exporter: InMemorySpanExporter
    ) -> None:
        """Events gathered inside an async event are all children of its span."""

        async def child(n: int) -> int:
            await asyncio.sleep(0)
            return n

        async def outer() -> list[int]:
            runs = [create_event_context({"type": "STEP"})(child, n) for n in range(3)]
            return list(await asyncio.gather(*runs))

        assert await create_event_context({"type": "HTTP"})(outer) == [0, 1, 2]
        spans = finished(exporter)
        (parent,) = [s for s in spans if s.name == "HTTP"]
        children = [s for s in spans if s.name == "STEP"]
        assert len(children) == 3
        assert all(
            c.parent is not None and c.parent.span_id == parent.context.span_id for c in children
        )


class TestWithBlocks:
    """``with runner:`` / ``async with runner:``: one span per block, through scope()."""

    def test_with_block_is_one_span(self, exporter: InMemorySpanExporter) -> None:
        """A with block: one span named after the type, current inside, ended at exit."""
        runner = create_event_context({"type": "CLI", "id": "cli-1"})
        with runner:
            inside = current_span_id()
            assert finished(exporter) == []  # not ended while the block runs
            assert trace.get_current_span().is_recording()
        span = only(exporter)
        assert span.name == "CLI"
        assert dict(span.attributes or {}) == {ATTR_EVENT_TYPE: "CLI", ATTR_EVENT_ID: "cli-1"}
        assert span.context.span_id == inside
        assert span.parent is None
        assert span.end_time is not None
        assert span.status.status_code is StatusCode.UNSET
        assert not trace.get_current_span().get_span_context().is_valid

    def test_job_with_block_carries_the_job_id(self, exporter: InMemorySpanExporter) -> None:
        """A with block on a create_job_context runner: a JOB span with the job id."""
        from event_core.job import create_job_context

        with create_job_context({"job_id": "j-9", "input": {}}):
            pass
        span = only(exporter)
        assert span.name == "JOB"
        assert (span.attributes or {})[ATTR_JOB_ID] == "j-9"

    def test_lazily_generated_id_is_the_events_id(self, exporter: InMemorySpanExporter) -> None:
        """The with block's span carries the id use_event_id() returns inside the block."""
        with create_event_context({"type": "HTTP"}):
            event_id = use_event_id().get_id()
        assert (only(exporter).attributes or {})[ATTR_EVENT_ID] == event_id

    def test_with_block_failure_recorded(self, exporter: InMemorySpanExporter) -> None:
        """A block that raises: ERROR status, exception event, the same exception re-raised."""
        error = Boom("boom")
        with pytest.raises(Boom) as caught, create_event_context({"type": "JOB"}):
            raise error
        assert caught.value is error
        span = only(exporter)
        assert span.end_time is not None
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description == "Boom: boom"
        (event,) = span.events
        assert event.name == "exception"
        assert (event.attributes or {})["exception.message"] == "boom"
        assert not trace.get_current_span().get_span_context().is_valid

    def test_with_block_base_exception_not_an_error(self, exporter: InMemorySpanExporter) -> None:
        """A BaseException leaving the block ends the span with its status left unset."""
        with pytest.raises(Halt), create_event_context({"type": "CLI"}):
            raise Halt
        span = only(exporter)
        assert span.end_time is not None
        assert span.status.status_code is StatusCode.UNSET
        assert not span.events

    @pytest.mark.asyncio
    async def test_async_with_block_is_one_span(self, exporter: InMemorySpanExporter) -> None:
        """async with: one span, current across awaits in the block, ended at exit."""
        async with create_event_context({"type": "HTTP", "id": "h-1"}):
            seen = [current_span_id()]
            await asyncio.sleep(0)
            seen.append(current_span_id())
            assert finished(exporter) == []
        span = only(exporter)
        assert (span.name, (span.attributes or {})[ATTR_EVENT_ID]) == ("HTTP", "h-1")
        assert seen == [span.context.span_id] * 2
        assert span.status.status_code is StatusCode.UNSET
        assert not trace.get_current_span().get_span_context().is_valid

    @pytest.mark.asyncio
    async def test_async_with_block_failure(self, exporter: InMemorySpanExporter) -> None:
        """async with and a failing block: ERROR status and the exception recorded."""
        error = Boom("late")

        async def block() -> None:
            async with create_event_context({"type": "HTTP"}):
                await asyncio.sleep(0)
                raise error

        with pytest.raises(Boom) as caught:
            await block()
        assert caught.value is error
        span = only(exporter)
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description == "Boom: late"
        assert [e.name for e in span.events] == ["exception"]

    @pytest.mark.asyncio
    async def test_async_with_block_cancelled(self, exporter: InMemorySpanExporter) -> None:
        """A cancelled async with block ends its span without an error status."""
        started = asyncio.Event()

        async def block() -> None:
            async with create_event_context({"type": "HTTP"}):
                started.set()
                await asyncio.Event().wait()  # until cancelled

        task = asyncio.ensure_future(block())
        await started.wait()
        assert finished(exporter) == []
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        span = only(exporter)
        assert span.end_time is not None
        assert span.status.status_code is StatusCode.UNSET

    def test_runner_call_inside_a_with_block_is_a_child(
        self, exporter: InMemorySpanExporter
    ) -> None:
        """runner(fn) inside a with block: a child span of the with block's span."""
        with create_event_context({"type": "HTTP"}):
            create_event_context({"type": "JOB"})(lambda: None)
        child, parent = finished(exporter)  # in the order they ended
        assert (child.name, parent.name) == ("JOB", "HTTP")
        assert child.parent is not None
        assert child.parent.span_id == parent.context.span_id
        assert child.context.trace_id == parent.context.trace_id

    def test_nested_with_blocks_nest_spans(self, exporter: InMemorySpanExporter) -> None:
        """A with block inside a handler inside a with block: three nested spans."""

        def handler() -> None:
            with create_event_context({"type": "STEP"}):
                pass

        with create_event_context({"type": "HTTP"}):
            create_event_context({"type": "JOB"})(handler)
        step, job, http = finished(exporter)
        assert [s.name for s in (step, job, http)] == ["STEP", "JOB", "HTTP"]
        assert step.parent is not None
        assert step.parent.span_id == job.context.span_id
        assert job.parent is not None
        assert job.parent.span_id == http.context.span_id

    @pytest.mark.asyncio
    async def test_async_runner_inside_async_with_is_a_child(
        self, exporter: InMemorySpanExporter
    ) -> None:
        """await runner(async_fn) inside an async with block: a child span."""

        async def handler() -> None:
            await asyncio.sleep(0)

        async with create_event_context({"type": "HTTP"}):
            await create_event_context({"type": "JOB"})(handler)
        child, parent = finished(exporter)
        assert child.parent is not None
        assert child.parent.span_id == parent.context.span_id

    def test_snapshot_with_block_makes_no_span(self, exporter: InMemorySpanExporter) -> None:
        """with snapshot(): re-activating an event makes no span of its own."""
        with create_event_context({"type": "HTTP"}):
            again = snapshot()
            with again:
                pass
        with again:
            assert not trace.get_current_span().get_span_context().is_valid
        assert only(exporter).name == "HTTP"

    def test_scope_called_directly_outside_any_event(
        self, sdk: tuple[TracerProvider, InMemorySpanExporter]
    ) -> None:
        """scope() used by hand, with no event and no event type, names the span after name."""
        provider, exporter = sdk
        with OpenTelemetryInjector(provider).scope("Custom", {}):
            assert trace.get_current_span().is_recording()
        span = only(exporter)
        assert span.name == "Custom"
        assert dict(span.attributes or {}) == {ATTR_EVENT_TYPE: "Custom"}


class TestInjector:
    """The injector object itself."""

    def test_is_a_context_injector(self) -> None:
        """OpenTelemetryInjector is a ContextInjector, installable as one."""
        assert isinstance(OpenTelemetryInjector(TracerProvider()), ContextInjector)

    def test_global_provider_by_default(self) -> None:
        """Without a provider it uses the global one (here none is set: spans are no-ops)."""
        injector = OpenTelemetryInjector()
        assert injector.tracer_provider is None
        replace_context_injector(injector)
        try:
            assert create_event_context({"type": "CLI"})(lambda: "ran") == "ran"
        finally:
            reset_context_injector()

    def test_rejects_what_is_not_a_provider(self) -> None:
        """A tracer_provider of the wrong type is refused, naming the parameter."""
        with pytest.raises(TypeError, match="tracer_provider must be"):
            OpenTelemetryInjector("provider")  # type: ignore[arg-type]

    def test_called_directly_outside_any_event(
        self, sdk: tuple[TracerProvider, InMemorySpanExporter]
    ) -> None:
        """with_ called by hand, with no event and no event type, names the span after name."""
        provider, exporter = sdk
        assert OpenTelemetryInjector(provider).with_("Custom", {}, lambda: 1) == 1
        span = only(exporter)
        assert span.name == "Custom"
        assert dict(span.attributes or {}) == {ATTR_EVENT_TYPE: "Custom"}

    def test_repr(self) -> None:
        """repr names the provider, or says the global one is used."""
        assert repr(OpenTelemetryInjector()) == "<OpenTelemetryInjector tracer_provider=global>"
        assert "TracerProvider" in repr(OpenTelemetryInjector(TracerProvider()))

    def test_hook_adds_a_span_event(self, exporter: InMemorySpanExporter) -> None:
        """hook() inside an event adds a span event with the method and route."""
        injector: Any = OpenTelemetryInjector(TracerProvider())

        def handler() -> None:
            injector.hook("GET", "Handler:routed", "/users/:id")
            injector.hook("GET", "Handler:not_found")

        create_event_context({"type": "HTTP"})(handler)
        routed, not_found = only(exporter).events
        assert routed.name == "Handler:routed"
        assert dict(routed.attributes or {}) == {
            "event.hook.method": "GET",
            "event.hook.route": "/users/:id",
        }
        assert dict(not_found.attributes or {}) == {"event.hook.method": "GET"}

    def test_hook_outside_a_span_does_nothing(self) -> None:
        """hook() with no recording span current is a no-op."""
        injector = OpenTelemetryInjector(TracerProvider())
        assert injector.hook("GET", "Handler:routed", "/") is None
        assert not trace.get_current_span().is_recording()


class TestMissingExtra:
    """Without the OpenTelemetry API, the module says which extra to install."""

    def test_opentelemetry_missing(self) -> None:
        """Importing event_core.otel without opentelemetry-api names the otel extra."""
        code = "import sys; sys.modules['opentelemetry'] = None; import event_core.otel"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode != 0
        assert "pip install 'event-core[otel]'" in done.stderr
