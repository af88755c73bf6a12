"""Typed slots (SPEC section 5): Key, cached, cached_by, define_wook, the parent chain,
current/try_get_current/run, threads, and the one storage shared with ``store(key)``."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Optional

import pytest

from event_core import (
    Cached,
    CachedBy,
    CircularDependencyError,
    EventContext,
    EventContextError,
    EventRunner,
    Key,
    KeyNotSetError,
    NoEventContextError,
    Slot,
    cached,
    cached_by,
    create_event_context,
    current,
    define_wook,
    run,
    try_get_current,
    use_event_context,
)


def _event(event_type: str = "TEST", **fields: Any) -> EventContext[Any, Any]:
    """A bare root context (not active)."""
    return EventContext({"type": event_type, **fields})


class Counter:
    """Counts calls of a factory, per argument."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

    @property
    def count(self) -> int:
        return len(self.calls)


# ------------------------------------------------------------------------------------- Key


class TestKey:
    def test_get_before_set_raises_key_not_set(self) -> None:
        """Reading a Key that was never set raises KeyNotSetError naming the key."""
        user_id: Key[int] = Key("user_id")
        with create_event_context({"type": "HTTP"}) as ctx, pytest.raises(KeyNotSetError) as info:
            ctx.get(user_id)
        assert str(info.value).startswith('Key "user_id" is not set')

    def test_key_not_set_is_an_event_context_error(self) -> None:
        """KeyNotSetError derives from EventContextError (a RuntimeError)."""
        assert issubclass(KeyNotSetError, EventContextError)
        assert issubclass(KeyNotSetError, RuntimeError)

    def test_set_then_get(self) -> None:
        """set() stores the value and returns it; get() reads it back."""
        name: Key[str] = Key("name")
        ctx = _event()
        assert ctx.set(name, "ada") == "ada"
        assert ctx.get(name) == "ada"

    @pytest.mark.parametrize("value", [None, 0, "", False, 0.0, [], {}])
    def test_falsy_values_are_values(self, value: object) -> None:
        """None and falsy values are stored as values: get() returns them, has() is true."""
        key: Key[object] = Key("falsy")
        ctx = _event()
        ctx.set(key, value)
        assert ctx.has(key) is True
        assert ctx.get(key) is value

    def test_set_overwrites(self) -> None:
        """A second set() replaces the value."""
        key: Key[int] = Key("n")
        ctx = _event()
        ctx.set(key, 1)
        ctx.set(key, 2)
        assert ctx.get(key) == 2

    def test_keys_with_the_same_name_are_different_slots(self) -> None:
        """A Key is its own identity: two keys named alike do not share a value."""
        first: Key[int] = Key("same")
        second: Key[int] = Key("same")
        ctx = _event()
        ctx.set(first, 1)
        assert ctx.has(second) is False
        with pytest.raises(KeyNotSetError):
            ctx.get(second)

    def test_values_are_per_event(self) -> None:
        """A value set in one event is not seen by another event."""
        key: Key[str] = Key("per_event")
        one, two = _event(), _event()
        one.set(key, "one")
        assert two.has(key) is False

    def test_has_is_false_before_set(self) -> None:
        """has() is false for a Key that was never set."""
        assert _event().has(Key("never")) is False

    def test_key_is_a_slot_with_name(self) -> None:
        """A Key is a Slot, with its name and no factory."""
        key: Key[int] = Key("user_id")
        assert isinstance(key, Slot)
        assert key.name == "user_id"
        assert key.factory is None

    @pytest.mark.parametrize("name", ["", 1, None])
    def test_bad_name_raises_type_error(self, name: Any) -> None:
        """A Key name that is not a non-empty str is a TypeError naming it."""
        with pytest.raises(TypeError, match="name"):
            Key(name)

    def test_repr(self) -> None:
        """repr() shows the class and the name."""
        assert repr(Key("user_id")) == "Key('user_id')"

    def test_get_with_a_non_slot_is_a_type_error(self) -> None:
        """get/set/has with something that is not a slot raise TypeError naming it."""
        ctx = create_event_context({"type": "T"}).context
        for call in (
            lambda: ctx.get("user_id"),  # type: ignore[arg-type]
            lambda: ctx.set("user_id", 1),  # type: ignore[arg-type]
            lambda: ctx.has("user_id"),  # type: ignore[arg-type]
        ):
            with pytest.raises(TypeError, match="user_id"):
                call()


# ---------------------------------------------------------------------------------- cached


class TestCached:
    def test_computed_on_first_get(self) -> None:
        """The factory does not run when the slot is made, only on the first get()."""
        counter = Counter()

        @cached
        def slot(ctx: EventContext) -> str:
            counter.calls.append(ctx)
            return "value"

        ctx = _event()
        assert counter.count == 0
        assert ctx.get(slot) == "value"
        assert counter.calls == [ctx]

    def test_computed_once_per_event(self) -> None:
        """Later reads in the same event return the same object without calling the factory."""
        counter = Counter()

        @cached
        def slot(ctx: EventContext) -> dict[str, int]:
            counter.calls.append(ctx)
            return {"n": 1}

        ctx = _event()
        first = ctx.get(slot)
        assert ctx.get(slot) is first
        assert ctx.get(slot) is first
        assert counter.count == 1

    def test_distinct_per_event(self) -> None:
        """Each event computes its own value."""

        @cached
        def slot(ctx: EventContext) -> list[str]:
            return [ctx.event["name"]]

        one, two = _event(name="one"), _event(name="two")
        assert one.get(slot) == ["one"]
        assert two.get(slot) == ["two"]
        assert one.get(slot) is not two.get(slot)

    def test_reads_the_event_and_other_slots(self) -> None:
        """A factory may read the event and other slots of the context it is given."""
        method: Key[str] = Key("method")

        @cached
        def upper_method(ctx: EventContext) -> str:
            return ctx.get(method).upper()

        @cached
        def line(ctx: EventContext) -> str:
            return f"{ctx.get(upper_method)} {ctx.event['path']}"

        ctx = _event(path="/x")
        ctx.set(method, "get")
        assert ctx.get(line) == "GET /x"

    def test_errors_are_cached_and_reraised(self) -> None:
        """A failing factory runs once; every read re-raises the same exception object."""
        counter = Counter()

        @cached
        def slot(ctx: EventContext) -> int:
            counter.calls.append(ctx)
            raise ValueError("boom")

        ctx = _event()
        with pytest.raises(ValueError, match="boom") as first:
            ctx.get(slot)
        with pytest.raises(ValueError) as second:
            ctx.get(slot)
        assert second.value is first.value
        assert counter.count == 1

    def test_error_is_per_event(self) -> None:
        """A cached error belongs to its event: another event runs the factory again."""
        counter = Counter()

        @cached
        def slot(ctx: EventContext) -> int:
            counter.calls.append(ctx)
            raise ValueError(ctx.event["name"])

        for name in ("one", "two"):
            with pytest.raises(ValueError, match=name):
                _event(name=name).get(slot)
        assert counter.count == 2

    def test_base_exception_is_not_cached(self) -> None:
        """A KeyboardInterrupt-like exception is not the factory's answer: the next read retries."""
        attempts: list[int] = []

        @cached
        def slot(ctx: EventContext) -> int:
            attempts.append(1)
            if len(attempts) == 1:
                raise KeyboardInterrupt
            return len(attempts)

        ctx = _event()
        with pytest.raises(KeyboardInterrupt):
            ctx.get(slot)
        assert ctx.has(slot) is False
        assert ctx.get(slot) == 2

    def test_self_dependency_raises_circular_dependency(self) -> None:
        """A factory that reads its own slot raises CircularDependencyError naming the slot."""

        @cached
        def loop(ctx: EventContext) -> int:
            return ctx.get(loop) + 1

        with pytest.raises(CircularDependencyError) as info:
            _event().get(loop)
        assert str(info.value).startswith(f'Circular dependency detected for "{loop.name}"')
        assert isinstance(info.value, EventContextError)

    def test_indirect_cycle_raises_circular_dependency(self) -> None:
        """A cycle through two slots is detected too; the error names the slot read twice."""

        @cached
        def first(ctx: EventContext) -> int:
            return ctx.get(second)

        @cached
        def second(ctx: EventContext) -> int:
            return ctx.get(first)

        ctx = _event()
        with pytest.raises(CircularDependencyError) as info:
            ctx.get(first)
        assert str(info.value).startswith(
            "Circular dependency detected for "
            '"TestCached.test_indirect_cycle_raises_circular_dependency.<locals>.first"'
        )
        # the error is cached like any other: the next read re-raises it
        with pytest.raises(CircularDependencyError) as again:
            ctx.get(first)
        assert again.value is info.value

    def test_slot_name_is_the_factory_qualname(self) -> None:
        """A cached slot is named after its factory's __qualname__."""

        @cached
        def client(ctx: EventContext) -> str:
            return "c"

        assert isinstance(client, Cached)
        assert isinstance(client, Slot)
        assert client.name == "TestCached.test_slot_name_is_the_factory_qualname.<locals>.client"
        assert client.name == client.factory.__qualname__  # type: ignore[union-attr]

    def test_has_is_false_before_first_get(self) -> None:
        """A cached slot has no value before its first get(), and one after."""

        @cached
        def slot(ctx: EventContext) -> int:
            return 1

        ctx = _event()
        assert ctx.has(slot) is False
        assert ctx.has_own(slot) is False
        ctx.get(slot)
        assert ctx.has(slot) is True
        assert ctx.has_own(slot) is True

    def test_has_is_true_once_an_error_is_cached(self) -> None:
        """has() is true once a cached error is stored."""

        @cached
        def slot(ctx: EventContext) -> int:
            raise LookupError("nope")

        ctx = _event()
        with pytest.raises(LookupError):
            ctx.get(slot)
        assert ctx.has(slot) is True
        assert ctx.has_own(slot) is True

    def test_has_is_false_while_computing(self) -> None:
        """While its factory runs, a slot holds no value yet."""
        seen: list[bool] = []

        @cached
        def slot(ctx: EventContext) -> int:
            seen.append(ctx.has(slot))
            return 1

        _event().get(slot)
        assert seen == [False]

    def test_set_overrides_a_cached_slot(self) -> None:
        """set() on a cached slot stores the value; the factory then never runs."""
        counter = Counter()

        @cached
        def slot(ctx: EventContext) -> str:
            counter.calls.append(ctx)
            return "computed"

        ctx = _event()
        ctx.set(slot, "given")
        assert ctx.get(slot) == "given"
        assert counter.count == 0

    def test_none_result_is_cached(self) -> None:
        """A factory returning None is not called again: None is a value."""
        counter = Counter()

        @cached
        def slot(ctx: EventContext) -> None:
            counter.calls.append(ctx)

        ctx = _event()
        assert ctx.get(slot) is None
        assert ctx.get(slot) is None
        assert counter.count == 1

    def test_not_callable_raises_type_error(self) -> None:
        """cached() of something that is not callable is a TypeError naming it."""
        with pytest.raises(TypeError, match="cached"):
            cached(42)  # type: ignore[call-overload]

    def test_repr(self) -> None:
        """repr() of a cached slot shows its name."""

        @cached
        def slot(ctx: EventContext) -> int:
            return 1

        assert repr(slot) == f"Cached({slot.name!r})"

    def test_works_through_the_active_context(self) -> None:
        """Inside a runner, current().get(slot) computes the slot for the active event."""

        @cached
        def event_type(ctx: EventContext) -> str:
            return ctx.type.lower()

        assert create_event_context({"type": "HTTP"})(lambda: current().get(event_type)) == "http"


# ---------------------------------------------------------------------------- async cached


class TestAsyncCached:
    @pytest.mark.asyncio
    async def test_hundred_concurrent_awaits_run_the_factory_once(self) -> None:
        """100 concurrent awaits under asyncio.gather run the factory once and share its value."""
        counter = Counter()

        @cached
        async def profile(ctx: EventContext) -> dict[str, str]:
            counter.calls.append(ctx)
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            return {"user": ctx.event["user"]}

        with create_event_context({"type": "HTTP", "user": "ada"}) as ctx:
            values = await asyncio.gather(*(ctx.get(profile) for _ in range(100)))
        assert counter.count == 1
        assert values[0] == {"user": "ada"}
        assert all(value is values[0] for value in values)

    @pytest.mark.asyncio
    async def test_concurrent_tasks_share_the_value(self) -> None:
        """Tasks each calling current().get(slot) share one run of the factory."""
        counter = Counter()

        @cached
        async def token(ctx: EventContext) -> object:
            counter.calls.append(ctx)
            await asyncio.sleep(0)
            return object()

        async def read() -> object:
            return await current().get(token)

        async def handler() -> list[object]:
            return await asyncio.gather(*(asyncio.ensure_future(read()) for _ in range(20)))

        values = await create_event_context({"type": "T"})(handler)
        assert counter.count == 1
        assert len({id(value) for value in values}) == 1

    @pytest.mark.asyncio
    async def test_await_again_after_completion(self) -> None:
        """Awaiting again after the factory finished returns the same value without rerunning."""
        counter = Counter()

        @cached
        async def slot(ctx: EventContext) -> list[int]:
            counter.calls.append(ctx)
            return [1]

        ctx = _event()
        first = await ctx.get(slot)
        second = await ctx.get(slot)
        awaitable = ctx.get(slot)
        assert await awaitable is first
        assert await awaitable is first
        assert second is first
        assert counter.count == 1

    @pytest.mark.asyncio
    async def test_get_returns_the_same_awaitable(self) -> None:
        """ctx.get(slot) of an async slot is one awaitable per event, cached like any value."""

        @cached
        async def slot(ctx: EventContext) -> int:
            return 1

        ctx = _event()
        awaitable = ctx.get(slot)
        assert ctx.get(slot) is awaitable
        assert ctx.has(slot) is True
        assert await awaitable == 1

    @pytest.mark.asyncio
    async def test_failure_is_cached_and_reraised_to_every_awaiter(self) -> None:
        """A failing async factory runs once; every awaiter, then and later, gets the same error."""
        counter = Counter()

        @cached
        async def slot(ctx: EventContext) -> int:
            counter.calls.append(ctx)
            await asyncio.sleep(0)
            raise ValueError("async boom")

        ctx = _event()
        results = await asyncio.gather(*(ctx.get(slot) for _ in range(10)), return_exceptions=True)
        assert counter.count == 1
        assert isinstance(results[0], ValueError)
        assert all(result is results[0] for result in results)
        with pytest.raises(ValueError, match="async boom") as later:
            await ctx.get(slot)
        assert later.value is results[0]
        assert counter.count == 1

    @pytest.mark.asyncio
    async def test_cancelled_first_awaiter_does_not_poison_the_others(self) -> None:
        """Cancelling the awaiter that started the factory leaves it running for the others."""
        counter = Counter()
        started = asyncio.Event()
        release = asyncio.Event()

        @cached
        async def slot(ctx: EventContext) -> str:
            counter.calls.append(ctx)
            started.set()
            await release.wait()
            return "value"

        ctx = _event()

        async def read() -> str:
            return await ctx.get(slot)

        first = asyncio.ensure_future(read())
        await started.wait()
        others = [asyncio.ensure_future(read()) for _ in range(5)]
        await asyncio.sleep(0)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        release.set()
        assert await asyncio.gather(*others) == ["value"] * 5
        assert await read() == "value"
        assert counter.count == 1

    @pytest.mark.asyncio
    async def test_factory_runs_in_the_event(self) -> None:
        """The async factory sees the event active (current() works inside it)."""

        @cached
        async def event_type(ctx: EventContext) -> str:
            await asyncio.sleep(0)
            return current().type

        async def handler() -> str:
            return await current().get(event_type)

        assert await create_event_context({"type": "CLI"})(handler) == "CLI"

    @pytest.mark.asyncio
    async def test_distinct_per_event(self) -> None:
        """Each event runs the async factory for itself."""

        @cached
        async def name(ctx: EventContext) -> str:
            return ctx.event["name"]

        assert await _event(name="a").get(name) == "a"
        assert await _event(name="b").get(name) == "b"

    @pytest.mark.asyncio
    async def test_repr_shows_the_state(self) -> None:
        """repr() of the awaitable names the factory and its state, and never raises."""
        release = asyncio.Event()

        @cached
        async def slot(ctx: EventContext) -> int:
            await release.wait()
            return 1

        @cached
        async def failing(ctx: EventContext) -> int:
            raise ValueError("x")

        ctx = _event()
        awaitable = ctx.get(slot)
        assert "slot" in repr(awaitable)
        assert "not started" in repr(awaitable)
        task = asyncio.ensure_future(_await(awaitable))
        await asyncio.sleep(0)
        assert "running" in repr(awaitable)
        release.set()
        await task
        assert "done" in repr(awaitable)
        broken = ctx.get(failing)
        with pytest.raises(ValueError):
            await broken
        assert "failed" in repr(broken)


async def _await(awaitable: Any) -> Any:
    return await awaitable


# ------------------------------------------------------------------------------- cached_by


class TestCachedBy:
    def test_one_value_per_key_per_event(self) -> None:
        """The function runs once per key in an event; each key has its own value."""
        counter = Counter()

        @cached_by
        def header(name: str, ctx: EventContext) -> str:
            counter.calls.append(name)
            return ctx.event["headers"][name]

        run_ = create_event_context({"type": "HTTP", "headers": {"a": "1", "b": "2"}})
        assert run_(lambda: [header("a"), header("b"), header("a"), header("b")]) == [
            "1",
            "2",
            "1",
            "2",
        ]
        assert counter.calls == ["a", "b"]

    def test_distinct_per_event(self) -> None:
        """Another event calls the function again for the same key."""
        counter = Counter()

        @cached_by
        def doubled(n: int, ctx: EventContext) -> list[int]:
            counter.calls.append(n)
            return [n * 2]

        one, two = _event(), _event()
        assert doubled(2, one) == [4]
        assert doubled(2, two) == [4]
        assert doubled(2, one) is not doubled(2, two)
        assert counter.calls == [2, 2]

    def test_active_context_by_default(self) -> None:
        """Called as (key), it uses the active event."""

        @cached_by
        def field(name: str, ctx: EventContext) -> Any:
            return ctx.event[name]

        assert create_event_context({"type": "JOB", "job_id": "j1"})(field, "job_id") == "j1"

    def test_explicit_ctx(self) -> None:
        """Called as (key, ctx), it uses that context, even outside any event."""

        @cached_by
        def field(name: str, ctx: EventContext) -> Any:
            return ctx.event[name]

        ctx = _event(job_id="j2")
        assert try_get_current() is None
        assert field("job_id", ctx) == "j2"
        assert field("job_id", ctx=ctx) == "j2"

    def test_explicit_ctx_wins_over_the_active_one(self) -> None:
        """An explicit ctx is used even when another event is active."""

        @cached_by
        def field(name: str, ctx: EventContext) -> Any:
            return ctx.event[name]

        other = _event(name="other")
        with create_event_context({"type": "T", "name": "active"}):
            assert field("name", other) == "other"
            assert field("name") == "active"

    def test_outside_an_event_raises_no_event_context(self) -> None:
        """Called without ctx outside any event, it raises NoEventContextError."""

        @cached_by
        def field(name: str, ctx: EventContext) -> Any:
            return name

        with pytest.raises(NoEventContextError, match="field"):
            field("x")

    def test_errors_are_cached_per_key(self) -> None:
        """A failure is cached for its key and re-raised (same object); other keys still work."""
        counter = Counter()

        @cached_by
        def parse(text: str, ctx: EventContext) -> int:
            counter.calls.append(text)
            return int(text)

        ctx = _event()
        with pytest.raises(ValueError) as first:
            parse("x", ctx)
        with pytest.raises(ValueError) as second:
            parse("x", ctx)
        assert second.value is first.value
        assert parse("7", ctx) == 7
        assert counter.calls == ["x", "7"]

    def test_none_and_falsy_results_are_cached(self) -> None:
        """None is a cached result like any other."""
        counter = Counter()

        @cached_by
        def lookup(name: str, ctx: EventContext) -> Optional[str]:
            counter.calls.append(name)
            return None

        ctx = _event()
        assert lookup("a", ctx) is None
        assert lookup("a", ctx) is None
        assert counter.calls == ["a"]

    def test_is_a_cached_by(self) -> None:
        """cached_by returns a CachedBy whose repr names the function."""

        @cached_by
        def lookup(name: str, ctx: EventContext) -> str:
            return name

        assert isinstance(lookup, CachedBy)
        assert repr(lookup) == ("<cached_by TestCachedBy.test_is_a_cached_by.<locals>.lookup>")

    def test_not_callable_raises_type_error(self) -> None:
        """cached_by() of something that is not callable is a TypeError."""
        with pytest.raises(TypeError, match="cached_by"):
            cached_by("nope")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- define_wook


class Request:
    def __init__(self, method: str) -> None:
        self.method = method


class TestDefineWook:
    def test_factory_runs_once_per_event(self) -> None:
        """The composable returns one object per event; the factory runs once."""
        counter = Counter()

        @define_wook
        def use_request(ctx: EventContext) -> Request:
            counter.calls.append(ctx)
            return Request(ctx.event["method"])

        def handler() -> bool:
            return use_request() is use_request() and use_request().method == "GET"

        assert create_event_context({"type": "HTTP", "method": "GET"})(handler) is True
        assert counter.count == 1

    def test_distinct_per_event(self) -> None:
        """Each event gets its own object."""

        @define_wook
        def use_request(ctx: EventContext) -> Request:
            return Request(ctx.event["method"])

        get = create_event_context({"type": "HTTP", "method": "GET"})(use_request)
        post = create_event_context({"type": "HTTP", "method": "POST"})(use_request)
        assert (get.method, post.method) == ("GET", "POST")

    def test_explicit_ctx(self) -> None:
        """use_x(ctx) uses that context, even outside any event, and shares its value."""

        @define_wook
        def use_request(ctx: EventContext) -> Request:
            return Request(ctx.event["method"])

        runner = create_event_context({"type": "HTTP", "method": "PUT"})
        outside = use_request(runner.context)
        assert outside.method == "PUT"
        assert runner(use_request) is outside

    def test_outside_an_event_raises_no_event_context(self) -> None:
        """Called with no ctx outside any event, it raises NoEventContextError naming it."""

        @define_wook
        def use_request(ctx: EventContext) -> Request:
            return Request("GET")

        with pytest.raises(NoEventContextError, match="use_request") as info:
            use_request()
        assert str(info.value).startswith("Event context does not exist at this point.")

    def test_errors_are_cached(self) -> None:
        """A failing factory runs once per event; the composable re-raises the same error."""
        counter = Counter()

        @define_wook
        def use_broken(ctx: EventContext) -> int:
            counter.calls.append(ctx)
            raise ValueError("broken")

        ctx = _event()
        with pytest.raises(ValueError) as first:
            use_broken(ctx)
        with pytest.raises(ValueError) as second:
            use_broken(ctx)
        assert first.value is second.value
        assert counter.count == 1

    def test_keeps_the_factory_name_and_doc(self) -> None:
        """The composable carries the factory's __name__, __qualname__ and __doc__."""

        @define_wook
        def use_request(ctx: EventContext) -> Request:
            """The request."""
            return Request("GET")

        assert use_request.__name__ == "use_request"  # type: ignore[attr-defined]
        assert use_request.__doc__ == "The request."
        assert use_request.__qualname__.endswith(".use_request")  # type: ignore[attr-defined]

    @pytest.mark.asyncio
    async def test_async_factory_is_awaitable_many_times(self) -> None:
        """An async factory makes a composable whose result is awaited any number of times."""
        counter = Counter()

        @define_wook
        async def use_user(ctx: EventContext) -> str:
            counter.calls.append(ctx)
            await asyncio.sleep(0)
            return ctx.event["user"]

        async def handler() -> list[str]:
            first = await use_user()
            return [first, *await asyncio.gather(*(use_user() for _ in range(10)))]

        assert await create_event_context({"type": "T", "user": "ada"})(handler) == ["ada"] * 11
        assert counter.count == 1


# ------------------------------------------------------------------------------ parent chain


def _child_of(parent: EventContext[Any, Any], event_type: str = "CHILD") -> EventContext[Any, Any]:
    """A context created while ``parent`` is active (so ``parent`` is its parent)."""
    runner: EventRunner[Any, Any] = run(parent, create_event_context, {"type": event_type})
    return runner.context


class TestParentChain:
    def test_child_created_in_an_event_has_it_as_parent(self) -> None:
        """A runner created inside an event makes that event its parent."""
        parent = _event("PARENT")
        child = _child_of(parent)
        assert child.parent is parent

    def test_child_reads_a_value_set_in_the_parent(self) -> None:
        """get() in the child returns the parent's value; has() is true in the child."""
        user: Key[str] = Key("user")
        parent = _event("PARENT")
        parent.set(user, "ada")
        child = _child_of(parent)
        assert child.get(user) == "ada"
        assert child.has(user) is True
        assert child.has_own(user) is False

    def test_grandchild_reads_through_the_whole_chain(self) -> None:
        """Reads walk every level up to the root."""
        user: Key[str] = Key("user")
        root = _event("ROOT")
        root.set(user, "ada")
        grandchild = _child_of(_child_of(root))
        assert grandchild.get(user) == "ada"

    def test_nearest_value_wins(self) -> None:
        """A value in the child hides the parent's."""
        user: Key[str] = Key("user")
        parent = _event("PARENT")
        parent.set(user, "parent")
        child = _child_of(parent)
        child.set_own(user, "child")
        assert child.get(user) == "child"
        assert parent.get(user) == "parent"

    def test_set_writes_where_the_slot_lives(self) -> None:
        """set() in the child updates the parent when the parent holds the slot."""
        user: Key[str] = Key("user")
        parent = _event("PARENT")
        parent.set(user, "before")
        child = _child_of(parent)
        assert child.set(user, "after") == "after"
        assert parent.get(user) == "after"
        assert child.has_own(user) is False

    def test_set_writes_in_the_grandparent_that_holds_the_slot(self) -> None:
        """set() walks past levels that do not hold the slot."""
        user: Key[str] = Key("user")
        root = _event("ROOT")
        root.set(user, "before")
        middle = _child_of(root)
        leaf = _child_of(middle)
        leaf.set(user, "after")
        assert root.get_own(user) == "after"
        assert middle.has_own(user) is False
        assert leaf.has_own(user) is False

    def test_set_writes_locally_when_no_ancestor_holds_the_slot(self) -> None:
        """set() of a slot found nowhere writes in the child only."""
        user: Key[str] = Key("user")
        parent = _event("PARENT")
        child = _child_of(parent)
        child.set(user, "ada")
        assert child.has_own(user) is True
        assert parent.has(user) is False

    def test_cached_value_in_a_parent_is_reused(self) -> None:
        """A cached value already computed in the parent is returned, not recomputed."""
        counter = Counter()

        @cached
        def slot(ctx: EventContext) -> list[str]:
            counter.calls.append(ctx)
            return [ctx.type]

        parent = _event("PARENT")
        value = parent.get(slot)
        child = _child_of(parent)
        assert child.get(slot) is value
        assert child.has_own(slot) is False
        assert counter.calls == [parent]

    def test_cached_error_in_a_parent_is_reraised(self) -> None:
        """A cached error in the parent is re-raised in the child (same object), not retried."""
        counter = Counter()

        @cached
        def slot(ctx: EventContext) -> int:
            counter.calls.append(ctx)
            raise ValueError("parent failed")

        parent = _event("PARENT")
        with pytest.raises(ValueError) as first:
            parent.get(slot)
        child = _child_of(parent)
        assert child.has(slot) is True
        with pytest.raises(ValueError) as second:
            child.get(slot)
        assert second.value is first.value
        assert counter.count == 1

    def test_cached_slot_missing_everywhere_is_computed_in_the_child(self) -> None:
        """A cached slot found nowhere is computed with, and kept in, the reading context."""
        counter = Counter()

        @cached
        def slot(ctx: EventContext) -> str:
            counter.calls.append(ctx)
            return ctx.type

        parent = _event("PARENT")
        child = _child_of(parent)
        assert child.get(slot) == "CHILD"
        assert child.has_own(slot) is True
        assert parent.has(slot) is False
        assert counter.calls == [child]

    def test_has_walks_the_chain(self) -> None:
        """has() is true when any ancestor holds the slot, false when none does."""
        key: Key[int] = Key("n")
        parent = _event("PARENT")
        child = _child_of(parent)
        assert child.has(key) is False
        parent.set(key, 0)
        assert child.has(key) is True

    def test_missing_key_in_the_whole_chain_raises(self) -> None:
        """A Key set nowhere in the chain raises KeyNotSetError from the child."""
        child = _child_of(_event("PARENT"))
        with pytest.raises(KeyNotSetError, match='Key "absent" is not set'):
            child.get(Key("absent"))


class TestOwnAccess:
    def test_get_own_does_not_walk(self) -> None:
        """get_own() ignores the parent's value and raises KeyNotSetError for a Key."""
        user: Key[str] = Key("user")
        parent = _event("PARENT")
        parent.set(user, "ada")
        child = _child_of(parent)
        with pytest.raises(KeyNotSetError, match='Key "user" is not set'):
            child.get_own(user)

    def test_get_own_reads_the_own_value(self) -> None:
        """get_own() returns a value stored in this context, falsy ones included."""
        user: Key[Optional[str]] = Key("user")
        ctx = _event()
        ctx.set_own(user, None)
        assert ctx.get_own(user) is None

    def test_get_own_computes_a_cached_slot_locally(self) -> None:
        """get_own() of a cached slot computed in the parent computes its own value."""
        counter = Counter()

        @cached
        def slot(ctx: EventContext) -> str:
            counter.calls.append(ctx)
            return ctx.type

        parent = _event("PARENT")
        parent.get(slot)
        child = _child_of(parent)
        assert child.get_own(slot) == "CHILD"
        assert child.get(slot) == "CHILD"
        assert counter.calls == [parent, child]

    def test_get_own_reraises_a_cached_error(self) -> None:
        """get_own() re-raises an error cached in this context."""

        @cached
        def slot(ctx: EventContext) -> int:
            raise ValueError("own")

        ctx = _event()
        with pytest.raises(ValueError) as first:
            ctx.get(slot)
        with pytest.raises(ValueError) as second:
            ctx.get_own(slot)
        assert second.value is first.value

    def test_set_own_writes_locally_even_if_the_parent_holds_the_slot(self) -> None:
        """set_own() stores in this context and leaves the parent's value alone."""
        user: Key[str] = Key("user")
        parent = _event("PARENT")
        parent.set(user, "parent")
        child = _child_of(parent)
        assert child.set_own(user, "child") == "child"
        assert parent.get(user) == "parent"
        assert child.get_own(user) == "child"

    def test_has_own_does_not_walk(self) -> None:
        """has_own() is false in the child when only the parent holds the slot."""
        user: Key[str] = Key("user")
        parent = _event("PARENT")
        parent.set(user, "ada")
        child = _child_of(parent)
        assert child.has_own(user) is False
        assert parent.has_own(user) is True

    def test_set_own_with_a_non_slot_is_a_type_error(self) -> None:
        """set_own() with something that is not a slot raises TypeError."""
        with pytest.raises(TypeError, match="slot"):
            _event().set_own("user", 1)  # type: ignore[arg-type]


# ---------------------------------------------------------------- _should_traverse_parent

secret: Key[str] = Key("secret")
shared: Key[str] = Key("shared")


class Isolated(EventContext[Any, Any]):
    """A context that keeps ``secret`` (and the ``local_only`` cached slot) to itself."""

    isolated: tuple = ()
    consulted: list[Slot[Any]]

    def _should_traverse_parent(self, key: Slot[Any]) -> bool:
        type(self).consulted.append(key)
        return key not in type(self).isolated


class TestShouldTraverseParent:
    def _pair(self, *isolated: Slot[Any]) -> tuple:
        parent = _event("PARENT")
        parent.set(secret, "parent secret")
        parent.set(shared, "parent shared")

        class Sub(Isolated):
            pass

        Sub.isolated = isolated
        Sub.consulted = []
        child = Sub({"type": "CHILD"}, options=None, parent=parent)
        return parent, child, Sub

    def test_isolated_key_is_not_read_from_the_parent(self) -> None:
        """A slot the subclass isolates is not found in the parent; others still are."""
        _, child, _ = self._pair(secret)
        assert child.parent is not None
        assert child.get(shared) == "parent shared"
        assert child.has(secret) is False
        with pytest.raises(KeyNotSetError):
            child.get(secret)

    def test_set_of_an_isolated_key_writes_locally(self) -> None:
        """set() of an isolated slot writes in the child and leaves the parent's value."""
        parent, child, _ = self._pair(secret)
        child.set(secret, "child secret")
        assert child.get(secret) == "child secret"
        assert parent.get(secret) == "parent secret"
        child.set(shared, "via child")
        assert parent.get(shared) == "via child"

    def test_isolated_cached_slot_is_computed_locally(self) -> None:
        """An isolated cached slot already in the parent is computed again for the child."""
        counter = Counter()

        @cached
        def local_only(ctx: EventContext) -> str:
            counter.calls.append(ctx)
            return ctx.type

        parent, child, _ = self._pair(local_only)
        parent.get(local_only)
        assert child.get(local_only) == "CHILD"
        assert counter.calls == [parent, child]

    def test_consulted_with_the_slot_at_each_lookup(self) -> None:
        """The hook receives the Key or cached slot itself, at every lookup that walks."""
        _, child, sub = self._pair()
        child.get(shared)
        child.get(shared)
        child.has(secret)
        assert sub.consulted == [shared, shared, secret]

    def test_constructed_with_event_options_and_parent(self) -> None:
        """A subclass instance is made with (event, options=None, *, parent=None)."""
        parent = _event("PARENT")
        child = Isolated({"type": "CHILD"}, options={"o": 1}, parent=parent)
        lone = Isolated({"type": "LONE"})
        assert (child.type, child.options, child.parent) == ("CHILD", {"o": 1}, parent)
        assert (lone.parent, lone.options) == (None, {})

    def test_subclass_runs_like_any_context(self) -> None:
        """A subclass instance can be activated with run(); current() returns it."""
        child = Isolated({"type": "CHILD"})
        assert run(child, current) is child


# ------------------------------------------------------------------ current / try / run


class TestCurrentAndRun:
    def test_current_outside_raises_no_event_context(self) -> None:
        """current() outside any event raises NoEventContextError naming current()."""
        with pytest.raises(NoEventContextError) as info:
            current()
        assert str(info.value).startswith("Event context does not exist at this point.")
        assert "current()" in str(info.value)

    def test_try_get_current_outside_is_none(self) -> None:
        """try_get_current() outside any event returns None."""
        assert try_get_current() is None

    def test_inside_an_event_both_return_the_context(self) -> None:
        """Inside a runner, current() and try_get_current() return the runner's context."""
        runner = create_event_context({"type": "T"})
        assert runner(lambda: (current(), try_get_current())) == (runner.context,) * 2
        assert runner(use_event_context) is runner.context

    def test_run_passes_args_and_kwargs(self) -> None:
        """run(ctx, fn, *args, **kwargs) calls fn with them and returns its result."""

        def handler(a: int, b: int, *, scale: int) -> tuple:
            return current().type, (a + b) * scale

        assert run(_event("RUN"), handler, 1, 2, scale=10) == ("RUN", 30)

    def test_run_restores_the_previous_context(self) -> None:
        """After run(), the context active before (or none) is active again."""
        outer, inner = _event("OUTER"), _event("INNER")
        assert run(outer, lambda: (run(inner, lambda: current().type), current().type)) == (
            "INNER",
            "OUTER",
        )
        assert try_get_current() is None

    def test_run_propagates_the_same_exception(self) -> None:
        """An exception from fn propagates unchanged and the context is restored."""
        error = ValueError("from handler")

        def handler() -> None:
            raise error

        with pytest.raises(ValueError) as info:
            run(_event(), handler)
        assert info.value is error
        assert try_get_current() is None

    def test_run_with_a_non_callable_is_a_type_error(self) -> None:
        """run() of something that is not callable raises TypeError."""
        with pytest.raises(TypeError):
            run(_event(), 42)  # type: ignore[arg-type]

    @pytest.mark.asyncio
    async def test_run_async_function(self) -> None:
        """run() of an async function returns a coroutine that runs with ctx active."""

        async def handler(suffix: str) -> str:
            await asyncio.sleep(0)
            return current().type + suffix

        assert await run(_event("ASYNC"), handler, "!") == "ASYNC!"
        assert try_get_current() is None

    def test_run_reads_slots_of_ctx(self) -> None:
        """Slots read through current() inside run() are those of ctx."""
        user: Key[str] = Key("user")
        ctx = _event()
        ctx.set(user, "ada")
        assert run(ctx, lambda: current().get(user)) == "ada"


# ----------------------------------------------------------------------------------- threads


class TestThreads:
    def test_two_threads_compute_a_cached_slot_once(self) -> None:
        """Two threads reading one cached slot at once share one computation, no cycle error."""
        counter = Counter()
        started = threading.Event()
        second_reading = threading.Event()

        @cached
        def slow(ctx: EventContext) -> object:
            counter.calls.append(threading.get_ident())
            started.set()
            # wait until the other thread is about to read, then give it time to block
            second_reading.wait(5)
            threading.Event().wait(0.05)
            return object()

        ctx = _event()
        results: dict[str, Any] = {}

        def first() -> None:
            try:
                results["first"] = ctx.get(slow)
            except BaseException as exc:  # reported below
                results["first"] = exc

        def second() -> None:
            started.wait(5)
            second_reading.set()
            try:
                results["second"] = ctx.get(slow)
            except BaseException as exc:  # reported below
                results["second"] = exc

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert not any(isinstance(value, BaseException) for value in results.values()), results
        assert results["first"] is results["second"]
        assert counter.count == 1

    def test_waiting_thread_gets_the_cached_error(self) -> None:
        """A thread that waited for another's computation gets its cached error (same object)."""
        started = threading.Event()
        second_reading = threading.Event()

        @cached
        def failing(ctx: EventContext) -> int:
            started.set()
            second_reading.wait(5)
            threading.Event().wait(0.05)
            raise ValueError("from the first thread")

        ctx = _event()
        errors: dict[str, BaseException] = {}

        def read(name: str) -> None:
            if name == "second":
                started.wait(5)
                second_reading.set()
            try:
                ctx.get(failing)
            except BaseException as exc:
                errors[name] = exc

        threads = [threading.Thread(target=read, args=(name,)) for name in ("first", "second")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert isinstance(errors["first"], ValueError)
        assert errors["second"] is errors["first"]

    def test_threads_racing_on_a_missing_slot_compute_it_once(self) -> None:
        """Two threads that both find the slot missing at the same moment still run it once."""
        counter = Counter()
        both_missed = threading.Barrier(2)

        @cached
        def slot(ctx: EventContext) -> object:
            counter.calls.append(threading.get_ident())
            return object()

        class RacyDict(dict[Any, Any]):
            """Holds each of the first two reads of ``slot`` until both threads made one."""

            waits = 2

            def get(self, key: Any, default: Any = None) -> Any:
                value = super().get(key, default)
                if key is slot and RacyDict.waits > 0:
                    RacyDict.waits -= 1
                    both_missed.wait(5)
                return value

        ctx = _event()
        ctx._data = RacyDict(ctx._data)  # type: ignore[misc]
        results: list[Any] = []
        threads = [threading.Thread(target=lambda: results.append(ctx.get(slot))) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert len(results) == 2
        assert results[0] is results[1]
        assert counter.count == 1


# ------------------------------------------------------------------------------ one storage


class TestOneStorage:
    def test_section_and_key_live_in_the_same_store(self) -> None:
        """A store("job") section and a Key's value are both entries of ctx.get_ctx()."""
        attempts: Key[int] = Key("attempts")
        with create_event_context({"type": "JOB", "job_id": "j1"}) as ctx:
            use_event_context().store("job").set("status", "running")
            current().set(attempts, 3)
            data = ctx.get_ctx()
        assert data["job"] == {"status": "running"}
        assert data[attempts] == 3
        assert data["event"]["job_id"] == "j1"

    def test_a_key_named_like_a_section_does_not_collide(self) -> None:
        """Key("job") and the section "job" are different entries of the one store."""
        job_key: Key[str] = Key("job")
        ctx = _event("JOB")
        ctx.store("job").set("status", "pending")
        ctx.set(job_key, "slot value")
        assert ctx.get(job_key) == "slot value"
        assert ctx.store("job").get("status") == "pending"
        assert ctx.get_ctx()["job"] == {"status": "pending"}

    def test_cached_and_seeded_values_are_in_the_store(self) -> None:
        """A computed cached slot is stored in ctx.get_ctx() under the slot object."""

        @cached
        def slot(ctx: EventContext) -> str:
            return "computed"

        ctx = _event()
        ctx.get(slot)
        assert ctx.get_ctx()[slot] == "computed"

    def test_one_object_for_both_apis(self) -> None:
        """use_event_context() and current() return the same EventContext."""
        runner = create_event_context({"type": "T"})
        assert runner(lambda: use_event_context() is current() is runner.context) is True

    def test_parent_chain_serves_both(self) -> None:
        """In a child event, get() reads the parent's Key, and use_event_context(type) finds
        the parent whose store holds the section."""
        attempts: Key[int] = Key("attempts")

        def child_handler() -> tuple:
            child = current()
            job = use_event_context("JOB")
            return (
                child.type,
                child.get(attempts),
                job is not child,
                job.store("job").get("status"),
                child.store("job").value,
            )

        def parent_handler() -> tuple:
            use_event_context().store("job").set("status", "running")
            current().set(attempts, 2)
            return create_event_context({"type": "STEP"})(child_handler)

        result = create_event_context({"type": "JOB"})(parent_handler)
        assert result == ("STEP", 2, True, "running", None)

    def test_parent_found_by_type_exposes_its_slots(self) -> None:
        """The ancestor found by type is the very context whose slots the child reads."""
        attempts: Key[int] = Key("attempts")
        parent = _event("JOB")
        parent.set(attempts, 5)
        child = _child_of(parent, "STEP")
        found = run(child, use_event_context, "JOB")
        assert found is parent
        assert found.get_own(attempts) == child.get(attempts) == 5
