"""The context injector: SPEC section 3 (core part)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from types import TracebackType
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


class Scope:
    """A context manager that logs its enter and exit, and what was active then."""

    def __init__(self, log: list[tuple[Any, ...]], name: str, attributes: Mapping[str, Any]):
        self.log = log
        self.name = name
        self.attributes = attributes

    def __enter__(self) -> Scope:
        # use_event_context() raises if no event is active: the event must be active here.
        self.log.append(("enter", self.name, dict(self.attributes), use_event_context()))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.log.append(("exit", self.attributes["event_type"], (exc_type, exc, tb)))
        self.log.append(("active at exit", try_get_current()))


class ScopeRecorder(Recorder):
    """Records with_ calls (as Recorder) and the scopes it hands out."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[Any, ...]] = []

    def scope(self, name: str, attributes: Mapping[str, Any]) -> Scope:
        self.log.append(("scope", name, dict(attributes)))
        return Scope(self.log, name, attributes)


class TestScope:
    """``with runner:`` / ``async with runner:`` go through ``injector.scope``."""

    def test_default_scope_is_a_noop_context_manager(self) -> None:
        """The base scope() is a context manager that gives None and suppresses nothing."""
        scope = ContextInjector().scope("Event:start", {"event_type": "JOB"})
        assert isinstance(scope, AbstractContextManager)
        with scope as value:
            assert value is None
        err = Boom()
        with pytest.raises(Boom) as info, ContextInjector().scope("Event:start", {}):
            raise err
        assert info.value is err

    def test_base_injector_installed_with_block_is_transparent(self) -> None:
        """With the base injector installed, a with block behaves as without one."""
        replace_context_injector(ContextInjector())
        runner = create_event_context({"type": "JOB"})
        with runner as ctx:
            assert use_event_context() is ctx is runner.context
        assert try_get_current() is None

    def test_with_block_enters_scope_once_while_active(self) -> None:
        """A with block calls scope("Event:start", {"event_type": ...}) once, not with_."""
        recorder = ScopeRecorder()
        replace_context_injector(recorder)
        runner = create_event_context({"type": "JOB"})
        with runner as ctx:
            assert ctx is runner.context
            assert recorder.log == [
                ("scope", "Event:start", {"event_type": "JOB"}),
                ("enter", "Event:start", {"event_type": "JOB"}, ctx),
            ]
        assert recorder.log[2:] == [
            ("exit", "JOB", (None, None, None)),
            ("active at exit", ctx),
        ]
        assert recorder.calls == []  # with_ is for runner(fn) only
        assert try_get_current() is None

    def test_with_block_failure_exits_scope_with_the_exception(self) -> None:
        """A block that raises exits the scope with that very exception, event still active."""
        recorder = ScopeRecorder()
        replace_context_injector(recorder)
        runner = create_event_context({"type": "JOB"})
        err = Boom()
        with pytest.raises(Boom) as info, runner:
            raise err
        assert info.value is err
        (_, _, (exc_type, exc, tb)), active_at_exit = recorder.log[-2:]
        assert (exc_type, exc) == (Boom, err)
        assert exc is err
        assert tb is not None
        assert active_at_exit == ("active at exit", runner.context)
        assert try_get_current() is None

    def test_scope_that_suppresses_does_not_swallow_the_error(self) -> None:
        """What the scope's __exit__ returns is ignored: the block's error reaches the caller."""

        class Suppressing(ContextInjector):
            def scope(self, name: str, attributes: Mapping[str, Any]) -> Any:
                return contextlib.suppress(Boom)

        replace_context_injector(Suppressing())
        with pytest.raises(Boom), create_event_context({"type": "JOB"}):
            raise Boom
        assert try_get_current() is None

    @pytest.mark.asyncio
    async def test_async_with_block_enters_scope_once(self) -> None:
        """async with goes through the same scope, entered and exited in the task."""
        recorder = ScopeRecorder()
        replace_context_injector(recorder)
        runner = create_event_context({"type": "HTTP"})
        async with runner as ctx:
            await asyncio.sleep(0)
            assert use_event_context() is ctx
        assert recorder.log == [
            ("scope", "Event:start", {"event_type": "HTTP"}),
            ("enter", "Event:start", {"event_type": "HTTP"}, ctx),
            ("exit", "HTTP", (None, None, None)),
            ("active at exit", ctx),
        ]
        assert recorder.calls == []
        assert try_get_current() is None

    @pytest.mark.asyncio
    async def test_async_with_block_failure(self) -> None:
        """An async with block that raises exits the scope with the same exception."""
        recorder = ScopeRecorder()
        replace_context_injector(recorder)
        runner = create_event_context({"type": "HTTP"})
        err = Boom()

        async def block() -> None:
            async with runner:
                await asyncio.sleep(0)
                raise err

        with pytest.raises(Boom) as info:
            await block()
        assert info.value is err
        (_, _, (exc_type, exc, _tb)), active_at_exit = recorder.log[-2:]
        assert (exc_type, exc) == (Boom, err)
        assert active_at_exit == ("active at exit", runner.context)
        assert try_get_current() is None

    @pytest.mark.asyncio
    async def test_async_with_block_cancelled(self) -> None:
        """A cancelled async with block exits the scope with the CancelledError."""
        recorder = ScopeRecorder()
        replace_context_injector(recorder)
        runner = create_event_context({"type": "HTTP"})
        started = asyncio.Event()

        async def block() -> None:
            async with runner:
                started.set()
                await asyncio.Event().wait()

        task = asyncio.ensure_future(block())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        (_, _, (exc_type, exc, _tb)), active_at_exit = recorder.log[-2:]
        assert exc_type is asyncio.CancelledError
        assert isinstance(exc, asyncio.CancelledError)
        assert active_at_exit == ("active at exit", runner.context)

    def test_nested_with_blocks(self) -> None:
        """Nested blocks each enter their own scope; inner exits first, each in its event."""
        recorder = ScopeRecorder()
        replace_context_injector(recorder)
        outer = create_event_context({"type": "HTTP"})
        with outer as outer_ctx:
            inner = create_event_context({"type": "JOB"})
            with inner as inner_ctx:
                pass
            with outer:  # the same runner again, nested: a second scope
                pass
        assert [entry for entry in recorder.log if entry[0] != "scope"] == [
            ("enter", "Event:start", {"event_type": "HTTP"}, outer_ctx),
            ("enter", "Event:start", {"event_type": "JOB"}, inner_ctx),
            ("exit", "JOB", (None, None, None)),
            ("active at exit", inner_ctx),
            ("enter", "Event:start", {"event_type": "HTTP"}, outer_ctx),
            ("exit", "HTTP", (None, None, None)),
            ("active at exit", outer_ctx),
            ("exit", "HTTP", (None, None, None)),
            ("active at exit", outer_ctx),
        ]
        assert try_get_current() is None

    def test_runner_call_inside_with_block_uses_with_not_scope(self) -> None:
        """runner(fn) goes through with_ only, also inside a with block of another runner."""
        recorder = ScopeRecorder()
        replace_context_injector(recorder)
        with create_event_context({"type": "HTTP"}):
            create_event_context({"type": "JOB"})(lambda: None)
        assert recorder.calls == [("Event:start", {"event_type": "JOB"})]
        assert [entry[2] for entry in recorder.log if entry[0] == "scope"] == [
            {"event_type": "HTTP"}
        ]

    @pytest.mark.parametrize("kind", ["job", "event-kind"])
    def test_adapter_runners_go_through_scope(self, kind: str) -> None:
        """create_job_context and EventKind.create_context runners: scope with their type."""
        from event_core import EventKind, Key
        from event_core.job import create_job_context

        class Http(EventKind, name="http"):
            method: Key[str]

        recorder = ScopeRecorder()
        replace_context_injector(recorder)
        if kind == "job":
            runner: Any = create_job_context({"job_id": "j", "input": {}})
            expected = "JOB"
        else:
            runner = Http.create_context(method="GET")
            expected = "http"
        with runner:
            pass
        assert recorder.log[0] == ("scope", "Event:start", {"event_type": expected})
        assert len([entry for entry in recorder.log if entry[0] == "enter"]) == 1

    def test_run_bind_snapshot_do_not_call_scope(self) -> None:
        """run(), bind() and snapshot() re-activate an event: neither scope nor with_."""
        recorder = ScopeRecorder()
        with create_event_context({"type": "JOB"}) as ctx:
            bound = bind(use_event_context)
            again = snapshot()
        replace_context_injector(recorder)
        assert run(ctx, use_event_context) is ctx
        assert bound() is ctx
        assert again(use_event_context) is ctx
        with again as entered:
            assert entered is ctx
            with snapshot():  # a snapshot taken inside a with block of a snapshot
                pass
        assert recorder.log == []
        assert recorder.calls == []
        assert try_get_current() is None

    @pytest.mark.asyncio
    async def test_async_with_snapshot_does_not_call_scope(self) -> None:
        """async with on a snapshot() runner does not go through scope either."""
        recorder = ScopeRecorder()
        with create_event_context({"type": "JOB"}) as ctx:
            again = snapshot()
        replace_context_injector(recorder)
        async with again as entered:
            await asyncio.sleep(0)
            assert entered is ctx
        assert recorder.log == []

    def test_installed_mid_way_applies_to_later_with_blocks(self) -> None:
        """The injector is read at each with block, not when the runner is made."""
        runner = create_event_context({"type": "JOB"})
        recorder = ScopeRecorder()
        replace_context_injector(recorder)
        with runner:
            pass
        reset_context_injector()
        with runner:
            pass
        assert len([entry for entry in recorder.log if entry[0] == "scope"]) == 1

    def test_scope_enter_raising_leaves_nothing_active(self) -> None:
        """scope().__enter__ raising: the error propagates, the previous event is back."""
        from event_core import _runner

        class FailingScope:
            def __enter__(self) -> None:
                raise Boom("enter")

            def __exit__(self, *exc_info: object) -> None:  # pragma: no cover - never called
                raise AssertionError("__exit__ of a scope that was not entered")

        class Failing(ContextInjector):
            def scope(self, name: str, attributes: Mapping[str, Any]) -> Any:
                return FailingScope()

        entries_before = set(_runner.open_entries())
        body_ran = False
        with create_event_context({"type": "HTTP"}) as outer_ctx:  # no injector yet
            replace_context_injector(Failing())
            inner = create_event_context({"type": "JOB"})
            with pytest.raises(Boom, match="enter"), inner:
                body_ran = True  # pragma: no cover - never runs
            assert not body_ran
            assert try_get_current() is outer_ctx  # the previous event is back
            reset_context_injector()
            with inner as ctx:  # the runner still works
                assert use_event_context() is ctx
        assert try_get_current() is None
        assert set(_runner.open_entries()) == entries_before

    def test_scope_call_raising_leaves_nothing_active(self) -> None:
        """scope() itself raising: the error propagates and no context stays active."""
        from event_core import _runner

        class Failing(ContextInjector):
            def scope(self, name: str, attributes: Mapping[str, Any]) -> Any:
                raise Boom("scope")

        entries_before = set(_runner.open_entries())
        replace_context_injector(Failing())
        try:
            with pytest.raises(Boom, match="scope"), create_event_context({"type": "JOB"}):
                pass  # pragma: no cover - never runs
            assert try_get_current() is None
        finally:  # undo a leak, if any, so that later tests are not affected
            _runner.close_entries(
                entry for entry in _runner.open_entries() if entry not in entries_before
            )

    @pytest.mark.asyncio
    async def test_failing_scope_async_with(self) -> None:
        """async with and a scope whose __enter__ raises: error propagates, nothing active."""

        class Failing(ContextInjector):
            def scope(self, name: str, attributes: Mapping[str, Any]) -> Any:
                return _raising_on_enter()

        replace_context_injector(Failing())
        with pytest.raises(Boom, match="enter"):
            async with create_event_context({"type": "JOB"}):
                pass  # pragma: no cover - never runs
        assert try_get_current() is None

    def test_scope_exit_error_still_deactivates(self) -> None:
        """A scope whose __exit__ raises: that error propagates and the event is deactivated."""

        @contextlib.contextmanager
        def exploding() -> Iterator[None]:
            yield
            raise Boom("exit")

        class Failing(ContextInjector):
            def scope(self, name: str, attributes: Mapping[str, Any]) -> Any:
                return exploding()

        replace_context_injector(Failing())
        with pytest.raises(Boom, match="exit"), create_event_context({"type": "JOB"}):
            pass
        assert try_get_current() is None


@contextlib.contextmanager
def _raising_on_enter() -> Iterator[None]:
    raise Boom("enter")
    yield  # pragma: no cover - makes this a generator
