"""Faults inside an event: the previous context comes back, the exception is untouched.

Every fault (an exception, ``asyncio.CancelledError``, ``KeyboardInterrupt``, a timeout from
``asyncio.wait_for``) is raised inside a handler run by a sync runner, an async runner, a
``with`` block and an ``async with`` block, with and without an outer event. The handler
records the exception object it raised, so each test can check that the caller gets the very
same object (``is``), that the outer event (or none) is active again, and that an installed
context injector saw the failure.

The last classes pin down the generator behaviour documented in docs/concurrency.md: a
generator has no context of its own, so each resumption runs in the context of whoever
resumes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import Any, Callable, Optional, TypeVar

import pytest

from event_core import (
    ContextInjector,
    EventContext,
    EventContextError,
    EventRunner,
    create_event_context,
    current,
    replace_context_injector,
    reset_context_injector,
    snapshot,
    try_get_current,
)

T = TypeVar("T")

KINDS = ["exception", "cancelled", "keyboard_interrupt", "timeout"]
EXPECTED: dict[str, type[BaseException]] = {
    "exception": ValueError,
    "cancelled": asyncio.CancelledError,
    "keyboard_interrupt": KeyboardInterrupt,
    "timeout": asyncio.TimeoutError,  # the builtin TimeoutError on 3.11+
}
TIMEOUT = 0.01  # how long a hanging handler waits before asyncio.wait_for gives up


class Recorder(ContextInjector):
    """A context injector that records how each run ended, like a tracing span would."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.failures: list[BaseException] = []
        self.successes = 0

    def with_(self, name: str, attributes: Any, fn: Callable[[], T]) -> T:
        self.started.append(str(attributes.get("event_type")))
        try:
            result = fn()
        except BaseException as exc:
            self.failures.append(exc)
            raise
        if inspect.isawaitable(result):
            return self._watch(result)  # type: ignore[return-value]
        self.successes += 1
        return result

    async def _watch(self, awaitable: Awaitable[T]) -> T:
        try:
            result = await awaitable
        except BaseException as exc:
            self.failures.append(exc)
            raise
        self.successes += 1
        return result

    @contextlib.contextmanager
    def scope(self, name: str, attributes: Any) -> Iterator[None]:
        """The same record for a ``with runner:`` block."""
        self.started.append(str(attributes.get("event_type")))
        try:
            yield
        except BaseException as exc:
            self.failures.append(exc)
            raise
        self.successes += 1


@pytest.fixture
def injector() -> Iterator[Recorder]:
    """A Recorder installed for the test, always removed afterwards."""
    recorder = Recorder()
    replace_context_injector(recorder)
    try:
        yield recorder
    finally:
        reset_context_injector()


@pytest.fixture(params=["no_outer_event", "outer_event"])
def outer(request: pytest.FixtureRequest) -> Optional[EventRunner[Any, Any]]:
    """None, or the runner of an event the test makes active around the faulty one."""
    if request.param == "no_outer_event":
        return None
    return create_event_context({"type": "OUTER"})


@contextlib.contextmanager
def around(outer: Optional[EventRunner[Any, Any]]) -> Iterator[Optional[EventContext[Any, Any]]]:
    """Enter ``outer`` if there is one; yield the context that must be active afterwards."""
    if outer is None:
        yield None
    else:
        with outer as ctx:
            yield ctx


async def hang() -> None:
    """Wait forever (until cancelled)."""
    await asyncio.Event().wait()


def fault(kind: str, seen: list[BaseException]) -> None:
    """Raise the fault ``kind`` from synchronous code, recording the exception object."""
    try:
        if kind == "timeout":
            asyncio.run(asyncio.wait_for(hang(), TIMEOUT))
        elif kind == "exception":
            raise ValueError("handler failed")
        elif kind == "cancelled":
            raise asyncio.CancelledError()
        else:
            raise KeyboardInterrupt()
    except BaseException as exc:
        seen.append(exc)
        raise


async def afault(kind: str, seen: list[BaseException]) -> None:
    """Raise the fault ``kind`` from a coroutine, after a real suspension."""
    try:
        await asyncio.sleep(0)
        if kind == "timeout":
            await asyncio.wait_for(hang(), TIMEOUT)
        elif kind == "exception":
            raise ValueError("handler failed")
        elif kind == "cancelled":
            raise asyncio.CancelledError()
        else:
            raise KeyboardInterrupt()
    except BaseException as exc:
        seen.append(exc)
        raise


def run_sync_mode(mode: str, kind: str, seen: list[BaseException]) -> None:
    """Raise ``kind`` inside a new event entered the ``mode`` way (sync modes)."""
    runner = create_event_context({"type": "FAULTY"})
    if mode == "runner":
        runner(fault, kind, seen)
    else:
        with runner as ctx:
            assert current() is ctx
            fault(kind, seen)


async def run_async_mode(mode: str, kind: str, seen: list[BaseException]) -> None:
    """Raise ``kind`` inside a new event entered the ``mode`` way (async modes)."""
    runner = create_event_context({"type": "FAULTY"})
    if mode == "async_runner":
        await runner(afault, kind, seen)
    else:
        async with runner as ctx:
            assert current() is ctx
            await afault(kind, seen)


class TestSyncFaults:
    @pytest.mark.parametrize("kind", KINDS)
    @pytest.mark.parametrize("mode", ["runner", "with"])
    def test_fault_restores_the_previous_context(
        self, mode: str, kind: str, outer: Optional[EventRunner[Any, Any]]
    ) -> None:
        """A fault in a sync runner or with block propagates as the same object and the
        outer event (or none) is active again."""
        seen: list[BaseException] = []
        with around(outer) as expected:
            with pytest.raises(EXPECTED[kind]) as info:
                run_sync_mode(mode, kind, seen)
            assert info.value is seen[0]
            assert try_get_current() is expected
        assert try_get_current() is None

    @pytest.mark.parametrize("kind", KINDS)
    def test_nested_runs_unwind_level_by_level(self, kind: str) -> None:
        """A fault three events deep restores each level on its way out."""
        seen: list[BaseException] = []
        levels: list[Optional[EventContext[Any, Any]]] = []

        def level(depth: int) -> None:
            if depth == 0:
                fault(kind, seen)
                return
            try:
                create_event_context({"type": f"L{depth}"})(level, depth - 1)
            finally:
                levels.append(try_get_current())

        runner = create_event_context({"type": "TOP"})
        with pytest.raises(EXPECTED[kind]) as info:
            runner(level, 3)
        assert info.value is seen[0]
        assert [ctx.type if ctx else None for ctx in levels] == ["L2", "L3", "TOP"]
        assert try_get_current() is None


class TestAsyncFaults:
    @pytest.mark.asyncio
    @pytest.mark.parametrize("kind", KINDS)
    @pytest.mark.parametrize("mode", ["async_runner", "async_with"])
    async def test_fault_restores_the_previous_context(
        self, mode: str, kind: str, outer: Optional[EventRunner[Any, Any]]
    ) -> None:
        """A fault in an async runner or async with block propagates as the same object and
        the outer event (or none) is active again."""
        seen: list[BaseException] = []
        with around(outer) as expected:
            with pytest.raises(EXPECTED[kind]) as info:
                await run_async_mode(mode, kind, seen)
            assert info.value is seen[0]
            assert try_get_current() is expected
        assert try_get_current() is None

    @pytest.mark.asyncio
    @pytest.mark.parametrize("mode", ["async_runner", "async_with"])
    async def test_task_cancelled_from_outside(
        self, mode: str, outer: Optional[EventRunner[Any, Any]]
    ) -> None:
        """task.cancel() while the handler waits: the handler's CancelledError reaches the
        task's own code as the same object, with the task's previous context back."""
        seen: list[BaseException] = []
        caught: list[BaseException] = []
        after: list[Optional[EventContext[Any, Any]]] = []
        started = asyncio.Event()

        async def handler() -> None:
            started.set()
            try:
                await hang()
            except asyncio.CancelledError as exc:
                seen.append(exc)
                raise

        async def task_body() -> None:
            with around(outer):
                runner = create_event_context({"type": "FAULTY"})
                try:
                    if mode == "async_runner":
                        await runner(handler)
                    else:
                        async with runner:
                            await handler()
                except asyncio.CancelledError as exc:
                    caught.append(exc)
                    after.append(try_get_current())
                    raise

        task = asyncio.create_task(task_body())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert len(seen) == 1
        assert caught[0] is seen[0]
        assert after == [None if outer is None else outer.context]
        assert try_get_current() is None

    @pytest.mark.asyncio
    @pytest.mark.parametrize("mode", ["async_runner", "async_with"])
    async def test_wait_for_around_the_event_times_out(
        self, mode: str, outer: Optional[EventRunner[Any, Any]]
    ) -> None:
        """asyncio.wait_for around a hanging event cancels it; the caller gets TimeoutError
        with its own context, and the handler saw a CancelledError."""
        seen: list[BaseException] = []

        async def handler() -> None:
            try:
                await hang()
            except asyncio.CancelledError as exc:
                seen.append(exc)
                raise

        async def in_with() -> None:
            async with create_event_context({"type": "FAULTY"}):
                await handler()

        with around(outer) as expected:
            if mode == "async_runner":
                work = create_event_context({"type": "FAULTY"})(handler)
            else:
                work = in_with()
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(work, TIMEOUT)
            assert try_get_current() is expected
        assert [type(exc) for exc in seen] == [asyncio.CancelledError]

    @pytest.mark.asyncio
    @pytest.mark.parametrize("kind", ["exception", "keyboard_interrupt"])
    async def test_fault_in_a_sync_runner_inside_a_coroutine(self, kind: str) -> None:
        """A sync runner used from a coroutine restores the coroutine's event on failure."""
        seen: list[BaseException] = []
        async with create_event_context({"type": "OUTER"}) as outer_ctx:
            with pytest.raises(EXPECTED[kind]) as info:
                create_event_context({"type": "FAULTY"})(fault, kind, seen)
            assert info.value is seen[0]
            await asyncio.sleep(0)
            assert current() is outer_ctx


class TestInjectorSeesFailures:
    @pytest.mark.parametrize("kind", KINDS)
    @pytest.mark.parametrize("mode", ["runner", "with"])
    def test_injector_sees_the_failure(self, mode: str, kind: str, injector: Recorder) -> None:
        """The installed injector observes the very exception that fails a sync event."""
        seen: list[BaseException] = []
        with pytest.raises(EXPECTED[kind]) as info:
            run_sync_mode(mode, kind, seen)
        assert info.value is seen[0]
        assert injector.failures == [seen[0]]
        assert injector.started == ["FAULTY"]
        assert injector.successes == 0
        assert try_get_current() is None

    @pytest.mark.asyncio
    @pytest.mark.parametrize("kind", KINDS)
    @pytest.mark.parametrize("mode", ["async_runner", "async_with"])
    async def test_injector_sees_the_async_failure(
        self, mode: str, kind: str, injector: Recorder
    ) -> None:
        """The installed injector observes the very exception that fails an async event."""
        seen: list[BaseException] = []
        with pytest.raises(EXPECTED[kind]) as info:
            await run_async_mode(mode, kind, seen)
        assert info.value is seen[0]
        assert injector.failures == [seen[0]]
        assert injector.started == ["FAULTY"]
        assert injector.successes == 0
        assert try_get_current() is None

    @pytest.mark.asyncio
    async def test_injector_sees_a_cancellation_from_outside(self, injector: Recorder) -> None:
        """A run cancelled by asyncio.wait_for ends the injector's wrapper with CancelledError."""
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(create_event_context({"type": "FAULTY"})(hang), TIMEOUT)
        assert [type(exc) for exc in injector.failures] == [asyncio.CancelledError]
        assert injector.successes == 0

    @pytest.mark.asyncio
    async def test_injector_sees_an_async_with_block_cancelled(self, injector: Recorder) -> None:
        """An ``async with`` block cancelled by asyncio.wait_for ends the injector's scope
        with CancelledError."""

        async def block() -> None:
            async with create_event_context({"type": "FAULTY"}):
                await hang()

        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(block(), TIMEOUT)
        assert [type(exc) for exc in injector.failures] == [asyncio.CancelledError]
        assert injector.started == ["FAULTY"]
        assert try_get_current() is None

    def test_failing_scope_restores_the_context(self) -> None:
        """An injector whose scope fails on entry leaves the outer event active, and its
        error propagates as the same object."""
        error = RuntimeError("scope broke")

        class Broken(ContextInjector):
            def scope(self, name: str, attributes: Any) -> Any:
                raise error

        with create_event_context({"type": "OUTER"}) as outer_ctx:
            replace_context_injector(Broken())
            try:
                faulty = create_event_context({"type": "FAULTY"})
                with pytest.raises(RuntimeError) as info, faulty:
                    raise AssertionError("the block must not run")
            finally:
                reset_context_injector()
            assert info.value is error
            assert current() is outer_ctx
        assert try_get_current() is None

    def test_injector_sees_success_and_failure_separately(self, injector: Recorder) -> None:
        """Successful runs are not reported as failures, failed ones are."""
        runner = create_event_context({"type": "FAULTY"})
        assert runner(lambda: 42) == 42
        with pytest.raises(ValueError):
            runner(fault, "exception", [])
        assert injector.successes == 1
        assert [type(exc) for exc in injector.failures] == [ValueError]

    def test_failing_injector_restores_the_context(self) -> None:
        """An injector that itself raises leaves no event active and its error propagates."""
        error = RuntimeError("injector broke")

        class Broken(ContextInjector):
            def with_(self, name: str, attributes: Any, fn: Callable[[], T]) -> T:
                raise error

        replace_context_injector(Broken())
        try:
            with create_event_context({"type": "OUTER"}) as outer_ctx:
                with pytest.raises(RuntimeError) as info:
                    create_event_context({"type": "FAULTY"})(lambda: None)
                assert info.value is error
                assert current() is outer_ctx
        finally:
            reset_context_injector()


class TestGenerators:
    """Generators have no context of their own: each resumption runs in the resumer's."""

    def test_generator_made_in_an_event_resumed_outside(self) -> None:
        """A generator created inside ``with runner:`` sees no event when resumed outside."""

        def types() -> Iterator[Optional[str]]:
            while True:
                ctx = try_get_current()
                yield None if ctx is None else ctx.type

        with create_event_context({"type": "CREATED"}):
            gen = types()
            assert next(gen) == "CREATED"
        assert next(gen) is None
        with create_event_context({"type": "OTHER"}):
            assert next(gen) == "OTHER"

    def test_yield_inside_with_leaks_the_event_to_the_consumer(self) -> None:
        """A generator that yields inside ``with runner:`` leaves the event active in the
        consumer between items; the consumer's context is back once it is exhausted."""
        runner = create_event_context({"type": "GEN"})

        def produce() -> Iterator[int]:
            with runner:
                yield 1
                yield 2

        gen = produce()
        assert next(gen) == 1
        assert current() is runner.context  # the consumer now runs inside GEN
        assert next(gen) == 2
        assert list(gen) == []
        assert try_get_current() is None

    def test_generator_closed_early_in_the_same_context_is_clean(self) -> None:
        """Breaking out of a for loop closes the generator right there: the with block exits."""
        runner = create_event_context({"type": "GEN"})

        def produce() -> Iterator[int]:
            with runner:
                yield from range(10)

        for item in produce():
            if item == 3:
                break
        assert try_get_current() is None

    def test_interleaved_with_blocks_make_the_exit_fail(self, make_event_context: Any) -> None:
        """If the consumer enters another event between items, the generator's with block
        cannot exit: EventContextError says it is not the innermost runner."""
        runner = make_event_context({"type": "GEN"})

        def produce() -> Iterator[int]:
            with runner:
                yield 1

        gen = produce()
        next(gen)
        with make_event_context({"type": "CONSUMER"}), pytest.raises(EventContextError) as info:
            next(gen)
        assert "not the innermost runner" in str(info.value)

    def test_snapshot_runs_each_step_in_the_event(self) -> None:
        """The documented fix: resume the generator through snapshot(), one step at a time."""

        def types() -> Iterator[Optional[str]]:
            for _ in range(3):
                ctx = try_get_current()
                yield None if ctx is None else ctx.type

        def iterate_in(runner: EventRunner[Any, Any], iterable: Any) -> Iterator[Any]:
            iterator = iter(iterable)
            while True:
                try:
                    item = runner(next, iterator)
                except StopIteration:
                    return
                yield item

        with create_event_context({"type": "EVENT"}):
            snap = snapshot()
        assert list(iterate_in(snap, types())) == ["EVENT"] * 3
        assert try_get_current() is None

    def test_contextmanager_wrapping_a_with_block_is_fine(self) -> None:
        """A @contextmanager that yields inside ``with runner:`` is used as a with block, so
        entry and exit happen in the same context: nothing leaks."""
        runner = create_event_context({"type": "CM"})

        @contextlib.contextmanager
        def in_event() -> Iterator[EventContext[Any, Any]]:
            with runner as ctx:
                yield ctx

        with in_event() as ctx:
            assert current() is ctx
        assert try_get_current() is None


class TestAsyncGenerators:
    """Async generators follow the task that drives them, step by step."""

    @pytest.mark.asyncio
    async def test_async_generator_made_in_an_event_iterated_outside(self) -> None:
        """An async generator created inside ``async with`` sees no event when iterated outside."""

        async def types() -> AsyncIterator[Optional[str]]:
            while True:
                await asyncio.sleep(0)
                ctx = try_get_current()
                yield None if ctx is None else ctx.type

        async with create_event_context({"type": "CREATED"}):
            agen = types()
            assert await agen.__anext__() == "CREATED"
        assert await agen.__anext__() is None
        await agen.aclose()

    @pytest.mark.asyncio
    async def test_yield_inside_async_with_leaks_into_the_consuming_task(self) -> None:
        """An async generator that yields inside ``async with runner:`` leaves the event
        active in the consuming task between items, until it is exhausted."""
        runner = create_event_context({"type": "GEN"})

        async def produce() -> AsyncIterator[int]:
            async with runner:
                yield 1
                yield 2

        agen = produce()
        assert await agen.__anext__() == 1
        assert current() is runner.context
        assert [item async for item in agen] == [2]
        assert try_get_current() is None

    @pytest.mark.asyncio
    async def test_steps_in_separate_tasks_lose_the_event(self, make_event_context: Any) -> None:
        """Each step driven by its own task (as asyncio.wait_for did before 3.12) runs in a
        copy of the caller's context: the event entered in step one is gone in step two, and
        the with block cannot exit."""
        runner = make_event_context({"type": "GEN"})
        inside: list[Optional[EventContext[Any, Any]]] = []

        async def produce() -> AsyncIterator[int]:
            async with runner:
                inside.append(try_get_current())
                yield 1
                inside.append(try_get_current())

        agen = produce()
        assert await asyncio.create_task(agen.__anext__()) == 1  # type: ignore[arg-type]
        assert try_get_current() is None  # nothing leaked: the step ran in the task's copy
        with pytest.raises(EventContextError, match="not the innermost runner"):
            await asyncio.create_task(agen.__anext__())  # type: ignore[arg-type]
        assert inside == [runner.context, None]

    @pytest.mark.asyncio
    async def test_snapshot_drives_each_step_in_the_event(self) -> None:
        """The documented fix: ``await snap(agen.__anext__)`` runs each step in the event."""

        async def types() -> AsyncIterator[Optional[str]]:
            for _ in range(3):
                await asyncio.sleep(0)
                ctx = try_get_current()
                yield None if ctx is None else ctx.type

        async def aiterate_in(runner: EventRunner[Any, Any], aiterable: Any) -> Any:
            aiterator = aiterable.__aiter__()
            while True:
                try:
                    item = await runner(aiterator.__anext__)
                except StopAsyncIteration:
                    return
                yield item

        async with create_event_context({"type": "EVENT"}):
            snap = snapshot()
        assert [item async for item in aiterate_in(snap, types())] == ["EVENT"] * 3
        assert try_get_current() is None

    @pytest.mark.asyncio
    async def test_asynccontextmanager_wrapping_async_with_is_fine(self) -> None:
        """An @asynccontextmanager that yields inside ``async with runner:`` nests cleanly."""
        runner = create_event_context({"type": "CM"})

        @contextlib.asynccontextmanager
        async def in_event() -> AsyncIterator[EventContext[Any, Any]]:
            async with runner as ctx:
                yield ctx

        async with in_event() as ctx:
            await asyncio.sleep(0)
            assert current() is ctx
        assert try_get_current() is None

    def test_context_copy_isolates_a_leaking_generator(self) -> None:
        """Running the consumer in a contextvars copy keeps a leaking generator's event there."""
        runner = create_event_context({"type": "GEN"})

        def produce() -> Iterator[int]:
            with runner:
                yield 1

        def consume() -> list[int]:
            return list(produce())

        assert contextvars.copy_context().run(consume) == [1]
        assert try_get_current() is None
