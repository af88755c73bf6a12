"""Leaks: a finished event is garbage unless the user keeps it, and memory stays flat.

Each weakref test drops everything the test itself held, runs ``gc.collect()`` and checks
that the ``EventContext`` is gone; the counter-tests keep a reference on purpose and check
that the context is still alive, so the weakref checks cannot pass by accident.

The tracemalloc tests run many events after a warm-up and assert that the traced memory
grows by less than ``GROWTH_BOUND`` over all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
import tracemalloc
import weakref
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import pytest

from event_core import (
    EventContext,
    EventKind,
    Key,
    bind,
    cached,
    cached_by,
    create_event_context,
    current,
    define_wook,
    snapshot,
    try_get_current,
    use_event_context,
    use_event_id,
    use_event_logger,
)

# Keeping one small object per event (a 50-byte str, a 56-byte empty dict) over 20,000 events
# is already > 900 KiB: 64 KiB leaves room only for noise, not for leaks.
GROWTH_BOUND = 64 * 1024
WARM_UP = 2_000


def collected(ref: weakref.ref[Any]) -> bool:
    """Whether the object behind ``ref`` is gone after a full collection."""
    gc.collect()
    return ref() is None


def events_for(scale: int) -> int:
    """How many events each tracemalloc test runs: 20,000 at scale 1, 1,000,000 at scale 10.

    Issue 5 asks for 100,000 in ``make test``, but tracemalloc makes each event ~4x slower:
    on a 2-core machine 100,000 typed-slot events took ~12 s of CPU without coverage and
    ~38 s under coverage (``make test``), so scale 1 runs 20,000 (~2 s and ~8 s). At scale 10
    (``make stress``) the full 1,000,000 of the issue runs (minutes; the timeout is raised).
    """
    return 20_000 if scale == 1 else 100_000 * scale


class Job(EventKind, name="leakjob"):
    """Typed keys of the events in these tests."""

    number: Key[int]
    payload: Key[Any]


@cached
def doubled(ctx: EventContext[Any, Any]) -> int:
    """A cached slot computed from the event."""
    return ctx.get(Job.number) * 2


@cached
def broken(ctx: EventContext[Any, Any]) -> int:
    """A cached slot whose error (with its traceback) is cached for the event."""
    raise LookupError(f"nothing for {ctx.type}")


@cached
async def fetched(ctx: EventContext[Any, Any]) -> str:
    """An async cached slot: its task and shared awaitable point back at the context."""
    await asyncio.sleep(0)
    return ctx.type


@cached_by
def header(name: str, ctx: EventContext[Any, Any]) -> str:
    """A per-key cached function."""
    return f"{name}:{ctx.type}"


@define_wook
def use_request(ctx: EventContext[Any, Any]) -> dict[str, Any]:
    """A composable whose value refers back to the context."""
    return {"ctx": ctx, "type": ctx.type}


class Holder:
    """Something a handler can keep a reference in (a stand-in for a user's cache)."""

    kept: Any = None


def handler_touching_everything() -> None:
    """Use every per-event facility once: store, id, logger, typed and cached slots."""
    ctx = use_event_context()
    ctx.store("job").init("status", lambda: "pending")
    ctx.store("job").hook("status").value = "running"
    use_event_id().get_id()
    use_event_logger().info("hello")
    use_event_logger("db").debug("query")
    ctx.set(Job.payload, {"big": list(range(100))})
    ctx.get(doubled)
    header("accept")
    use_request()
    with pytest.raises(LookupError):
        ctx.get(broken)


@pytest.fixture
def quiet_logs() -> Iterator[None]:
    """Logging stays on (records are made and handled), but nothing is printed."""
    logger = logging.getLogger("event_core.event")
    handler = logging.NullHandler()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


class TestFinishedEventsAreGarbage:
    def test_after_a_sync_run(self, quiet_logs: None) -> None:
        """A runner dropped after a run leaves its context to the garbage collector."""
        runner = Job.create_context(number=1)
        ref = weakref.ref(runner.context)
        runner(handler_touching_everything)
        del runner
        assert collected(ref)

    def test_kept_by_the_user_it_lives(self) -> None:
        """A context the handler stored somewhere stays alive, then dies once released."""
        holder = Holder()
        runner = create_event_context({"type": "JOB"})
        ref = weakref.ref(runner.context)
        runner(lambda: setattr(holder, "kept", current()))
        del runner
        assert not collected(ref)
        assert holder.kept is ref()
        holder.kept = None
        assert collected(ref)

    def test_kept_runner_keeps_its_context(self) -> None:
        """The runner owns its context: while the runner is referenced, so is the context."""
        runner = create_event_context({"type": "JOB"})
        ref = weakref.ref(runner.context)
        runner(lambda: None)
        assert not collected(ref)
        del runner
        assert collected(ref)

    def test_after_a_with_block(self, quiet_logs: None) -> None:
        """``with runner:`` leaves nothing behind that points at the context."""
        runner = Job.create_context(number=1)
        ref = weakref.ref(runner.context)
        with runner:
            handler_touching_everything()
        del runner
        assert try_get_current() is None
        assert collected(ref)

    def test_after_nested_with_blocks(self) -> None:
        """Nested with blocks, child inside parent: both contexts die once dropped."""
        parent = create_event_context({"type": "PARENT"})
        with parent:
            child = create_event_context({"type": "CHILD"})
            with child as child_ctx:
                assert child_ctx.parent is parent.context
        refs = [weakref.ref(parent.context), weakref.ref(child.context)]
        del parent, child, child_ctx
        assert all(collected(ref) for ref in refs)

    def test_child_keeps_its_parent_alive(self) -> None:
        """A child context references its parent: the parent lives as long as the child."""
        parent = create_event_context({"type": "PARENT"})
        child = parent(lambda: create_event_context({"type": "CHILD"}))
        parent_ref = weakref.ref(parent.context)
        del parent
        assert not collected(parent_ref)
        assert child.context.parent is parent_ref()
        del child
        assert collected(parent_ref)

    @pytest.mark.asyncio
    async def test_after_an_async_run(self, quiet_logs: None) -> None:
        """An awaited run, with an async cached slot (a task pointing back at the context)."""

        async def handler() -> None:
            handler_touching_everything()
            assert await current().get(fetched) == "leakjob"
            await asyncio.sleep(0)

        runner = Job.create_context(number=1)
        ref = weakref.ref(runner.context)
        await runner(handler)
        del runner
        assert collected(ref)

    @pytest.mark.asyncio
    async def test_after_an_async_with_block_and_tasks(self) -> None:
        """``async with`` and the tasks created inside it release the context when done."""

        async def child() -> str:
            await asyncio.sleep(0)
            return current().type

        runner = create_event_context({"type": "JOB"})
        ref = weakref.ref(runner.context)
        async with runner:
            tasks = [asyncio.create_task(child()) for _ in range(3)]
            assert await asyncio.gather(*tasks) == ["JOB"] * 3
        del runner, tasks
        for _ in range(3):  # the loop drops gather's done-callbacks on its next iterations
            await asyncio.sleep(0)
        assert collected(ref)

    def test_after_a_failed_run(self) -> None:
        """A run that raised leaves the context to the collector once the error is dropped."""

        def fail() -> None:
            use_event_context().store("job").set("status", "failed")
            raise ValueError("handler failed")

        runner = create_event_context({"type": "JOB"})
        ref = weakref.ref(runner.context)
        with contextlib.suppress(ValueError):
            runner(fail)
        del runner
        assert collected(ref)

    def test_a_kept_exception_keeps_the_context(self) -> None:
        """A kept exception holds its traceback, whose frames hold the context: documented."""
        runner = create_event_context({"type": "JOB"})
        ref = weakref.ref(runner.context)
        kept: list[BaseException] = []
        try:
            runner(lambda: 1 / 0)
        except ZeroDivisionError as exc:
            kept.append(exc)
        del runner
        assert not collected(ref)
        kept[0].__traceback__ = None
        assert collected(ref)

    @pytest.mark.asyncio
    async def test_after_a_cancelled_run(self) -> None:
        """A run cancelled by a timeout leaves the context to the collector."""

        async def hang() -> None:
            await asyncio.Event().wait()

        runner = create_event_context({"type": "JOB"})
        ref = weakref.ref(runner.context)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(runner(hang), 0.01)
        del runner
        assert collected(ref)

    def test_cached_slots_do_not_keep_it(self) -> None:
        """Cached values, cached errors, cached_by tables and wooks die with the event."""

        def handler() -> Any:
            ctx = current()
            assert use_request()["ctx"] is ctx  # a value pointing back at the context
            with pytest.raises(LookupError):
                ctx.get(broken)
            return ctx.get(doubled), header("accept")

        runner = Job.create_context(number=21)
        ref = weakref.ref(runner.context)
        assert runner(handler) == (42, "accept:leakjob")
        del runner
        assert collected(ref)

    def test_a_kept_logger_does_not_keep_the_context(self, quiet_logs: None) -> None:
        """use_event_logger()'s adapter outlives its event without keeping the context."""
        runner = create_event_context({"type": "JOB", "id": "job-1"})
        ref = weakref.ref(runner.context)
        loggers = runner(lambda: [use_event_logger(), use_event_logger("db")])
        del runner
        assert collected(ref)
        assert loggers[0].extra == {"event_id": "job-1", "event_type": "JOB"}
        loggers[1].info("still usable after the event")

    def test_loggers_are_cached_per_event_not_per_process(self) -> None:
        """Two events get two adapters; neither adapter keeps either context."""
        first = create_event_context({"type": "JOB"})
        second = create_event_context({"type": "JOB"})
        refs = [weakref.ref(first.context), weakref.ref(second.context)]
        adapters = [first(use_event_logger), second(use_event_logger)]
        assert adapters[0] is not adapters[1]
        assert first(use_event_logger) is adapters[0]
        del first, second
        assert all(collected(ref) for ref in refs)

    def test_bound_function_keeps_it_until_dropped(self) -> None:
        """bind(fn) keeps its event alive (it must run there later) until it is dropped."""
        runner = create_event_context({"type": "JOB"})
        ref = weakref.ref(runner.context)
        bound = runner(lambda: bind(try_get_current))
        del runner
        assert not collected(ref)
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(bound).result() is ref()
        del bound
        assert collected(ref)

    def test_snapshot_keeps_it_until_dropped(self) -> None:
        """snapshot() keeps its event alive until it is dropped."""
        runner = create_event_context({"type": "JOB"})
        ref = weakref.ref(runner.context)
        snap = runner(snapshot)
        del runner
        assert not collected(ref)
        assert snap(current) is ref()
        del snap
        assert collected(ref)

    def test_threads_that_ran_it_do_not_keep_it(self) -> None:
        """Pool threads, plain threads and asyncio.to_thread workers let the context go."""

        async def handler() -> None:
            assert await asyncio.to_thread(try_get_current) is current()

        def work() -> None:
            with ThreadPoolExecutor(2) as pool:
                assert pool.submit(bind(current)).result() is current()
                thread = threading.Thread(target=bind(current))
                thread.start()
                thread.join()
            asyncio.run(handler())

        runner = create_event_context({"type": "JOB"})
        ref = weakref.ref(runner.context)
        runner(work)
        del runner
        assert collected(ref)

    def test_many_dropped_events_are_all_collected(self) -> None:
        """Of 1,000 events run and dropped, none survives a collection."""
        refs = []
        for i in range(1_000):
            runner = Job.create_context(number=i)
            refs.append(weakref.ref(runner.context))
            runner(lambda: current().get(doubled))
        del runner
        gc.collect()
        assert sum(ref() is not None for ref in refs) == 0


def traced_growth(run_one: Callable[[int], Any], events: int) -> int:
    """Bytes still traced after ``events`` runs of ``run_one``, measured after a warm-up."""
    tracemalloc.start()
    try:
        for i in range(WARM_UP):
            run_one(i)
        gc.collect()
        before, _ = tracemalloc.get_traced_memory()
        for i in range(events):
            run_one(i)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return after - before


def seed_api_handler() -> str:
    """What a JOB handler of the seed's API does: store sections and hooks."""
    ctx = use_event_context("JOB")
    job = ctx.store("job")
    job.init("status", lambda: "pending")
    job.set("status", "running")
    job.hook("result").value = ctx.event["input"]
    job.set("status", "completed")
    return str(job.get("status"))


def typed_slots_handler() -> int:
    """What a handler of the typed-slot API does: keys, cached slots, cached_by, wooks."""
    ctx = current()
    ctx.set(Job.payload, ctx.get(Job.number) + 1)
    use_request()
    header("accept")
    return ctx.get(doubled)


@pytest.mark.stress
class TestMemoryStaysFlat:
    @pytest.mark.timeout(900)
    def test_seed_api_over_many_events(self, stress_scale: int) -> None:
        """Events using store sections, run and dropped, leave traced memory flat."""
        events = events_for(stress_scale)

        def run_one(i: int) -> str:
            return create_event_context({"type": "JOB", "input": i})(seed_api_handler)

        growth = traced_growth(run_one, events)
        print(f"seed API: {events} events, traced growth {growth} bytes")
        assert growth < GROWTH_BOUND

    @pytest.mark.timeout(900)
    def test_typed_slots_over_many_events(self, stress_scale: int) -> None:
        """Events using typed keys and cached slots, run and dropped, leave memory flat."""
        events = events_for(stress_scale)

        def run_one(i: int) -> int:
            return Job.create_context(number=i)(typed_slots_handler)

        growth = traced_growth(run_one, events)
        print(f"typed slots: {events} events, traced growth {growth} bytes")
        assert growth < GROWTH_BOUND

    def test_the_bound_catches_a_real_leak(self) -> None:
        """The measurement is sensitive: keeping one small object per event breaks the bound."""
        kept: list[Any] = []

        def leaky(i: int) -> None:
            create_event_context({"type": "JOB"})(lambda: kept.append(current().type + str(i)))

        growth = traced_growth(leaky, 5_000)
        assert growth > GROWTH_BOUND
        assert len(kept) == WARM_UP + 5_000
