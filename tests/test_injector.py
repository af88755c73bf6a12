"""The context injector: SPEC section 3 (core part)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator, Mapping
from typing import Any, Callable, TypeVar

import pytest

from event_core import (
    ContextInjector,
    EventContext,
    bind,
    create_event_context,
    get_context_injector,
    replace_context_injector,
    reset_context_injector,
    run,
    snapshot,
    try_get_current,
    use_event_context,
)
from event_core.job import run_job, use_job_status

R = TypeVar("R")


@pytest.fixture(autouse=True)
def _reset_injector() -> Iterator[None]:
    """Every test starts and ends with no injector installed."""
    reset_context_injector()
    try:
        yield
    finally:
        reset_context_injector()


class Recorder(ContextInjector):
    """Records each with_ call and what was active while it ran."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.active: list[EventContext[Any, Any] | None] = []
        self.outcomes: list[tuple[str, Any]] = []

    def with_(self, name: str, attributes: Mapping[str, Any], fn: Callable[[], R]) -> R:
        self.calls.append((name, dict(attributes)))
        self.active.append(try_get_current())
        try:
            result = fn()
        except BaseException as exc:
            self.outcomes.append(("raised", exc))
            raise
        if inspect.isawaitable(result):
            return self._wrap(result)  # type: ignore[return-value]
        self.outcomes.append(("returned", result))
        return result

    async def _wrap(self, awaitable: Any) -> Any:
        # What a tracing injector does: keep the span open until the handler finishes.
        self.outcomes.append(("awaiting", try_get_current()))
        try:
            value = await awaitable
        except BaseException as exc:
            self.outcomes.append(("failed", exc))
            raise
        self.outcomes.append(("completed", value))
        return value


class Boom(Exception):
    """A distinctive handler error."""


class TestRegistry:
    def test_default_is_none(self) -> None:
        """No injector is installed by default."""
        assert get_context_injector() is None

    def test_replace_and_reset(self) -> None:
        """replace installs the injector, get returns it, reset removes it."""
        first, second = ContextInjector(), Recorder()
        replace_context_injector(first)
        assert get_context_injector() is first
        replace_context_injector(second)
        assert get_context_injector() is second
        reset_context_injector()
        assert get_context_injector() is None

    def test_reset_when_none_is_harmless(self) -> None:
        """reset_context_injector() with nothing installed leaves None."""
        reset_context_injector()
        reset_context_injector()
        assert get_context_injector() is None

    @pytest.mark.parametrize(
        "bad",
        [
            pytest.param(None, id="none"),
            pytest.param(object(), id="object"),
            pytest.param(ContextInjector, id="class-not-instance"),
            pytest.param(type("Duck", (), {"with_": lambda *a: None})(), id="duck"),
        ],
    )
    def test_replace_rejects_non_injector(self, bad: Any) -> None:
        """replace_context_injector with a non-ContextInjector is a TypeError; nothing changes."""
        installed = Recorder()
        replace_context_injector(installed)
        with pytest.raises(
            TypeError, match="replace_context_injector\\(\\) takes a ContextInjector"
        ):
            replace_context_injector(bad)
        assert get_context_injector() is installed

    def test_repr(self) -> None:
        """An injector's repr names its class."""
        assert repr(ContextInjector()) == "<ContextInjector>"
        assert repr(Recorder()) == "<Recorder>"

    def test_registry_repr_shows_installed(self) -> None:
        """The (private) registry's repr shows which injector is installed."""
        from event_core import _injector

        assert repr(_injector.registry) == "<injector registry: None>"
        replace_context_injector(Recorder())
        assert repr(_injector.registry) == "<injector registry: <Recorder>>"


class TestDefaults:
    def test_default_with_returns_fn_result(self) -> None:
        """The base with_ calls fn() and returns its result."""
        assert ContextInjector().with_("Event:start", {}, lambda: 42) == 42

    def test_default_hook_is_noop(self) -> None:
        """The base hook() does nothing and returns None, with or without a route."""
        injector = ContextInjector()
        assert injector.hook("GET", "Handler:routed") is None
        assert injector.hook("GET", "Handler:routed", "/users/:id") is None

    def test_base_injector_installed_is_transparent(self) -> None:
        """With the base injector installed, runs behave as without one."""
        replace_context_injector(ContextInjector())
        runner = create_event_context({"type": "JOB"})
        assert runner(lambda: use_event_context().type) == "JOB"
        assert try_get_current() is None

    @pytest.mark.asyncio
    async def test_base_injector_async(self) -> None:
        """With the base injector installed, async handlers run inside the event."""
        replace_context_injector(ContextInjector())

        async def handler() -> str:
            await asyncio.sleep(0)
            return use_event_context().type

        assert await create_event_context({"type": "JOB"})(handler) == "JOB"


class TestSyncRuns:
    def test_with_called_with_event_start(self) -> None:
        """Each run calls with_("Event:start", {"event_type": type}, fn) once, inside the event."""
        recorder = Recorder()
        replace_context_injector(recorder)
        runner = create_event_context({"type": "JOB"})
        assert runner(lambda x: (x, use_event_context().type), 5) == (5, "JOB")
        assert recorder.calls == [("Event:start", {"event_type": "JOB"})]
        assert recorder.active == [runner.context]
        assert recorder.outcomes == [("returned", (5, "JOB"))]

    def test_every_run_goes_through(self) -> None:
        """Repeated and nested runs each call with_ with their own event type."""
        recorder = Recorder()
        replace_context_injector(recorder)
        outer = create_event_context({"type": "HTTP"})
        inner = create_event_context({"type": "JOB"})
        outer(lambda: inner(lambda: None))
        outer(lambda: None)
        assert recorder.calls == [
            ("Event:start", {"event_type": "HTTP"}),
            ("Event:start", {"event_type": "JOB"}),
            ("Event:start", {"event_type": "HTTP"}),
        ]

    def test_injector_sees_failure(self) -> None:
        """A sync handler's exception passes through with_ unchanged."""
        recorder = Recorder()
        replace_context_injector(recorder)
        err = Boom()

        def handler() -> None:
            raise err

        with pytest.raises(Boom) as info:
            create_event_context({"type": "JOB"})(handler)
        assert info.value is err
        assert recorder.outcomes == [("raised", err)]
        assert try_get_current() is None

    def test_injector_own_error_propagates_and_context_restored(self) -> None:
        """An error raised by the injector itself propagates and the context is reset."""

        class Failing(ContextInjector):
            def with_(self, name: str, attributes: Mapping[str, Any], fn: Callable[[], R]) -> R:
                raise Boom("injector")

        replace_context_injector(Failing())
        with pytest.raises(Boom, match="injector"):
            create_event_context({"type": "JOB"})(lambda: None)
        assert try_get_current() is None

    def test_non_callable_with_injector(self) -> None:
        """A non-callable handler is refused with a TypeError before with_ is called."""
        recorder = Recorder()
        replace_context_injector(recorder)
        with pytest.raises(TypeError, match="a runner takes a callable handler"):
            create_event_context({"type": "JOB"})(5)  # type: ignore[call-overload]
        assert recorder.calls == []

    def test_type_error_from_handler_with_injector(self) -> None:
        """A TypeError from a callable handler passes through unchanged with an injector."""
        replace_context_injector(Recorder())
        err = TypeError("inner")

        def handler() -> None:
            raise err

        with pytest.raises(TypeError) as info:
            create_event_context({"type": "JOB"})(handler)
        assert info.value is err

    def test_run_job_goes_through(self) -> None:
        """run_job's runner goes through the injector with event_type JOB."""
        recorder = Recorder()
        replace_context_injector(recorder)
        assert run_job({"job_id": "j", "input": {}}, lambda: use_job_status().get_status()) == (
            "running"
        )
        assert recorder.calls == [("Event:start", {"event_type": "JOB"})]

    def test_event_kind_runner_goes_through(self) -> None:
        """A runner made by EventKind.create_context goes through with_ with the kind's type."""
        from event_core import EventKind, Key

        class Http(EventKind, name="http"):
            method: Key[str]

        recorder = Recorder()
        replace_context_injector(recorder)
        runner = Http.create_context(method="GET")
        assert runner(lambda: use_event_context().get(Http.method)) == "GET"
        assert recorder.calls == [("Event:start", {"event_type": "http"})]

    def test_installed_mid_way_applies_to_later_runs(self) -> None:
        """An injector installed after a runner was made still wraps that runner's runs."""
        runner = create_event_context({"type": "JOB"})
        recorder = Recorder()
        replace_context_injector(recorder)
        runner(lambda: None)
        reset_context_injector()
        runner(lambda: None)
        assert len(recorder.calls) == 1


class TestAsyncRuns:
    @pytest.mark.asyncio
    async def test_async_handler_wrapped_sees_completion(self) -> None:
        """For an async handler fn() returns the awaitable; the wrapper sees it complete."""
        recorder = Recorder()
        replace_context_injector(recorder)
        runner = create_event_context({"type": "JOB"})

        async def handler(x: int) -> int:
            await asyncio.sleep(0)
            assert use_event_context() is runner.context
            return x * 2

        assert await runner(handler, 21) == 42
        assert recorder.calls == [("Event:start", {"event_type": "JOB"})]
        assert recorder.outcomes == [("awaiting", runner.context), ("completed", 42)]
        assert try_get_current() is None

    @pytest.mark.asyncio
    async def test_async_handler_wrapped_sees_failure(self) -> None:
        """The wrapper sees the async handler fail, with the same exception object."""
        recorder = Recorder()
        replace_context_injector(recorder)
        err = Boom()

        async def handler() -> None:
            await asyncio.sleep(0)
            raise err

        with pytest.raises(Boom) as info:
            await create_event_context({"type": "JOB"})(handler)
        assert info.value is err
        assert recorder.outcomes[-1] == ("failed", err)

    @pytest.mark.asyncio
    async def test_async_handler_cancelled_seen_as_failure(self) -> None:
        """A cancelled async handler is seen by the wrapper as failing with CancelledError."""
        recorder = Recorder()
        replace_context_injector(recorder)
        started = asyncio.Event()

        async def handler() -> None:
            started.set()
            await asyncio.Event().wait()

        task = asyncio.ensure_future(create_event_context({"type": "JOB"})(handler))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        kind, exc = recorder.outcomes[-1]
        assert kind == "failed"
        assert isinstance(exc, asyncio.CancelledError)

    @pytest.mark.asyncio
    async def test_wrapper_finishes_before_await_returns(self) -> None:
        """The wrapper records completion before the caller's await returns."""
        recorder = Recorder()
        replace_context_injector(recorder)

        async def handler() -> str:
            await asyncio.sleep(0)
            return "done"

        result = await create_event_context({"type": "JOB"})(handler)
        assert (result, recorder.outcomes[-1]) == ("done", ("completed", "done"))

    @pytest.mark.asyncio
    async def test_run_job_async_goes_through(self) -> None:
        """An async run_job is wrapped and the wrapper sees its completion."""
        recorder = Recorder()
        replace_context_injector(recorder)

        async def handler() -> str:
            await asyncio.sleep(0)
            return "ok"

        assert await run_job({"job_id": "j", "input": {}}, handler) == "ok"
        assert recorder.calls == [("Event:start", {"event_type": "JOB"})]
        assert recorder.outcomes[-1] == ("completed", "ok")


class TestNotInjected:
    """Activating an existing context (run, bind, snapshot) is not a new event."""

    def test_run_does_not_call_injector(self) -> None:
        """run(ctx, fn) does not go through the injector."""
        recorder = Recorder()
        replace_context_injector(recorder)
        ctx = EventContext({"type": "JOB"})
        assert run(ctx, lambda: use_event_context() is ctx) is True
        assert recorder.calls == []

    def test_bind_does_not_call_injector(self) -> None:
        """A function made by bind() does not go through the injector."""
        recorder = Recorder()
        with create_event_context({"type": "JOB"}) as ctx:
            bound = bind(lambda: use_event_context())
        replace_context_injector(recorder)
        assert bound() is ctx
        assert recorder.calls == []

    def test_snapshot_does_not_call_injector(self) -> None:
        """A runner made by snapshot() does not go through the injector."""
        recorder = Recorder()
        with create_event_context({"type": "JOB"}) as ctx:
            again = snapshot()
        replace_context_injector(recorder)
        assert again(use_event_context) is ctx
        assert recorder.calls == []

    @pytest.mark.asyncio
    async def test_run_async_does_not_call_injector(self) -> None:
        """run(ctx, async_fn) does not go through the injector."""
        recorder = Recorder()
        replace_context_injector(recorder)
        ctx = EventContext({"type": "JOB"})

        async def handler() -> bool:
            await asyncio.sleep(0)
            return use_event_context() is ctx

        assert await run(ctx, handler) is True
        assert recorder.calls == []
