"""Celery integration: every task runs as a JOB event, and event ids cross the broker.

After :func:`install`, each task of the app that a worker runs is one
:mod:`event_core.job` JOB event, run by :func:`event_core.job.run_job`: the job
composables work in the task body, the status is ``running`` while it runs and then
``completed`` (with the result) or ``failed`` (with ``error = "<Type>: <message>"``), and
``started_at``, ``finished_at`` and ``duration_ms`` are recorded, exactly as for any other
job. The event is:

    {"type": "JOB", "job_id": <task id>, "id": <task id>, "task_name": <task name>,
     "input": {"args": [...], "kwargs": {...}}}

so ``use_event_id().get_id()`` inside a task is its task id.

A task sent (``delay``, ``apply_async``, ``send_task``, canvas) while an event is active
carries the id of the innermost event in the message header :data:`PARENT_ID_HEADER`; in the
worker, ``use_job_metadata().get_metadata("parent_event_id")`` returns it, so a job knows
which request (or which parent job) asked for it, across processes and machines.

How it is done, and why:

* **The task body is wrapped, per task instance.** ``install`` replaces each task's ``run``
  with a wrapper that calls ``run_job``. Celery's worker calls ``run`` (directly, or
  through a custom ``__call__`` that calls ``super().__call__``), so this covers tasks of
  any ``base=`` and class-based tasks alike, without a custom ``Task`` class (which a
  task with its own ``base=`` would not use). Tasks that exist when the app is
  finalized, or when a worker for the app starts, are wrapped, so tasks defined before
  or after ``install`` are both covered. Calling a task directly (``add(2, 3)``) is a
  plain function call: it runs in the caller's event, not in a new JOB event.
* **Headers are added by Celery's** ``before_task_publish`` **signal**, which sees every
  task message, whatever API sent it. The signal does not tell which app publishes, so
  once ``install`` has been called for any app, messages of every app of the process get
  the header while an event is active.

Limits: ``install`` must run before the worker starts (at import of the module that
creates the app, typically), since the worker prepares its tracers from the tasks' ``run``
at start-up. Celery has no signal for "a task was defined", so tasks are wrapped when the
app is finalized and again when a worker starts: a worker does both, so every task it runs
is covered. Without a worker (``task_always_eager``, ``task.apply()`` in tests), call
``app.finalize()`` once the tasks are defined; a task defined after that runs unwrapped
until a worker starts. Celery's own tasks (names starting with ``celery.``: chord unlocking, group
and chain helpers) are machinery, not jobs, and are not wrapped. A ``self.retry()``, an
``Ignore`` or a ``Reject`` leaves the body with an exception, so the run is recorded as
``failed`` with that error; a retried run is a new JOB event with the same job id, and
keeps the parent id of the first run.

Example:
    >>> from celery import Celery
    >>> from event_core import create_event_context
    >>> from event_core.celery import install
    >>> from event_core.job import use_job_context, use_job_metadata, use_job_status
    >>> app = Celery("example", broker="memory://")
    >>> app.conf.task_always_eager = True  # runs in-process, through Celery's tracer
    >>> install(app)
    >>> @app.task(shared=False)
    ... def add(x, y):
    ...     job = use_job_context()
    ...     return [job.event["input"], use_job_status().get_status(),
    ...             use_job_metadata().get_metadata("parent_event_id")]
    >>> app.finalize()  # a worker does this (and wraps the tasks) when it starts
    >>> add.delay(2, y=3).get()
    [{'args': [2], 'kwargs': {'y': 3}}, 'running', None]
    >>> run = create_event_context({"type": "HTTP", "id": "req-1"})
    >>> run(lambda: add.delay(1, 1).get())[2]
    'req-1'

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any, Callable, cast

try:
    import celery as _celery_package  # pyright: ignore[reportMissingTypeStubs]
    from celery import signals as _signals_module  # pyright: ignore[reportMissingTypeStubs]
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "event_core.celery needs Celery, which is not installed: pip install 'event-core[celery]'"
    ) from exc

from event_core import EventContext, EventIdComposable, try_get_current
from event_core.job import JobEventData, MetadataValue, run_job, use_job_metadata

__all__ = ["PARENT_ID_HEADER", "PARENT_ID_METADATA", "install"]

#: The message header carrying the id of the event a task was sent from.
PARENT_ID_HEADER = "event_core_parent_id"
#: The job metadata key under which the worker's JOB event exposes that id.
PARENT_ID_METADATA = "parent_event_id"

# Celery ships no type information: everything from it goes through these Any-typed names.
_celery: Any = _celery_package
_signals: Any = _signals_module

_BUILTIN_PREFIX = "celery."
_install_lock = threading.Lock()
_installed_apps: weakref.WeakSet[Any] = weakref.WeakSet()
# The id of the task request whose JOB event this context is running: a task that calls
# itself directly from its body (recursion) must stay in that event, not open another.
_running_request: ContextVar[object] = ContextVar("event_core.celery.running", default=None)


def install(app: Any) -> None:
    """Run every task of ``app`` as a JOB event and send event ids along with tasks.

    Call it once the app exists and before a worker starts, e.g. right after
    ``app = Celery(...)``; tasks may be defined before or after. Calling it again for the
    same app changes nothing.

    Args:
        app: a ``celery.Celery`` application.

    Raises:
        TypeError: ``app`` is not a Celery application.

    Example:
        >>> from celery import Celery
        >>> from event_core.celery import install
        >>> from event_core.job import use_job_context
        >>> app = Celery("example", broker="memory://")
        >>> install(app)
        >>> install(app)  # harmless
        >>> @app.task(shared=False, name="example.job_id")
        ... def job_id():
        ...     return use_job_context().event["job_id"]
        >>> app.finalize()
        >>> job_id.apply(task_id="t-1").get()
        't-1'

    .. versionadded:: 0.1.0
    """
    if not isinstance(app, _celery.Celery):
        raise TypeError(
            f"event_core.celery.install() takes a celery.Celery app, got {type(app).__name__}"
        )
    with _install_lock:
        _connect_process_receivers()
        if app in _installed_apps:
            return
        _installed_apps.add(app)
    # Connect first, then look: an app finalized in between is wrapped twice, harmlessly.
    app.on_after_finalize.connect(
        _on_after_finalize, weak=False, dispatch_uid="event_core.celery.on_after_finalize"
    )
    if app.finalized:
        _wrap_tasks(app)


def _connect_process_receivers() -> None:
    # dispatch_uid makes these one connection per process, however many apps are installed.
    _signals.before_task_publish.connect(
        _on_before_task_publish, weak=False, dispatch_uid="event_core.celery.publish"
    )
    _signals.worker_init.connect(
        _on_worker_init, weak=False, dispatch_uid="event_core.celery.worker_init"
    )


def _on_after_finalize(sender: Any, **kwargs: Any) -> None:
    _wrap_tasks(sender)  # the app, which sends this signal about itself


def _on_worker_init(sender: Any = None, **kwargs: Any) -> None:
    # Sent before the worker builds its tracers: the last moment to wrap tasks defined
    # after the app was finalized.
    app = getattr(sender, "app", None)
    if app is not None and app in _installed_apps:
        app.finalize()
        _wrap_tasks(app)


def _wrap_tasks(app: Any) -> None:
    tasks = list(app.tasks.items())  # outside the lock: this may call into Celery
    with _install_lock:  # finalize and worker_init may race: never wrap a wrapper
        for name, task in tasks:
            if isinstance(name, str) and name.startswith(_BUILTIN_PREFIX):
                continue
            if not isinstance(task.__dict__.get("run"), _JobRun):
                # An instance attribute: it shadows the class's run for this task only.
                task.run = _JobRun(task, task.run)


class _JobRun:
    """A task's ``run``, made to run as a JOB event when Celery executes the task."""

    def __init__(self, task: Any, run: Callable[..., Any]) -> None:
        self._task = task
        self._run = run
        # name, doc and __wrapped__ of the original, for introspection and tracebacks
        functools.update_wrapper(self, run)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        request = self._task.request
        request_id = request.id
        # A direct call (task(...) as a function) is not an execution by Celery, and a
        # recursive call from the body belongs to the execution already running.
        if request.called_directly or request_id is None or _running_request.get() == request_id:
            return self._run(*args, **kwargs)
        parent_id = _parent_id(request, try_get_current())
        data = cast(
            "JobEventData",
            {
                "job_id": request_id,
                "id": request_id,
                "task_name": self._task.name,
                "input": {"args": list(args), "kwargs": dict(kwargs)},
            },
        )
        token = _running_request.set(request_id)
        try:
            return run_job(data, functools.partial(self._body, parent_id, args, kwargs))
        finally:
            _running_request.reset(token)

    def _body(self, parent_id: MetadataValue | None, args: Any, kwargs: Any) -> Any:
        if parent_id is not None:
            use_job_metadata().set_metadata(PARENT_ID_METADATA, parent_id)
        return self._run(*args, **kwargs)

    def __repr__(self) -> str:
        name = getattr(self._task, "name", None)
        return f"<event_core.celery JOB run of task {name!r}>"


def _parent_id(request: Any, outer: EventContext[Any, Any] | None) -> MetadataValue | None:
    # From the worker: the message header, which Celery exposes as a request attribute.
    value: object = request.get(PARENT_ID_HEADER)
    if value is None:
        # From apply(headers=...) (eager runs): the request's headers dict.
        headers = request.headers
        if isinstance(headers, Mapping):
            value = cast("Mapping[str, object]", headers).get(PARENT_ID_HEADER)
    if value is None and outer is not None:
        # An eager run happens inside the event that sent it: that event is the parent.
        value = EventIdComposable(outer).get_id()
    return None if value is None else _as_metadata(value)


def _as_metadata(value: object) -> MetadataValue:
    # Message headers and job metadata hold str, int or float; anything else goes as str.
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return value
    return str(value)


def _on_before_task_publish(sender: Any = None, headers: Any = None, **kwargs: Any) -> None:
    ctx = try_get_current()
    if ctx is None or not isinstance(headers, dict):
        return
    message_headers = cast("dict[str, object]", headers)
    if PARENT_ID_HEADER in message_headers:
        return  # given explicitly, or carried over by a retry: keep it
    event_id = EventIdComposable(ctx).get_id()
    if message_headers.get("id") == event_id:
        return  # a task retrying itself: an event is not its own parent
    message_headers[PARENT_ID_HEADER] = event_id
