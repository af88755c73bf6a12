"""The JOB adapter: the seed document "Creating Your Own Event Context (JOB Event)" in Python.

This module is the worked example for adapter authors, and it uses only the public API of
``event_core``: whatever it does, an application can do for its own kind of event.

The pieces, in the order the seed introduces them:

1. the shapes: :class:`JobEventData` (what starts a job), :class:`JobState` (what the job
   records in the store section ``"job"``) and :class:`JobContextStore` (the whole store);
2. the context: :func:`create_job_context` makes a runner for one job, and
   :func:`use_job_context` finds the job from anywhere inside it;
3. composables on the ``"job"`` section: :func:`use_job_status`, :func:`use_job_result`,
   :func:`use_job_metadata`;
4. :func:`run_job`, which runs a handler as a job and records its life in the store.

Example:
    >>> from event_core.job import run_job, use_job_status
    >>> def handler():
    ...     return use_job_status().get_status()
    >>> run_job({"job_id": "abc123", "input": {"foo": "bar"}}, handler)
    'running'

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Coroutine, Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    NamedTuple,
    Optional,
    TypeVar,
    Union,
    overload,
)

from typing_extensions import Literal, NotRequired, TypedDict

from event_core import (
    EventContext,
    EventOptions,
    EventRunner,
    create_event_context,
    use_event_context,
)

__all__ = [
    "JOB_STATUSES",
    "JobContextStore",
    "JobEventData",
    "JobMetadata",
    "JobResult",
    "JobState",
    "JobStatus",
    "JobStatusValue",
    "MetadataValue",
    "create_job_context",
    "run_job",
    "track_job",
    "use_job_context",
    "use_job_metadata",
    "use_job_result",
    "use_job_status",
]

R = TypeVar("R")

JobStatusValue = Literal["pending", "running", "completed", "failed"]
JOB_STATUSES: tuple[JobStatusValue, ...] = ("pending", "running", "completed", "failed")
MetadataValue = Union[str, int, float]


class JobEventData(TypedDict):
    """What starts a job: its id and its input."""

    job_id: str
    input: dict[str, Any]


class JobState(TypedDict, total=False):
    """The store section ``"job"``."""

    status: JobStatusValue
    result: Any
    metadata: dict[str, MetadataValue]


class JobContextStore(TypedDict):
    """The whole store of a JOB event."""

    event: JobEventData
    options: EventOptions
    # absent until a composable first writes to the section
    job: NotRequired[JobState]


JobContext = EventContext[JobContextStore, JobEventData]


def create_job_context(
    data: JobEventData,
    options: Optional[EventOptions] = None,
) -> EventRunner[JobContextStore, JobEventData]:
    """A runner for one job: the event is ``{**data, "type": "JOB"}``.

    Raises:
        TypeError: ``data`` is not a mapping.
    """
    given: Any = data  # callers without a type checker may pass anything
    if given.__class__ is not dict and not isinstance(given, Mapping):
        raise TypeError(
            f"create_job_context() data must be a mapping with 'job_id' and 'input', "
            f"got {type(data).__name__}"
        )
    # {**data, "type": "JOB"}, spelt as the one call that builds it without a temporary dict
    runner: EventRunner[Any, Any] = create_event_context(dict(data, type="JOB"), options)
    return runner


def use_job_context() -> JobContext:
    """The active JOB event (or the nearest JOB ancestor of the active event).

    Raises:
        NoEventContextError: no event is active.
        EventTypeMismatchError: no JOB event is active.
    """
    ctx: JobContext = use_event_context("JOB")
    return ctx


_STATUS_SET = frozenset(JOB_STATUSES)
_METADATA_TYPES = frozenset((str, int, float))  # exact types: one set lookup, no MRO walk
_TupleT = TypeVar("_TupleT", bound=tuple)  # type: ignore[type-arg]

if TYPE_CHECKING:

    def _new_tuple(cls: type[_TupleT], items: tuple[Any, ...], /) -> _TupleT: ...

else:
    # A NamedTuple's own __new__ is Python code; tuple.__new__ builds the same object in C.
    _new_tuple = tuple.__new__


def _pending() -> JobStatusValue:
    return "pending"


def _empty_metadata() -> dict[str, MetadataValue]:
    return {}


class JobStatus(NamedTuple):
    """``(get_status, set_status)``, unpackable like the seed's destructuring."""

    get_status: Callable[[], JobStatusValue]
    set_status: Callable[[JobStatusValue], JobStatusValue]


def use_job_status() -> JobStatus:
    """Read and change the job's status; it starts as ``"pending"``.

    Raises:
        ValueError: from ``set_status``, for a status outside :data:`JOB_STATUSES`.
    """
    job = use_job_context().store("job")

    def get_status() -> JobStatusValue:
        return job.init("status", _pending)

    def set_status(status: JobStatusValue) -> JobStatusValue:
        if status not in _STATUS_SET:
            raise ValueError(
                f"unknown job status {status!r}: expected one of " + ", ".join(JOB_STATUSES)
            )
        return job.set("status", status)

    return _new_tuple(JobStatus, (get_status, set_status))


class JobResult(NamedTuple):
    """``(get_result, set_result)``."""

    get_result: Callable[[], Any]
    set_result: Callable[[Any], Any]


def use_job_result() -> JobResult:
    """Read and set the job's result (``None`` until set)."""
    job = use_job_context().store("job")

    def get_result() -> Any:
        return job.get("result")

    def set_result(result: Any) -> Any:
        return job.set("result", result)

    return _new_tuple(JobResult, (get_result, set_result))


class JobMetadata(NamedTuple):
    """``(get_metadata, set_metadata)``."""

    get_metadata: Callable[[str], Optional[MetadataValue]]
    set_metadata: Callable[[str, MetadataValue], MetadataValue]


def use_job_metadata() -> JobMetadata:
    """Read and set entries of the job's metadata dict (values are str, int or float).

    Raises:
        TypeError: from ``set_metadata``, for a key that is not a str or another value type.
    """
    job = use_job_context().store("job")

    def get_metadata(key: str) -> Optional[MetadataValue]:
        return job.init("metadata", _empty_metadata).get(key)

    def set_metadata(key: str, value: MetadataValue) -> MetadataValue:
        if not isinstance(key, str):
            raise TypeError(f"job metadata key must be a str, got {type(key).__name__}: {key!r}")
        if value.__class__ not in _METADATA_TYPES and not isinstance(value, (str, int, float)):
            raise TypeError(
                f"job metadata {key!r} must be a str, int or float, "
                f"got {type(value).__name__}: {value!r}"
            )
        job.init("metadata", _empty_metadata)[key] = value
        return value

    return _new_tuple(JobMetadata, (get_metadata, set_metadata))


class _Lifecycle:
    """Records a job's start and end in its store, for :func:`run_job`."""

    __slots__ = ("_metadata", "_result", "_started", "_status")

    def __init__(self) -> None:
        self._status = use_job_status()
        self._result = use_job_result()
        self._metadata = use_job_metadata()
        self._status.set_status("running")
        self._metadata.set_metadata("started_at", time.time())
        self._started = time.perf_counter()

    def _finish(self) -> None:
        self._metadata.set_metadata("finished_at", time.time())
        self._metadata.set_metadata("duration_ms", (time.perf_counter() - self._started) * 1e3)

    def completed(self, result: R) -> R:
        self._result.set_result(result)
        self._status.set_status("completed")
        self._finish()
        return result

    def failed(self, exc: BaseException) -> None:
        self._status.set_status("failed")
        self._metadata.set_metadata("error", f"{type(exc).__name__}: {exc}")
        self._finish()

    async def awaited(self, awaitable: Awaitable[R]) -> R:
        try:
            result = await awaitable
        except BaseException as exc:
            self.failed(exc)
            raise
        return self.completed(result)


def track_job(handler: Callable[[], R]) -> R:
    """Run ``handler`` in the active JOB event, recording its life as :func:`run_job` does.

    :func:`run_job` is ``create_job_context(data, options)(track_job, handler)``. Use the
    long form to keep the runner, and so the job's final state, after the job ends.

    Example:
        >>> from event_core.job import create_job_context, track_job
        >>> runner = create_job_context({"job_id": "j1", "input": {}})
        >>> runner(track_job, lambda: 42)
        42
        >>> runner.context.store("job").get("status")
        'completed'

    .. versionadded:: 0.1.0
    """
    lifecycle = _Lifecycle()
    try:
        result = handler()
    except BaseException as exc:
        lifecycle.failed(exc)
        raise
    if inspect.isawaitable(result):
        return lifecycle.awaited(result)  # type: ignore[return-value]
    return lifecycle.completed(result)


@overload
def run_job(
    data: JobEventData,
    handler: Callable[[], Awaitable[R]],
    options: Optional[EventOptions] = None,
) -> Coroutine[Any, Any, R]: ...
@overload
def run_job(
    data: JobEventData,
    handler: Callable[[], R],
    options: Optional[EventOptions] = None,
) -> R: ...
def run_job(
    data: JobEventData,
    handler: Callable[[], Any],
    options: Optional[EventOptions] = None,
) -> Any:
    """Run ``handler`` (sync or async) as a job and record its life in the store.

    The status goes ``running``, then ``completed`` (with the result stored) or ``failed``
    (the exception is re-raised, the same object). Metadata gets ``started_at`` and
    ``finished_at`` (Unix seconds), ``duration_ms`` and, on failure,
    ``error = "<ExceptionType>: <message>"``. For an async handler, a coroutine is returned.

    Raises:
        TypeError: ``handler`` is not callable.
    """
    if not callable(handler):
        raise TypeError(f"run_job() handler must be callable, got {type(handler).__name__}")
    return create_job_context(data, options)(track_job, handler)
