"""Crossing threads and tasks (SPEC section 6): what carries the event by itself, what needs bind.

``contextvars`` follow ``asyncio`` tasks (``create_task``, ``gather``, ``TaskGroup``),
``asyncio.to_thread`` and anyio's task groups and ``to_thread.run_sync``, because each copies
the caller's ``Context``. ``ThreadPoolExecutor.submit``, ``loop.run_in_executor`` and
``threading.Thread`` do not: the callable runs in the worker thread's own context. ``bind``
and ``snapshot`` carry the event there.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Optional

import anyio
import anyio.lowlevel
import pytest

from event_core import (
    ContextInjector,
    EventContext,
    EventRunner,
    NoEventContextError,
    bind,
    create_event_context,
    current,
    replace_context_injector,
    reset_context_injector,
    snapshot,
    try_get_current,
    use_event_context,
)

NO_EVENT = "Event context does not exist at this point."


@pytest.fixture
def anyio_backend() -> str:
    """anyio tests of this module run on asyncio (the library's own loop of choice)."""
    return "asyncio"


@pytest.fixture
def pool() -> Any:
    """A one-worker pool, so that consecutive submissions run in the same worker thread."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        yield executor


def event_type() -> Optional[str]:
    """The type of the event active here, or None outside any event."""
    ctx = try_get_current()
    return None if ctx is None else ctx.type


def in_thread(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` in a new ``threading.Thread`` and return its result (or raise its error)."""
    box: list[Any] = []

    def target() -> None:
        try:
            box.append(("ok", fn()))
        except BaseException as exc:
            box.append(("error", exc))

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    kind, value = box[0]
    if kind == "error":
        raise value
    return value


class TestThreadPoolExecutor:
    def test_submit_without_bind_sees_no_event(self, pool: ThreadPoolExecutor) -> None:
        """A callable submitted to a pool runs in the worker's context: no event there."""
        with create_event_context({"type": "JOB"}) as ctx:
            assert current() is ctx
            assert pool.submit(try_get_current).result() is None
            with pytest.raises(NoEventContextError, match=NO_EVENT):
                pool.submit(use_event_context).result()

    def test_submit_with_bind_sees_the_event(self, pool: ThreadPoolExecutor) -> None:
        """bind(fn) submitted to a pool runs in the event active where bind was called."""
        with create_event_context({"type": "JOB"}) as ctx:
            assert pool.submit(bind(use_event_context)).result() is ctx
            assert pool.submit(bind(try_get_current)).result() is ctx

    def test_worker_context_is_clean_after_a_bound_call(self, pool: ThreadPoolExecutor) -> None:
        """After a bound call returns, the worker thread is outside any event again."""
        with create_event_context({"type": "JOB"}) as ctx:
            assert pool.submit(bind(try_get_current)).result() is ctx
            assert pool.submit(try_get_current).result() is None

    def test_writes_in_the_worker_land_in_the_event_store(self, pool: ThreadPoolExecutor) -> None:
        """The worker sees the same EventContext object: its writes are the event's writes."""

        def worker() -> None:
            use_event_context().store("job").set("from_worker", threading.get_ident())

        with create_event_context({"type": "JOB"}) as ctx:
            pool.submit(bind(worker)).result()
            assert ctx.store("job").get("from_worker") not in (None, threading.get_ident())

    def test_many_events_share_one_pool_without_cross_talk(self) -> None:
        """Events handled in several threads, all using one pool, each see only themselves."""

        def handler(i: int, executor: ThreadPoolExecutor) -> bool:
            def read() -> Any:
                return use_event_context().event["i"]

            futures = [executor.submit(bind(read)) for _ in range(20)]
            return all(future.result() == i for future in futures)

        with ThreadPoolExecutor(max_workers=4) as executor, ThreadPoolExecutor(8) as callers:
            futures = [
                callers.submit(create_event_context({"type": "JOB", "i": i}), handler, i, executor)
                for i in range(40)
            ]
            results = [future.result() for future in futures]
        assert results == [True] * 40


class TestBind:
    def test_bind_outside_an_event_raises(self) -> None:
        """bind() called outside any event raises NoEventContextError."""
        with pytest.raises(NoEventContextError, match=NO_EVENT) as info:
            bind(print)
        assert "bind()" in str(info.value)

    def test_bind_rejects_a_non_callable(self) -> None:
        """bind() of something that is not callable raises TypeError naming it."""
        with create_event_context({"type": "JOB"}), pytest.raises(TypeError, match="callable"):
            bind(42)  # type: ignore[arg-type]

    def test_bound_fn_keeps_args_kwargs_and_return(self, pool: ThreadPoolExecutor) -> None:
        """A bound function receives its positional and keyword arguments and returns its result."""

        def add(a: int, b: int, *, scale: int = 1) -> tuple[int, Optional[str]]:
            return (a + b) * scale, event_type()

        with create_event_context({"type": "JOB"}):
            bound = bind(add)
        assert bound(1, 2) == (3, "JOB")
        assert bound(1, b=2, scale=10) == (30, "JOB")
        assert pool.submit(bound, 2, 3, scale=2).result() == (10, "JOB")

    def test_bound_fn_raises_the_same_exception_object(self, pool: ThreadPoolExecutor) -> None:
        """An exception raised by a bound function reaches the caller unchanged (same object)."""
        raised: list[BaseException] = []

        def fail() -> None:
            error = LookupError("missing")
            raised.append(error)
            raise error

        with create_event_context({"type": "JOB"}):
            bound = bind(fail)
        with pytest.raises(LookupError) as direct:
            bound()
        assert direct.value is raised[-1]
        with pytest.raises(LookupError) as pooled:
            pool.submit(bound).result()
        assert pooled.value is raised[-1]
        assert try_get_current() is None

    def test_bound_fn_keeps_the_wrapped_metadata(self) -> None:
        """bind() returns a wrapper with the function's name, docstring and __wrapped__."""

        def handler() -> None:
            """Handle it."""

        with create_event_context({"type": "JOB"}):
            bound = bind(handler)
        assert bound.__name__ == "handler"
        assert bound.__doc__ == "Handle it."
        assert bound.__wrapped__ is handler  # type: ignore[attr-defined]

    def test_bound_fn_runs_in_the_captured_event_not_the_callers(self) -> None:
        """Called while another event is active, a bound fn sees the captured event, and the
        caller's event is active again afterwards."""
        with create_event_context({"type": "CAPTURED"}) as captured:
            bound = bind(try_get_current)
        with create_event_context({"type": "CALLER"}) as caller:
            assert bound() is captured
            assert current() is caller
        assert try_get_current() is None

    def test_bound_fn_failure_restores_the_callers_event(self) -> None:
        """A bound fn that raises still gives the caller its own event back."""
        with create_event_context({"type": "CAPTURED"}):
            bound = bind(functools.partial(int, "not a number"))
        with create_event_context({"type": "CALLER"}) as caller:
            with pytest.raises(ValueError):
                bound()
            assert current() is caller

    def test_bind_captures_at_bind_time(self) -> None:
        """The event is the one active when bind() is called, not when the result is called."""
        outer = create_event_context({"type": "OUTER"})
        with outer as outer_ctx:
            bound = bind(try_get_current)
            with create_event_context({"type": "INNER"}) as inner_ctx:
                assert bound() is outer_ctx
                assert bind(try_get_current)() is inner_ctx

    def test_bound_fn_works_in_a_plain_thread(self) -> None:
        """threading.Thread targets see no event unless the target is bound."""
        with create_event_context({"type": "JOB"}) as ctx:
            assert in_thread(try_get_current) is None
            assert in_thread(bind(try_get_current)) is ctx

    def test_bound_async_fn_keeps_its_event_under_another_loop(self) -> None:
        """A bound ``async def`` run by asyncio.run in another thread sees the captured event."""

        async def read() -> Optional[str]:
            await asyncio.sleep(0)
            return event_type()

        with create_event_context({"type": "JOB"}):
            bound = bind(read)
        assert in_thread(lambda: asyncio.run(bound())) == "JOB"  # type: ignore[arg-type]

    def test_bound_fn_does_not_call_the_context_injector(self, pool: ThreadPoolExecutor) -> None:
        """Re-activating an event through bind is not a new event: the injector is not called."""
        names: list[str] = []

        class Recorder(ContextInjector):
            def with_(self, name: str, attributes: Any, fn: Callable[[], Any]) -> Any:
                names.append(name)
                return fn()

        replace_context_injector(Recorder())
        try:

            def handler() -> Any:
                return pool.submit(bind(event_type)).result()

            assert create_event_context({"type": "JOB"})(handler) == "JOB"
        finally:
            reset_context_injector()
        assert names == ["Event:start"]


class TestSnapshot:
    def test_snapshot_outside_an_event_raises(self) -> None:
        """snapshot() called outside any event raises NoEventContextError."""
        with pytest.raises(NoEventContextError, match=NO_EVENT) as info:
            snapshot()
        assert "snapshot()" in str(info.value)

    def test_snapshot_is_a_runner_of_the_active_event(self) -> None:
        """snapshot() returns an EventRunner whose context is the active event."""
        with create_event_context({"type": "JOB"}) as ctx:
            snap = snapshot()
        assert isinstance(snap, EventRunner)
        assert snap.context is ctx

    def test_snapshot_runs_fns_with_args_in_a_worker(self, pool: ThreadPoolExecutor) -> None:
        """snapshot()(fn, *args, **kwargs) runs fn in the captured event, in any thread."""

        def describe(prefix: str, *, suffix: str) -> str:
            return f"{prefix}{use_event_context().type}{suffix}"

        with create_event_context({"type": "JOB"}):
            snap = snapshot()
            assert pool.submit(snap, describe, "<", suffix=">").result() == "<JOB>"
        assert snap(describe, "[", suffix="]") == "[JOB]"
        assert try_get_current() is None

    def test_snapshot_restores_the_callers_event(self) -> None:
        """A snapshot used inside another event restores that event afterwards, even on error."""
        with create_event_context({"type": "CAPTURED"}) as captured:
            snap = snapshot()
        with create_event_context({"type": "CALLER"}) as caller:
            assert snap(current) is captured
            with pytest.raises(ZeroDivisionError):
                snap(lambda: 1 / 0)
            assert current() is caller

    def test_snapshot_used_as_a_with_block_in_a_thread(self) -> None:
        """``with snapshot():`` in another thread makes the event active for the block."""
        with create_event_context({"type": "JOB"}) as ctx:
            snap = snapshot()

            def work() -> Any:
                with snap as inside:
                    return inside is ctx and current() is ctx

            assert in_thread(work) is True


class TestRunInExecutor:
    @pytest.mark.asyncio
    async def test_run_in_executor_without_bind_sees_no_event(self) -> None:
        """loop.run_in_executor does not carry the event, on the default or a given executor."""
        loop = asyncio.get_running_loop()
        async with create_event_context({"type": "JOB"}) as ctx:
            assert current() is ctx
            assert await loop.run_in_executor(None, try_get_current) is None
            with ThreadPoolExecutor(1) as executor:
                assert await loop.run_in_executor(executor, try_get_current) is None

    @pytest.mark.asyncio
    async def test_run_in_executor_with_bind_sees_the_event(self) -> None:
        """loop.run_in_executor(None, bind(fn), *args) runs fn in the event, with its args."""
        loop = asyncio.get_running_loop()

        def read(field: str) -> Any:
            return use_event_context().event[field]

        async with create_event_context({"type": "JOB", "job_id": "j1"}) as ctx:
            assert await loop.run_in_executor(None, bind(read), "job_id") == "j1"
            assert await loop.run_in_executor(None, snapshot(), current) is ctx
        assert try_get_current() is None


class TestAsyncioCarriesTheEvent:
    @pytest.mark.asyncio
    async def test_to_thread_carries_the_event(self) -> None:
        """asyncio.to_thread copies the context: the function sees the event with no bind."""

        def in_worker() -> Any:
            use_event_context().store("job").set("thread", threading.get_ident())
            return current()

        async with create_event_context({"type": "JOB"}) as ctx:
            assert await asyncio.to_thread(in_worker) is ctx
            assert ctx.store("job").get("thread") != threading.get_ident()

    @pytest.mark.asyncio
    async def test_create_task_carries_the_event(self) -> None:
        """A task created inside an event runs in it, even after the creator left the event."""

        async def read() -> Any:
            await asyncio.sleep(0)
            return try_get_current()

        async with create_event_context({"type": "JOB"}) as ctx:
            task = asyncio.create_task(read())
        assert try_get_current() is None
        assert await task is ctx

    @pytest.mark.asyncio
    async def test_task_changes_do_not_leak_to_the_creator(self) -> None:
        """An event entered inside a task stays in that task: its creator is unaffected."""

        async def enter_and_stay() -> Any:
            runner = create_event_context({"type": "CHILD"})
            async with runner as child:
                await asyncio.sleep(0)
                return child

        async with create_event_context({"type": "JOB"}) as ctx:
            child = await asyncio.create_task(enter_and_stay())
            assert current() is ctx
            assert child.parent is ctx

    @pytest.mark.asyncio
    async def test_gather_of_tasks_in_separate_events(self) -> None:
        """Coroutines gathered from different events each see their own event."""

        async def handler() -> Any:
            await asyncio.sleep(0)
            return use_event_context().event["i"]

        results = await asyncio.gather(
            *(create_event_context({"type": "JOB", "i": i})(handler) for i in range(50))
        )
        assert results == list(range(50))

    @pytest.mark.skipif(
        sys.version_info < (3, 11), reason="asyncio.TaskGroup is new in Python 3.11"
    )
    @pytest.mark.asyncio
    async def test_task_group_carries_the_event(self) -> None:
        """Tasks started by an asyncio.TaskGroup inside an event run in that event."""
        seen: list[Any] = []

        async def child() -> None:
            await asyncio.sleep(0)
            seen.append(try_get_current())

        runner = create_event_context({"type": "JOB"})
        async with runner as ctx, asyncio.TaskGroup() as group:  # type: ignore[attr-defined]
            for _ in range(5):
                group.create_task(child())
        assert seen == [ctx] * 5

    @pytest.mark.asyncio
    async def test_loop_call_soon_carries_the_event(self) -> None:
        """loop.call_soon callbacks run in a copy of the scheduling context."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        async with create_event_context({"type": "JOB"}) as ctx:
            loop.call_soon(lambda: future.set_result(try_get_current()))
            assert await future is ctx


class TestAnyio:
    @pytest.mark.anyio
    async def test_anyio_task_group_carries_the_event(self) -> None:
        """Tasks started with anyio's start_soon inside an event run in that event."""
        seen: list[Any] = []

        async def child(i: int) -> None:
            await anyio.lowlevel.checkpoint()
            seen.append((i, try_get_current()))

        runner = create_event_context({"type": "JOB"})
        async with runner as ctx, anyio.create_task_group() as group:
            for i in range(5):
                group.start_soon(child, i)
        assert sorted(seen, key=lambda pair: pair[0]) == [(i, ctx) for i in range(5)]

    @pytest.mark.anyio
    async def test_anyio_to_thread_carries_the_event(self) -> None:
        """anyio.to_thread.run_sync copies the context, like asyncio.to_thread."""
        async with create_event_context({"type": "JOB"}) as ctx:
            assert await anyio.to_thread.run_sync(try_get_current) is ctx

    @pytest.mark.anyio
    async def test_anyio_tasks_in_separate_events(self) -> None:
        """Each task of one anyio task group may run its own event without cross-talk."""
        results: dict[int, Any] = {}

        async def handler(i: int) -> None:
            async with create_event_context({"type": "JOB", "i": i}) as ctx:
                for _ in range(3):
                    await anyio.lowlevel.checkpoint()
                    assert current() is ctx
                results[i] = use_event_context().event["i"]

        async with anyio.create_task_group() as group:
            for i in range(20):
                group.start_soon(handler, i)
        assert results == {i: i for i in range(20)}


class TestContextCopies:
    def test_copy_context_run_sees_the_event(self) -> None:
        """contextvars.copy_context().run is the low-level way: it carries the event too."""
        with create_event_context({"type": "JOB"}) as ctx:
            copied = contextvars.copy_context()
        assert try_get_current() is None
        assert copied.run(try_get_current) is ctx
        assert in_thread(lambda: copied.run(try_get_current)) is ctx

    def test_event_context_objects_cross_threads_freely(self, pool: ThreadPoolExecutor) -> None:
        """An EventContext handed to another thread can be activated there with run/snapshot."""
        from event_core import run

        ctx: EventContext[Any, Any] = create_event_context({"type": "JOB"}).context
        assert pool.submit(run, ctx, current).result() is ctx
        assert pool.submit(try_get_current).result() is None
