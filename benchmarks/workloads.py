"""The JOB workload, written once per implementation, and the checks that it is right.

Every implementation does the same thing per event, so that nanoseconds per event compare
like with like:

1. create the event's context (holding the event data) and enter it;
2. call a handler that finds the context by itself (it takes no argument), which inits the
   status to ``"pending"``, sets ``"running"``, reads it, sets a result, sets
   ``"completed"``, inits the metadata dict, sets one entry and reads it back;
3. leave the context (the next event must start from a fresh one).

The handler returns ``(status read, metadata entry read)``. ``run_*(loops, handler)`` runs
``loops`` events in a plain ``for`` loop and returns the last handler result: the loop is
the only thing timed, and its overhead is the same for every implementation.

A benchmark of wrong code measures nothing, so each implementation also exposes ``state()``
(the active event's job state, read from inside the event) and ``active()``; ``check_sync``
and ``check_async`` run events through the very ``run_*`` functions that are timed, with a
spy handler, and raise :class:`CheckError` unless every event started fresh, ended
``completed`` with the result and the metadata entry, and was left afterwards.

Peers (Flask, werkzeug, OpenTelemetry, structlog) are imported here and not in event-core;
one that is not installed is left out and listed in :data:`UNAVAILABLE`.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, NamedTuple, Optional

from event_core import (
    EventContext,
    EventKind,
    EventRunner,
    Key,
    cached,
    create_event_context,
    current,
    define_wook,
    try_get_current,
    use_event_context,
)
from event_core.job import (
    create_job_context,
    use_job_context,
    use_job_metadata,
    use_job_result,
    use_job_status,
)

__all__ = [
    "ASYNC",
    "ASYNC_CHECK_TASKS",
    "EMPTY_STATE",
    "EXPECTED_OUT",
    "JOB_DATA",
    "PRIMITIVES",
    "SYNC",
    "UNAVAILABLE",
    "AsyncWorkload",
    "CheckError",
    "Primitive",
    "SyncWorkload",
    "check_async",
    "check_sync",
    "expected_state",
    "gather_events",
    "primitive_env",
]

# -- the workload's data -----------------------------------------------------------------------

JOB_ID = "abc123"
JOB_INPUT = {"foo": "bar"}
JOB_DATA = {"job_id": JOB_ID, "input": JOB_INPUT}
RESULT = {"rows": 3}
META_KEY = "attempt"
META_VALUE = 1

Out = tuple[str, int]
State = dict[str, Any]
#: What every handler returns: the status it read after setting "running", and the
#: metadata entry it read back.
EXPECTED_OUT: Out = ("running", META_VALUE)
#: The state a handler must find when it starts: the event data, nothing else.
EMPTY_STATE: State = {"job_id": JOB_ID, "status": None, "result": None, "metadata": {}}


def expected_state(result: Any = RESULT) -> State:
    """The state an event must hold when its handler returns."""
    return {
        "job_id": JOB_ID,
        "status": "completed",
        "result": result,
        "metadata": {META_KEY: META_VALUE},
    }


class CheckError(AssertionError):
    """An implementation of the workload does not do what the workload says."""


def _expect(condition: bool, message: str) -> None:
    # Not `assert`: the checks must also hold under `python -O`.
    if not condition:
        raise CheckError(message)


class SyncWorkload(NamedTuple):
    """One implementation of the synchronous workload."""

    name: str
    label: str
    group: str  # "floor", "event-core" or "peer"
    run: Callable[..., Out]  # run(loops, handler=<its handler>) -> last handler result
    handler: Callable[[], Out]
    state: Callable[[], State]
    active: Callable[[], bool]


class AsyncWorkload(NamedTuple):
    """One implementation of the asyncio workload: one event per task."""

    name: str
    label: str
    group: str  # "baseline", "floor" or "event-core"
    task: Callable[[int, Callable[[int], Awaitable[Out]]], Awaitable[Out]]
    handler: Callable[[int], Awaitable[Out]]
    state: Optional[Callable[[], State]]  # None for the baseline: it has no context
    active: Callable[[], bool]


SYNC: list[SyncWorkload] = []
ASYNC: list[AsyncWorkload] = []
#: Peers that could not be imported, with the reason.
UNAVAILABLE: dict[str, str] = {}

sleep = asyncio.sleep

# -- 1. the floor: one ContextVar holding a plain dict ------------------------------------------

_FLOOR: ContextVar[Optional[dict[str, Any]]] = ContextVar("bench.floor", default=None)


def _floor_handler() -> Out:
    state = _FLOOR.get()
    state.setdefault("status", "pending")
    state["status"] = "running"
    status = state["status"]
    state["result"] = RESULT
    state["status"] = "completed"
    metadata = state.setdefault("metadata", {})
    metadata[META_KEY] = META_VALUE
    return status, metadata[META_KEY]


def run_floor(loops: int, handler: Callable[[], Out] = _floor_handler) -> Out:
    """Events on a bare ContextVar: ``set`` a new dict, call, ``reset`` in ``finally``."""
    out = None
    for _ in range(loops):
        token = _FLOOR.set({"event": JOB_DATA})
        try:
            out = handler()
        finally:
            _FLOOR.reset(token)
    return out  # type: ignore[return-value]


def _floor_state() -> State:
    state = _FLOOR.get()
    return {
        "job_id": state["event"]["job_id"],
        "status": state.get("status"),
        "result": state.get("result"),
        "metadata": dict(state.get("metadata") or {}),
    }


def _floor_active() -> bool:
    return _FLOOR.get() is not None


SYNC.append(
    SyncWorkload(
        "floor",
        "floor: ContextVar + dict",
        "floor",
        run_floor,
        _floor_handler,
        _floor_state,
        _floor_active,
    )
)

# -- 1b. reference: the seed's shape on the same bare ContextVar --------------------------------
# Not a target and not a peer: the seed API's *shape* with no library under it (a runner
# object per event, composables that find the event and return tuples of closures), so the
# table shows how much of the seed API's cost is its shape and how much is event-core.

_SHAPE: ContextVar[Optional[dict[str, Any]]] = ContextVar("bench.shape", default=None)


class _ShapeRunner:
    __slots__ = ("state",)

    def __init__(self, data: dict[str, Any]) -> None:
        self.state: dict[str, Any] = {"event": {**data, "type": "JOB"}}

    def __call__(self, fn: Callable[[], Out]) -> Out:
        token = _SHAPE.set(self.state)
        try:
            return fn()
        finally:
            _SHAPE.reset(token)


def _shape_job() -> dict[str, Any]:
    state = _SHAPE.get()
    if state is None:
        raise LookupError("no event")
    job: Optional[dict[str, Any]] = state.get("job")
    if job is None:
        job = state["job"] = {}
    return job


def _shape_status() -> tuple[Callable[[], str], Callable[[str], str]]:
    job = _shape_job()

    def get_status() -> str:
        return job.setdefault("status", "pending")  # type: ignore[no-any-return]

    def set_status(status: str) -> str:
        job["status"] = status
        return status

    return get_status, set_status


def _shape_result() -> tuple[Callable[[], Any], Callable[[Any], Any]]:
    job = _shape_job()

    def get_result() -> Any:
        return job.get("result")

    def set_result(result: Any) -> Any:
        job["result"] = result
        return result

    return get_result, set_result


def _shape_metadata() -> tuple[Callable[[str], Any], Callable[[str, Any], Any]]:
    job = _shape_job()

    def get_metadata(key: str) -> Any:
        return job.setdefault("metadata", {}).get(key)

    def set_metadata(key: str, value: Any) -> Any:
        job.setdefault("metadata", {})[key] = value
        return value

    return get_metadata, set_metadata


def _shape_handler() -> Out:
    get_status, set_status = _shape_status()
    get_status()
    set_status("running")
    status = get_status()
    _get_result, set_result = _shape_result()
    set_result(RESULT)
    set_status("completed")
    get_metadata, set_metadata = _shape_metadata()
    set_metadata(META_KEY, META_VALUE)
    return status, get_metadata(META_KEY)


def run_shape(loops: int, handler: Callable[[], Out] = _shape_handler) -> Out:
    """Events through a minimal seed-shaped runner and composables on a bare ContextVar."""
    out = None
    for _ in range(loops):
        out = _ShapeRunner(JOB_DATA)(handler)
    return out  # type: ignore[return-value]


def _shape_state() -> State:
    state = _SHAPE.get()
    assert state is not None
    job = state.get("job", {})
    return {
        "job_id": state["event"]["job_id"],
        "status": job.get("status"),
        "result": job.get("result"),
        "metadata": dict(job.get("metadata") or {}),
    }


SYNC.append(
    SyncWorkload(
        "shape",
        "reference: seed shape, no library",
        "reference",
        run_shape,
        _shape_handler,
        _shape_state,
        lambda: _SHAPE.get() is not None,
    )
)

# -- 2. event-core, the seed API: the event_core.job composables -------------------------------


def _seed_handler() -> Out:
    # The composables exactly as the seed document writes them: destructured, then called.
    get_status, set_status = use_job_status()
    get_status()  # inits "pending"
    set_status("running")
    status = get_status()
    _get_result, set_result = use_job_result()
    set_result(RESULT)
    set_status("completed")
    get_metadata, set_metadata = use_job_metadata()
    set_metadata(META_KEY, META_VALUE)  # inits the metadata dict
    return status, get_metadata(META_KEY)  # type: ignore[return-value]


def run_seed(loops: int, handler: Callable[[], Out] = _seed_handler) -> Out:
    """Events through ``create_job_context(data)(handler)``, the seed's runner."""
    out = None
    for _ in range(loops):
        out = create_job_context(JOB_DATA)(handler)  # type: ignore[arg-type]
    return out  # type: ignore[return-value]


def _seed_state() -> State:
    ctx = use_job_context()
    job = ctx.store("job")
    return {
        "job_id": ctx.event["job_id"],
        "status": job.get("status"),
        "result": job.get("result"),
        "metadata": dict(job.get("metadata") or {}),
    }


def _event_core_active() -> bool:
    return try_get_current() is not None


SYNC.append(
    SyncWorkload(
        "seed",
        "event-core seed API (job)",
        "event-core",
        run_seed,
        _seed_handler,
        _seed_state,
        _event_core_active,
    )
)

# -- 3. event-core, typed slots: an EventKind's keys and a define_wook --------------------------


class Job(EventKind, name="JOB"):
    """The JOB event as an event kind: its data and its state are typed keys."""

    job_id: Key[str]
    input: Key[dict[str, Any]]
    status: Key[str]
    result: Key[Any]


def _new_metadata(ctx: EventContext[Any, Any]) -> dict[str, Any]:
    return {}


use_job_meta = define_wook(_new_metadata)


def _typed_handler() -> Out:
    ctx = current()
    if not ctx.has(Job.status):
        ctx.set(Job.status, "pending")
    ctx.set(Job.status, "running")
    status = ctx.get(Job.status)
    ctx.set(Job.result, RESULT)
    ctx.set(Job.status, "completed")
    metadata = use_job_meta()  # inits the metadata dict, once per event
    metadata[META_KEY] = META_VALUE
    return status, metadata[META_KEY]


def run_typed(loops: int, handler: Callable[[], Out] = _typed_handler) -> Out:
    """Events through ``Job.create_context(**seeds)(handler)``."""
    out = None
    for _ in range(loops):
        out = Job.create_context(job_id=JOB_ID, input=JOB_INPUT)(handler)
    return out  # type: ignore[return-value]


def _typed_state() -> State:
    ctx = current()
    return {
        "job_id": ctx.get(Job.job_id),
        "status": ctx.get(Job.status) if ctx.has(Job.status) else None,
        "result": ctx.get(Job.result) if ctx.has(Job.result) else None,
        "metadata": dict(use_job_meta()),
    }


SYNC.append(
    SyncWorkload(
        "typed",
        "event-core typed slots",
        "event-core",
        run_typed,
        _typed_handler,
        _typed_state,
        _event_core_active,
    )
)

# -- 4. peers ------------------------------------------------------------------------------------

# Flask: an application context per event, the state on `g`.
try:
    from flask import Flask, has_app_context
    from flask import g as flask_g
except ImportError as exc:  # pragma: no cover - flask is in the test and bench extras
    UNAVAILABLE["flask"] = f"flask is not installed ({exc})"
else:
    _FLASK_APP = Flask("event_core_bench")

    def _flask_handler() -> Out:
        g = flask_g
        g.setdefault("status", "pending")
        g.status = "running"
        status = g.status
        g.result = RESULT
        g.status = "completed"
        metadata = g.setdefault("metadata", {})
        metadata[META_KEY] = META_VALUE
        return status, metadata[META_KEY]

    def run_flask(loops: int, handler: Callable[[], Out] = _flask_handler) -> Out:
        """Events as ``with app.app_context():`` with the event data on ``g``."""
        out = None
        for _ in range(loops):
            with _FLASK_APP.app_context():
                flask_g.event = JOB_DATA
                out = handler()
        return out  # type: ignore[return-value]

    def _flask_state() -> State:
        g = flask_g
        return {
            "job_id": g.event["job_id"],
            "status": g.get("status"),
            "result": g.get("result"),
            "metadata": dict(g.get("metadata") or {}),
        }

    SYNC.append(
        SyncWorkload(
            "flask",
            "Flask app_context + g",
            "peer",
            run_flask,
            _flask_handler,
            _flask_state,
            has_app_context,
        )
    )

# werkzeug: a module-level Local, released at the end of each event (what LocalManager does).
try:
    from werkzeug.local import Local, release_local
except ImportError as exc:  # pragma: no cover
    UNAVAILABLE["werkzeug"] = f"werkzeug is not installed ({exc})"
else:
    _LOCAL = Local()

    def _werkzeug_handler() -> Out:
        local = _LOCAL
        if getattr(local, "status", None) is None:
            local.status = "pending"
        local.status = "running"
        status = local.status
        local.result = RESULT
        local.status = "completed"
        metadata = getattr(local, "metadata", None)
        if metadata is None:
            metadata = local.metadata = {}
        metadata[META_KEY] = META_VALUE
        return status, metadata[META_KEY]

    def run_werkzeug(loops: int, handler: Callable[[], Out] = _werkzeug_handler) -> Out:
        """Events as ``local.event = data``, call, ``release_local(local)``."""
        out = None
        for _ in range(loops):
            _LOCAL.event = JOB_DATA
            try:
                out = handler()
            finally:
                release_local(_LOCAL)
        return out  # type: ignore[return-value]

    def _werkzeug_state() -> State:
        local = _LOCAL
        return {
            "job_id": local.event["job_id"],
            "status": getattr(local, "status", None),
            "result": getattr(local, "result", None),
            "metadata": dict(getattr(local, "metadata", None) or {}),
        }

    def _werkzeug_active() -> bool:
        return getattr(_LOCAL, "event", None) is not None

    SYNC.append(
        SyncWorkload(
            "werkzeug",
            "werkzeug Local",
            "peer",
            run_werkzeug,
            _werkzeug_handler,
            _werkzeug_state,
            _werkzeug_active,
        )
    )

# OpenTelemetry: immutable contexts, one set_value + attach per write, one detach at the end
# (resetting the first token restores the context from before the event).
try:
    from opentelemetry.context import attach, create_key, detach, get_value, set_value
except ImportError as exc:  # pragma: no cover
    UNAVAILABLE["otel"] = f"opentelemetry-api is not installed ({exc})"
else:
    _OTEL_EVENT = create_key("bench.event")
    _OTEL_STATUS = create_key("bench.status")
    _OTEL_RESULT = create_key("bench.result")
    _OTEL_METADATA = create_key("bench.metadata")

    def _otel_handler() -> Out:
        if get_value(_OTEL_STATUS) is None:
            attach(set_value(_OTEL_STATUS, "pending"))
        attach(set_value(_OTEL_STATUS, "running"))
        status = get_value(_OTEL_STATUS)
        attach(set_value(_OTEL_RESULT, RESULT))
        attach(set_value(_OTEL_STATUS, "completed"))
        metadata = get_value(_OTEL_METADATA)
        if metadata is None:
            metadata = {}
            attach(set_value(_OTEL_METADATA, metadata))
        metadata[META_KEY] = META_VALUE  # type: ignore[index]
        return status, metadata[META_KEY]  # type: ignore[return-value,index]

    def run_otel(loops: int, handler: Callable[[], Out] = _otel_handler) -> Out:
        """Events as ``attach(set_value(event_key, data))``, call, ``detach``."""
        out = None
        for _ in range(loops):
            token = attach(set_value(_OTEL_EVENT, JOB_DATA))
            try:
                out = handler()
            finally:
                detach(token)
        return out  # type: ignore[return-value]

    def _otel_state() -> State:
        return {
            "job_id": get_value(_OTEL_EVENT)["job_id"],  # type: ignore[index]
            "status": get_value(_OTEL_STATUS),
            "result": get_value(_OTEL_RESULT),
            "metadata": dict(get_value(_OTEL_METADATA) or {}),  # type: ignore[call-overload]
        }

    def _otel_active() -> bool:
        return get_value(_OTEL_EVENT) is not None

    SYNC.append(
        SyncWorkload(
            "otel",
            "OpenTelemetry context",
            "peer",
            run_otel,
            _otel_handler,
            _otel_state,
            _otel_active,
        )
    )

# structlog: one ContextVar per bound key; read back with get_contextvars(); cleared at the
# end of the event (structlog's documented per-request pattern).
try:
    from structlog.contextvars import bind_contextvars, clear_contextvars, get_contextvars
except ImportError as exc:  # pragma: no cover
    UNAVAILABLE["structlog"] = f"structlog is not installed ({exc})"
else:

    def _structlog_handler() -> Out:
        if "status" not in get_contextvars():
            bind_contextvars(status="pending")
        bind_contextvars(status="running")
        status = get_contextvars()["status"]
        bind_contextvars(result=RESULT)
        bind_contextvars(status="completed")
        metadata = get_contextvars().get("metadata")
        if metadata is None:
            metadata = {}
            bind_contextvars(metadata=metadata)
        metadata[META_KEY] = META_VALUE
        return status, metadata[META_KEY]

    def run_structlog(loops: int, handler: Callable[[], Out] = _structlog_handler) -> Out:
        """Events as ``bind_contextvars(event=data)``, call, ``clear_contextvars()``."""
        out = None
        for _ in range(loops):
            bind_contextvars(event=JOB_DATA)
            try:
                out = handler()
            finally:
                clear_contextvars()
        return out  # type: ignore[return-value]

    def _structlog_state() -> State:
        bound = get_contextvars()
        return {
            "job_id": bound["event"]["job_id"],
            "status": bound.get("status"),
            "result": bound.get("result"),
            "metadata": dict(bound.get("metadata") or {}),
        }

    def _structlog_active() -> bool:
        return "event" in get_contextvars()

    SYNC.append(
        SyncWorkload(
            "structlog",
            "structlog contextvars",
            "peer",
            run_structlog,
            _structlog_handler,
            _structlog_state,
            _structlog_active,
        )
    )

# -- the asyncio workload: the same steps with an await between them, one event per task -------
# Each handler mirrors its sync twin; `await sleep(0)` hands the loop to the other tasks, so
# 1,000 events are interleaved and every context switch must keep each task's event apart.
# The result is the task's index, so that the check can tell the events apart.


async def _baseline_handler(i: int) -> Out:
    # The same awaits and task structure, no context and no state at all.
    await sleep(0)
    await sleep(0)
    await sleep(0)
    await sleep(0)
    await sleep(0)
    return EXPECTED_OUT


async def _baseline_task(i: int, handler: Callable[[int], Awaitable[Out]]) -> Out:
    return await handler(i)


def _never_active() -> bool:
    return False


async def _floor_async_handler(i: int) -> Out:
    state = _FLOOR.get()
    state.setdefault("status", "pending")
    await sleep(0)
    state["status"] = "running"
    await sleep(0)
    status = state["status"]
    await sleep(0)
    state["result"] = i
    await sleep(0)
    state["status"] = "completed"
    await sleep(0)
    metadata = state.setdefault("metadata", {})
    metadata[META_KEY] = META_VALUE
    return status, metadata[META_KEY]


async def _floor_task(i: int, handler: Callable[[int], Awaitable[Out]]) -> Out:
    token = _FLOOR.set({"event": JOB_DATA})
    try:
        return await handler(i)
    finally:
        _FLOOR.reset(token)


async def _seed_async_handler(i: int) -> Out:
    get_status, set_status = use_job_status()
    get_status()
    await sleep(0)
    set_status("running")
    await sleep(0)
    status = get_status()
    await sleep(0)
    _get_result, set_result = use_job_result()
    set_result(i)
    await sleep(0)
    set_status("completed")
    await sleep(0)
    get_metadata, set_metadata = use_job_metadata()
    set_metadata(META_KEY, META_VALUE)
    return status, get_metadata(META_KEY)  # type: ignore[return-value]


async def _seed_task(i: int, handler: Callable[[int], Awaitable[Out]]) -> Out:
    return await create_job_context(JOB_DATA)(handler, i)  # type: ignore[arg-type]


async def _typed_async_handler(i: int) -> Out:
    ctx = current()
    if not ctx.has(Job.status):
        ctx.set(Job.status, "pending")
    await sleep(0)
    ctx.set(Job.status, "running")
    await sleep(0)
    status = ctx.get(Job.status)
    await sleep(0)
    ctx.set(Job.result, i)
    await sleep(0)
    ctx.set(Job.status, "completed")
    await sleep(0)
    metadata = use_job_meta()
    metadata[META_KEY] = META_VALUE
    return status, metadata[META_KEY]


async def _typed_task(i: int, handler: Callable[[int], Awaitable[Out]]) -> Out:
    return await Job.create_context(job_id=JOB_ID, input=JOB_INPUT)(handler, i)


ASYNC.extend(
    [
        AsyncWorkload(
            "baseline",
            "no context (same awaits)",
            "baseline",
            _baseline_task,
            _baseline_handler,
            None,
            _never_active,
        ),
        AsyncWorkload(
            "floor",
            "floor: ContextVar + dict",
            "floor",
            _floor_task,
            _floor_async_handler,
            _floor_state,
            _floor_active,
        ),
        AsyncWorkload(
            "seed",
            "event-core seed API (job)",
            "event-core",
            _seed_task,
            _seed_async_handler,
            _seed_state,
            _event_core_active,
        ),
        AsyncWorkload(
            "typed",
            "event-core typed slots",
            "event-core",
            _typed_task,
            _typed_async_handler,
            _typed_state,
            _event_core_active,
        ),
    ]
)


async def gather_events(
    workload: AsyncWorkload,
    tasks: int,
    handler: Optional[Callable[[int], Awaitable[Out]]] = None,
) -> list[Out]:
    """Run ``tasks`` events of ``workload`` as concurrent asyncio tasks; their results."""
    task, handler = workload.task, handler or workload.handler
    return await asyncio.gather(*[task(i, handler) for i in range(tasks)])


# -- the checks ----------------------------------------------------------------------------------


def check_sync(workload: SyncWorkload) -> None:
    """Run two events of ``workload`` through its timed loop and check each of them.

    Raises:
        CheckError: an event did not start fresh, did not end ``completed`` with the result
            and the metadata entry, returned the wrong reads, or was still active after.
    """
    name = workload.name
    _expect(not workload.active(), f"{name}: an event is already active before the check")
    seen: list[tuple[State, Out, State]] = []

    def spy() -> Out:
        before = workload.state()
        out = workload.handler()
        seen.append((before, out, workload.state()))
        return out

    last = workload.run(2, spy)
    _expect(not workload.active(), f"{name}: the event is still active after it ended")
    _expect(len(seen) == 2, f"{name}: 2 events ran the handler {len(seen)} times")
    for before, out, after in seen:
        _expect(before == EMPTY_STATE, f"{name}: an event started with {before!r}")
        _expect(out == EXPECTED_OUT, f"{name}: the handler returned {out!r}")
        _expect(after == expected_state(), f"{name}: an event ended with {after!r}")
    _expect(last == EXPECTED_OUT, f"{name}: run() returned {last!r}")
    # The timed path itself, with its own handler.
    out = workload.run(1)
    _expect(out == EXPECTED_OUT, f"{name}: run(1) returned {out!r}")
    _expect(not workload.active(), f"{name}: the event is still active after run(1)")


#: How many concurrent events ``check_async`` runs.
ASYNC_CHECK_TASKS = 20


def check_async(
    workload: AsyncWorkload,
    loop: Optional[asyncio.AbstractEventLoop] = None,
) -> None:
    """Run concurrent events of ``workload`` and check each one, as :func:`check_sync`.

    Each event's result is its task's index, so an event that saw another task's state
    fails the check.
    """
    own_loop = loop is None
    if loop is None:
        loop = asyncio.new_event_loop()
    try:
        _check_async(workload, loop)
    finally:
        if own_loop:
            loop.close()


def _check_async(workload: AsyncWorkload, loop: asyncio.AbstractEventLoop) -> None:
    name = workload.name
    state = workload.state
    seen: dict[int, tuple[Optional[State], Out, Optional[State]]] = {}
    left: list[bool] = []

    async def spy(i: int) -> Out:
        before = state() if state is not None else None
        out = await workload.handler(i)
        seen[i] = (before, out, state() if state is not None else None)
        return out

    async def event(i: int) -> Out:
        out = await workload.task(i, spy)
        left.append(not workload.active())
        return out

    async def events() -> list[Out]:
        return await asyncio.gather(*[event(i) for i in range(ASYNC_CHECK_TASKS)])

    outs = loop.run_until_complete(events())
    _expect(
        outs == [EXPECTED_OUT] * ASYNC_CHECK_TASKS, f"{name} (async): the handlers returned {outs}"
    )
    _expect(sorted(seen) == list(range(ASYNC_CHECK_TASKS)), f"{name} (async): events lost")
    _expect(all(left), f"{name} (async): an event was still active after its task ended it")
    if state is not None:
        for i, (before, _out, after) in seen.items():
            _expect(before == EMPTY_STATE, f"{name} (async): event {i} started with {before!r}")
            _expect(after == expected_state(i), f"{name} (async): event {i} ended with {after!r}")
    # The timed path itself.
    outs = loop.run_until_complete(gather_events(workload, 3))
    _expect(outs == [EXPECTED_OUT] * 3, f"{name} (async): gather_events returned {outs}")


# -- primitives: each operation alone, against a dict lookup ------------------------------------


class Primitive(NamedTuple):
    """One statement timed alone (``timeit`` style) in the namespace of :func:`primitive_env`.

    ``group`` is ``"reference"`` (what the others are compared with), ``"primitive"`` (the
    operations the issue lists) or ``"piece"`` (larger parts of the workloads, to see where
    a workload's time goes). ``inside``: the statement runs with the event active.
    """

    name: str
    stmt: str
    group: str
    inside: bool = True


PRIMITIVES: list[Primitive] = [
    Primitive("empty loop (subtracted from the rest)", "pass", "reference"),
    Primitive("d.get(k) on a dict", "d.get('status')", "reference"),
    Primitive("ContextVar.get()", "var.get()", "reference"),
    Primitive("use_event_context()", "use_event_context()", "primitive"),
    Primitive("current()", "current()", "primitive"),
    Primitive("ctx.store('job')", "ctx.store('job')", "primitive"),
    Primitive("section.init hit", "job.init('status', pending)", "primitive"),
    Primitive("section.get", "job.get('status')", "primitive"),
    Primitive("section.set", "job.set('status', 'running')", "primitive"),
    Primitive("ctx.get(Key)", "ctx.get(Job.status)", "primitive"),
    Primitive("ctx.get(cached) hit", "ctx.get(slot)", "primitive"),
    Primitive("define_wook call hit", "use_job_meta()", "primitive"),
    # pieces of the workloads
    Primitive("ContextVar set + reset", "var.reset(var.set(None))", "piece", inside=False),
    Primitive(
        "ContextVar set(new dict) + reset",
        "token = var.set({'event': data}); var.reset(token)",
        "piece",
        inside=False,
    ),
    Primitive("create_job_context(data)", "create_job_context(data)", "piece", inside=False),
    Primitive("EventContext(event)", "EventContext(event)", "piece", inside=False),
    Primitive(
        "Job.create_context(**2 seeds)",
        "Job.create_context(job_id='abc123', input=data)",
        "piece",
        inside=False,
    ),
    Primitive("runner(noop) (a made runner)", "runner(noop)", "piece", inside=False),
    Primitive("inspect.isawaitable(tuple)", "isawaitable(out)", "piece", inside=False),
    Primitive("use_job_context()", "use_job_context()", "piece"),
    Primitive("use_job_status()", "use_job_status()", "piece"),
    Primitive("use_job_result()", "use_job_result()", "piece"),
    Primitive("use_job_metadata()", "use_job_metadata()", "piece"),
    Primitive("get_status() (init hit)", "get_status()", "piece"),
    Primitive("set_status('running')", "set_status('running')", "piece"),
    Primitive("set_metadata(k, v)", "set_metadata('attempt', 1)", "piece"),
    Primitive("get_metadata(k)", "get_metadata('attempt')", "piece"),
    Primitive("ctx.has(Key)", "ctx.has(Job.status)", "piece"),
    Primitive("ctx.set(Key, v)", "ctx.set(Job.status, 'running')", "piece"),
]


def _noop() -> None:
    return None


def primitive_env() -> tuple[dict[str, Any], EventRunner[Any, Any]]:
    """The namespace the primitives run in, and the runner of the event they run inside.

    The event already holds what the primitives read (the ``"job"`` section, the keys, the
    cached slot and the wook's value), so every read is a hit.
    """
    runner = create_event_context({"type": "JOB", **JOB_DATA}, {})

    @cached
    def slot(ctx: EventContext[Any, Any]) -> str:
        return "cached"

    with runner as ctx:
        job = ctx.store("job")
        job.set("status", "running")
        ctx.set(Job.status, "running")
        ctx.get(slot)
        use_job_meta()
        get_status, set_status = use_job_status()
        get_metadata, set_metadata = use_job_metadata()
        set_metadata(META_KEY, META_VALUE)
    namespace: dict[str, Any] = {
        "d": {"status": "running"},
        "var": _FLOOR,
        "ctx": ctx,
        "job": job,
        "slot": slot,
        "pending": lambda: "pending",
        "data": JOB_DATA,
        "event": {"type": "JOB", **JOB_DATA},
        "out": EXPECTED_OUT,
        "runner": create_job_context(JOB_DATA),  # type: ignore[arg-type]
        "noop": _noop,
        "get_status": get_status,
        "set_status": set_status,
        "get_metadata": get_metadata,
        "set_metadata": set_metadata,
        "isawaitable": inspect.isawaitable,
        "Job": Job,
        "EventContext": EventContext,
        "create_job_context": create_job_context,
        "current": current,
        "use_event_context": use_event_context,
        "use_job_context": use_job_context,
        "use_job_status": use_job_status,
        "use_job_result": use_job_result,
        "use_job_metadata": use_job_metadata,
        "use_job_meta": use_job_meta,
    }
    return namespace, runner
