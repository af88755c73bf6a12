"""create_event_context, EventRunner and run(): SPEC section 1 (runners) and section 5 (run)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Generator
from types import MappingProxyType
from typing import Any

import pytest

from event_core import (
    EventContext,
    EventContextError,
    EventRunner,
    create_event_context,
    run,
    try_get_current,
    use_event_context,
)


class Boom(Exception):
    """A distinctive error raised by handlers under test."""


class TestCreateEventContextValidation:
    @pytest.mark.parametrize(
        "event",
        [
            pytest.param([("type", "JOB")], id="list"),
            pytest.param("JOB", id="str"),
            pytest.param(None, id="none"),
            pytest.param(42, id="int"),
        ],
    )
    def test_non_mapping_event(self, event: Any) -> None:
        """An event that is not a mapping is a TypeError naming the event."""
        with pytest.raises(TypeError, match="event must be a mapping"):
            create_event_context(event)

    def test_missing_type(self) -> None:
        """An event without "type" is a ValueError naming 'type'."""
        with pytest.raises(ValueError, match="event has no 'type'"):
            create_event_context({"job_id": "j1"})

    @pytest.mark.parametrize(
        ("value", "name"),
        [
            pytest.param(None, "NoneType", id="none"),
            pytest.param(1, "int", id="int"),
            pytest.param(b"JOB", "bytes", id="bytes"),
        ],
    )
    def test_non_str_type(self, value: Any, name: str) -> None:
        """A non-str "type" (None included) is a TypeError naming the type's class."""
        with pytest.raises(TypeError, match=f"event 'type' must be a str, got {name}"):
            create_event_context({"type": value})

    def test_empty_type(self) -> None:
        """An empty "type" is a ValueError."""
        with pytest.raises(ValueError, match="event 'type' must be a non-empty str"):
            create_event_context({"type": ""})

    def test_error_message_survives_broken_repr(self) -> None:
        """A bad event whose repr raises is still named by its type in the TypeError."""

        class BrokenRepr:
            def __repr__(self) -> str:
                raise RuntimeError("no repr")

        with pytest.raises(TypeError, match="got BrokenRepr: <BrokenRepr with failing repr"):
            create_event_context(BrokenRepr())  # type: ignore[arg-type]

    def test_error_message_repr_is_bounded(self) -> None:
        """A huge bad value is shown shortened in the message."""
        with pytest.raises(TypeError) as info:
            create_event_context(["x" * 500])  # type: ignore[arg-type]
        assert "..." in str(info.value)
        assert len(str(info.value)) < 200

    @pytest.mark.parametrize(
        "options",
        [pytest.param([], id="list"), pytest.param("x", id="str"), pytest.param(3, id="int")],
    )
    def test_non_mapping_options(self, options: Any) -> None:
        """Options that are neither a mapping nor None are a TypeError naming options."""
        with pytest.raises(TypeError, match="options must be a mapping"):
            create_event_context({"type": "JOB"}, options)

    @pytest.mark.parametrize("name", ["event", "options"])
    def test_reserved_section_names(self, name: str) -> None:
        """A section named event or options is a ValueError naming it."""
        with pytest.raises(ValueError, match=f"cannot be named '{name}'"):
            create_event_context({"type": "JOB"}, None, **{name: {}})

    def test_failed_creation_leaves_no_context(self) -> None:
        """A refused create_event_context inside an event leaves that event active."""
        with create_event_context({"type": "OUTER"}) as outer:
            with pytest.raises(ValueError):
                create_event_context({"type": ""})
            assert try_get_current() is outer
        assert try_get_current() is None

    def test_event_runner_takes_a_context(self) -> None:
        """EventRunner(x) with a non-EventContext is a TypeError."""
        with pytest.raises(TypeError, match="EventRunner takes an EventContext"):
            EventRunner({"type": "JOB"})  # type: ignore[arg-type]


class TestCreateEventContext:
    def test_returns_runner_owning_one_context(self) -> None:
        """create_event_context returns an EventRunner whose context has the event's type."""
        runner = create_event_context({"type": "JOB", "job_id": "abc123"}, {})
        assert isinstance(runner, EventRunner)
        assert isinstance(runner.context, EventContext)
        assert runner.context.type == "JOB"
        assert runner.context.event == {"type": "JOB", "job_id": "abc123"}

    def test_options_kept_as_given(self) -> None:
        """The options object is kept as given (same object), any mapping accepted."""
        options = MappingProxyType({"event_logger": {"name": "svc"}})
        runner = create_event_context({"type": "JOB"}, options)
        assert runner.context.options is options
        assert runner.context.get_ctx()["options"] is options

    def test_options_default_is_empty(self) -> None:
        """Without options (or None), options is {}."""
        assert create_event_context({"type": "JOB"}).context.options == {}
        assert create_event_context({"type": "JOB"}, None).context.options == {}

    def test_sections_are_initial_store_sections(self) -> None:
        """Keyword sections become top-level store entries, usable as sections."""
        job = {"status": "pending"}
        runner = create_event_context({"type": "JOB"}, {}, job=job, user={"id": 1})
        with runner as ctx:
            assert ctx.get_ctx()["job"] is job
            assert ctx.store("job").get("status") == "pending"
            assert ctx.store("user").get("id") == 1

    def test_parent_from_active_context_at_creation(self) -> None:
        """The context active at creation (not at run) becomes the parent."""
        with create_event_context({"type": "OUTER"}) as outer:
            child = create_event_context({"type": "CHILD"})
        with create_event_context({"type": "OTHER"}), child as ctx:
            assert ctx.parent is outer
            assert use_event_context("OUTER") is outer

    def test_no_parent_outside_events(self) -> None:
        """Created outside any event, the context is a root."""
        assert create_event_context({"type": "JOB"}).context.parent is None

    def test_repr(self) -> None:
        """repr of a runner shows the context it runs."""
        text = repr(create_event_context({"type": "JOB"}))
        assert text.startswith("<EventRunner <EventContext type='JOB'")


class TestCallSync:
    def test_runs_handler_in_context_and_returns_result(self) -> None:
        """runner(fn) runs fn with the event active and returns fn's result."""
        runner = create_event_context({"type": "JOB", "job_id": "abc123"})
        assert runner(lambda: use_event_context().event["job_id"]) == "abc123"
        assert try_get_current() is None

    def test_passes_args_and_kwargs(self) -> None:
        """runner(fn, *args, **kwargs) passes the arguments through, even a kwarg named fn."""
        runner = create_event_context({"type": "JOB"})

        def handler(a: int, b: int, *, fn: str) -> tuple[int, int, str, str]:
            return a, b, fn, use_event_context().type

        assert runner(handler, 1, 2, fn="x") == (1, 2, "x", "JOB")

    def test_exception_propagates_same_object(self) -> None:
        """An exception from the handler propagates unchanged and the context is reset."""
        runner = create_event_context({"type": "JOB"})
        err = Boom("bad")

        def handler() -> None:
            raise err

        with pytest.raises(Boom) as info:
            runner(handler)
        assert info.value is err
        assert try_get_current() is None

    def test_type_error_from_handler_is_not_rewritten(self) -> None:
        """A TypeError raised by a callable handler is re-raised as is."""
        runner = create_event_context({"type": "JOB"})
        err = TypeError("inner problem")

        def handler() -> None:
            raise err

        with pytest.raises(TypeError) as info:
            runner(handler)
        assert info.value is err

    @pytest.mark.parametrize(
        "fn",
        [pytest.param(5, id="int"), pytest.param("f", id="str"), pytest.param(None, id="none")],
    )
    def test_non_callable(self, fn: Any) -> None:
        """A non-callable handler is a TypeError naming it."""
        runner = create_event_context({"type": "JOB"})
        with pytest.raises(TypeError, match="a runner takes a callable handler"):
            runner(fn)
        assert try_get_current() is None

    def test_previous_context_restored_after_run(self) -> None:
        """Running an inner runner inside an outer event restores the outer one afterwards."""
        outer = create_event_context({"type": "OUTER"})
        inner = create_event_context({"type": "INNER"})

        def body() -> tuple[str, str]:
            seen = inner(lambda: use_event_context().type)
            return seen, use_event_context().type

        assert outer(body) == ("INNER", "OUTER")

    def test_previous_context_restored_after_exception(self) -> None:
        """After an inner runner raises, the outer event is active again."""
        outer = create_event_context({"type": "OUTER"})
        inner = create_event_context({"type": "INNER"})
        err = Boom()

        def failing() -> None:
            raise err

        def body() -> str:
            with pytest.raises(Boom) as info:
                inner(failing)
            assert info.value is err
            return use_event_context().type

        assert outer(body) == "OUTER"

    def test_reuse_sees_same_store(self) -> None:
        """Every run of one runner sees the same store."""
        runner = create_event_context({"type": "JOB"})

        def bump() -> int:
            section = use_event_context().store("counter")
            return section.set("n", section.get("n", 0) + 1)

        assert [runner(bump) for _ in range(3)] == [1, 2, 3]
        with runner as ctx:
            assert ctx.store("counter").get("n") == 3

    def test_nesting_same_runner(self) -> None:
        """A runner run inside itself sees the same context and restores it."""
        runner = create_event_context({"type": "JOB"})

        def outer() -> tuple[bool, bool]:
            ctx = use_event_context()
            inner_same = runner(lambda: use_event_context() is ctx)
            return inner_same, use_event_context() is ctx

        assert runner(outer) == (True, True)
        assert try_get_current() is None

    def test_threads_share_store(self) -> None:
        """Several threads running one runner see the same store."""
        runner = create_event_context({"type": "JOB"})
        barrier = threading.Barrier(4)
        seen: list[EventContext[Any, Any]] = []
        lock = threading.Lock()

        def handler(i: int) -> None:
            barrier.wait()
            ctx = use_event_context()
            with lock:
                ctx.store("hits").set(str(i), True)
                seen.append(ctx)

        threads = [threading.Thread(target=runner, args=(handler, i)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(ctx is runner.context for ctx in seen)
        assert len(seen) == 4
        assert sorted(runner.context.store("hits").value or {}) == ["0", "1", "2", "3"]


class TestCallAsync:
    @pytest.mark.asyncio
    async def test_async_def_handler(self) -> None:
        """An async def handler returns a coroutine running wholly inside the context."""
        runner = create_event_context({"type": "JOB"})

        async def handler(x: int) -> tuple[str, str, int]:
            before = use_event_context().type
            await asyncio.sleep(0)
            return before, use_event_context().type, x

        assert try_get_current() is None
        assert await runner(handler, 7) == ("JOB", "JOB", 7)
        assert try_get_current() is None

    @pytest.mark.asyncio
    async def test_callable_returning_awaitable(self) -> None:
        """A plain callable returning a coroutine is awaited inside the context."""
        runner = create_event_context({"type": "JOB"})

        async def body() -> str:
            await asyncio.sleep(0)
            return use_event_context().type

        def handler() -> Any:
            return body()

        assert await runner(handler) == "JOB"

    @pytest.mark.asyncio
    async def test_callable_returning_custom_awaitable(self) -> None:
        """A callable returning a non-coroutine awaitable (has __await__) works too."""
        runner = create_event_context({"type": "JOB"})

        class Awaitable:
            def __await__(self) -> Generator[Any, None, str]:
                yield from asyncio.sleep(0).__await__()
                return use_event_context().type

        assert await runner(Awaitable) == "JOB"

    @pytest.mark.asyncio
    async def test_async_exception_same_object(self) -> None:
        """An exception from an async handler propagates unchanged; the context is reset."""
        runner = create_event_context({"type": "JOB"})
        err = Boom("async")

        async def handler() -> None:
            await asyncio.sleep(0)
            raise err

        with runner as outer_ctx:  # an outer event to come back to
            inner = create_event_context({"type": "INNER"})
            with pytest.raises(Boom) as info:
                await inner(handler)
            assert info.value is err
            assert try_get_current() is outer_ctx
        assert try_get_current() is None

    @pytest.mark.asyncio
    async def test_cancellation_restores_previous_context(self) -> None:
        """Cancelling an async handler restores the previous context in the awaiting task."""
        outer = create_event_context({"type": "OUTER"})
        inner = create_event_context({"type": "INNER"})
        started = asyncio.Event()
        seen: list[Any] = []

        async def handler() -> None:
            started.set()
            await asyncio.Event().wait()  # never set: waits until cancelled

        async def body() -> None:
            try:
                await inner(handler)
            except asyncio.CancelledError:
                seen.append(try_get_current())
                raise

        async with outer as outer_ctx:
            task = asyncio.create_task(body())
            await started.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert seen == [outer_ctx]
            assert try_get_current() is outer_ctx
        assert try_get_current() is None

    @pytest.mark.asyncio
    async def test_concurrent_tasks_share_store(self) -> None:
        """Several tasks awaiting one runner's handler concurrently share its store."""
        runner = create_event_context({"type": "JOB"})

        async def handler(i: int) -> EventContext[Any, Any]:
            await asyncio.sleep(0)
            ctx = use_event_context()
            ctx.store("hits").set(str(i), i)
            await asyncio.sleep(0)
            return ctx

        results = await asyncio.gather(*(runner(handler, i) for i in range(5)))
        assert all(ctx is runner.context for ctx in results)
        assert runner.context.store("hits").value == {str(i): i for i in range(5)}


class TestWith:
    def test_with_yields_context(self) -> None:
        """`with runner as ctx` makes ctx active and restores nothing-active afterwards."""
        runner = create_event_context({"type": "JOB"})
        with runner as ctx:
            assert ctx is runner.context
            assert use_event_context() is ctx
        assert try_get_current() is None

    def test_with_exception_same_object_and_restored(self) -> None:
        """An exception in a with block propagates unchanged; the outer event is restored."""
        err = Boom()
        with create_event_context({"type": "OUTER"}) as outer:
            with pytest.raises(Boom) as info, create_event_context({"type": "INNER"}):
                raise err
            assert info.value is err
            assert try_get_current() is outer
        assert try_get_current() is None

    def test_nested_same_runner(self) -> None:
        """Entering the same runner twice nests; each exit restores the level below."""
        runner = create_event_context({"type": "JOB"})
        with runner as a:
            with runner as b:
                assert a is b
                assert use_event_context() is a
            assert use_event_context() is a
        assert try_get_current() is None

    def test_reuse_after_exit(self) -> None:
        """A runner may be entered again after exit and sees the same store."""
        runner = create_event_context({"type": "JOB"})
        with runner as ctx:
            ctx.store("s").set("k", 1)
        with runner as ctx2:
            assert ctx2 is ctx
            assert ctx2.store("s").get("k") == 1

    def test_call_inside_with(self) -> None:
        """runner(fn) inside another runner's with block restores the with's context."""
        outer = create_event_context({"type": "OUTER"})
        inner = create_event_context({"type": "INNER"})
        with outer as ctx:
            assert inner(lambda: use_event_context().type) == "INNER"
            assert use_event_context() is ctx

    def test_out_of_order_exit_is_refused(self) -> None:
        """Exiting a runner that is not the innermost raises EventContextError naming it."""
        a = create_event_context({"type": "A"})
        b = create_event_context({"type": "B"})
        a.__enter__()
        try:
            b.__enter__()
            try:
                with pytest.raises(EventContextError, match="not the innermost runner") as info:
                    a.__exit__(None, None, None)
                assert "type='A'" in str(info.value)
                # nothing was undone by the refused exit
                assert use_event_context().type == "B"
            finally:
                b.__exit__(None, None, None)
            assert use_event_context().type == "A"
        finally:
            a.__exit__(None, None, None)
        assert try_get_current() is None

    def test_exit_without_enter_is_refused(self) -> None:
        """Exiting a runner never entered here raises EventContextError."""
        runner = create_event_context({"type": "JOB"})
        with pytest.raises(EventContextError, match="not the innermost runner"):
            runner.__exit__(None, None, None)
        assert try_get_current() is None

    def test_with_from_threads(self) -> None:
        """`with runner:` in several threads: each thread gets back its own previous state."""
        runner = create_event_context({"type": "JOB"})
        barrier = threading.Barrier(3)
        results: list[tuple[bool, Any]] = []
        lock = threading.Lock()

        def worker() -> None:
            with runner as ctx:
                barrier.wait()
                inside = use_event_context() is ctx
                barrier.wait()
            with lock:
                results.append((inside, try_get_current()))

        threads = [threading.Thread(target=worker) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == [(True, None)] * 3


class TestAsyncWith:
    @pytest.mark.asyncio
    async def test_async_with_yields_context(self) -> None:
        """`async with runner as ctx` makes ctx active for the block."""
        runner = create_event_context({"type": "JOB"})
        async with runner as ctx:
            assert ctx is runner.context
            await asyncio.sleep(0)
            assert use_event_context() is ctx
        assert try_get_current() is None

    @pytest.mark.asyncio
    async def test_async_with_exception_same_object(self) -> None:
        """An exception in an async with block propagates unchanged and the context resets."""
        err = Boom()

        async def body() -> None:
            async with create_event_context({"type": "JOB"}):
                await asyncio.sleep(0)
                raise err

        with pytest.raises(Boom) as info:
            await body()
        assert info.value is err
        assert try_get_current() is None

    @pytest.mark.asyncio
    async def test_async_with_cancellation_restores(self) -> None:
        """A task cancelled inside `async with` gets its previous context back."""
        runner = create_event_context({"type": "JOB"})
        started = asyncio.Event()
        seen: list[Any] = []

        async def body() -> None:
            try:
                async with runner:
                    started.set()
                    await asyncio.Event().wait()
            except asyncio.CancelledError:
                seen.append(try_get_current())
                raise

        async with create_event_context({"type": "OUTER"}) as outer:
            task = asyncio.create_task(body())
            await started.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert seen == [outer]
            assert try_get_current() is outer

    @pytest.mark.asyncio
    async def test_concurrent_tasks_enter_same_runner(self) -> None:
        """Tasks entering one runner concurrently: one task's exit does not disturb another."""
        runner = create_event_context({"type": "JOB"})
        a_entered, b_entered, a_exited = asyncio.Event(), asyncio.Event(), asyncio.Event()
        report: dict[str, Any] = {}

        async def task_a(prev: EventRunner[Any, Any]) -> None:
            async with prev as prev_ctx:
                async with runner as ctx:
                    ctx.store("hits").set("a", True)
                    a_entered.set()
                    await b_entered.wait()
                report["a_after"] = try_get_current() is prev_ctx
                a_exited.set()

        async def task_b(prev: EventRunner[Any, Any]) -> None:
            async with prev as prev_ctx:
                await a_entered.wait()
                async with runner as ctx:
                    ctx.store("hits").set("b", True)
                    b_entered.set()
                    await a_exited.wait()
                    report["b_inside_after_a_exit"] = use_event_context() is ctx
                report["b_after"] = try_get_current() is prev_ctx

        await asyncio.gather(
            task_a(create_event_context({"type": "PREV_A"})),
            task_b(create_event_context({"type": "PREV_B"})),
        )
        assert report == {"a_after": True, "b_inside_after_a_exit": True, "b_after": True}
        assert runner.context.store("hits").value == {"a": True, "b": True}
        assert try_get_current() is None

    @pytest.mark.asyncio
    async def test_many_tasks_same_runner(self) -> None:
        """Many tasks entering and leaving one runner in interleaved order all end clean."""
        runner = create_event_context({"type": "JOB"})

        async def worker(i: int) -> tuple[bool, Any]:
            async with runner as ctx:
                for _ in range(i % 3 + 1):
                    await asyncio.sleep(0)
                ok = use_event_context() is ctx
            return ok, try_get_current()

        results = await asyncio.gather(*(worker(i) for i in range(20)))
        assert results == [(True, None)] * 20


class TestRun:
    def test_run_activates_existing_context(self) -> None:
        """run(ctx, fn, *args, **kwargs) calls fn with ctx active and returns its result."""
        ctx = EventContext({"type": "JOB"})

        def handler(a: int, *, b: int) -> tuple[int, int, bool]:
            return a, b, use_event_context() is ctx

        assert run(ctx, handler, 1, b=2) == (1, 2, True)
        assert try_get_current() is None

    def test_run_restores_after_exception(self) -> None:
        """run() restores the previous context and propagates the same exception object."""
        ctx = EventContext({"type": "JOB"})
        err = Boom()

        def handler() -> None:
            raise err

        with create_event_context({"type": "OUTER"}) as outer:
            with pytest.raises(Boom) as info:
                run(ctx, handler)
            assert info.value is err
            assert try_get_current() is outer

    @pytest.mark.asyncio
    async def test_run_async(self) -> None:
        """run() with an async handler returns a coroutine that runs inside ctx."""
        ctx = EventContext({"type": "JOB"})

        async def handler() -> bool:
            await asyncio.sleep(0)
            return use_event_context() is ctx

        assert await run(ctx, handler) is True
        assert try_get_current() is None

    def test_run_non_callable(self) -> None:
        """run(ctx, non_callable) is a TypeError naming the handler."""
        ctx = EventContext({"type": "JOB"})
        with pytest.raises(TypeError, match="callable handler"):
            run(ctx, 3)  # type: ignore[call-overload]

    def test_run_shares_store_with_runner(self) -> None:
        """run() on a runner's context sees the same store as the runner."""
        runner = create_event_context({"type": "JOB"})
        runner(lambda: use_event_context().store("s").set("k", "v"))
        assert run(runner.context, lambda: use_event_context().store("s").get("k")) == "v"
