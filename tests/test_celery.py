"""event_core.celery: tasks run by a real Celery worker as JOB events, parent ids in headers.

The worker runs in a thread of the test process (``celery.contrib.testing.worker``), on
kombu's filesystem broker (marker ``celery``) and on a real Redis (marker ``redis``, with
``REDIS_URL``). What a task sees while it runs comes back as its result. What its JOB event
holds once the body has finished is seen by ``JobRecorder``, a context injector installed
for this module: the runner calls it around every event run, in the worker thread too, and
it copies the ``"job"`` store section right after ``run_job`` returned or raised, before
Celery stores the task's result.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from celery import Celery, Task
from celery.contrib.testing.worker import start_worker
from celery.result import AsyncResult
from celery.signals import before_task_publish, worker_init
from kombu.transport import filesystem as kombu_filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

from event_core import (
    ContextInjector,
    EventContext,
    NoEventContextError,
    create_event_context,
    replace_context_injector,
    reset_context_injector,
    try_get_current,
    use_event_context,
    use_event_id,
)
from event_core.celery import PARENT_ID_HEADER, PARENT_ID_METADATA, install
from event_core.job import use_job_context, use_job_metadata, use_job_result, use_job_status

TIMEOUT = 30.0
POLL = 0.05


# --------------------------------------------------------------------------- observers


class JobRecorder(ContextInjector):
    """Copies the ``"job"`` section of every JOB event when its run ends, by job id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, list[dict[str, Any]]] = {}

    def with_(self, name: str, attributes: Any, fn: Callable[[], Any]) -> Any:
        ctx = try_get_current()
        try:
            return fn()
        finally:
            if ctx is not None and ctx.type == "JOB":
                self._record(ctx)

    def _record(self, ctx: EventContext[Any, Any]) -> None:
        job = dict(ctx.get_ctx().get("job") or {})
        snapshot = {
            "status": job.get("status"),
            "result": job.get("result"),
            "metadata": dict(job.get("metadata") or {}),
            "event": dict(ctx.event),
        }
        with self._lock:
            self._runs.setdefault(str(ctx.event.get("job_id")), []).append(snapshot)

    def runs_of(self, job_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._runs.get(job_id, []))


class PublishedHeaders:
    """Keeps the headers of every task message published, by task id.

    It keeps the dict itself, the one the message is sent with, so it shows the headers as
    sent whichever of its receiver and install()'s runs first.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._headers: dict[str, dict[str, Any]] = {}

    def __call__(self, sender: Any = None, headers: Any = None, **kwargs: Any) -> None:
        if isinstance(headers, dict) and "id" in headers:
            with self._lock:
                self._headers[str(headers["id"])] = headers

    def of(self, task_id: str) -> dict[str, Any]:
        with self._lock:
            return self._headers[task_id]


@pytest.fixture(scope="module")
def recorder() -> Iterator[JobRecorder]:
    rec = JobRecorder()
    replace_context_injector(rec)
    yield rec
    reset_context_injector()


@pytest.fixture(scope="module")
def published() -> Iterator[PublishedHeaders]:
    seen = PublishedHeaders()
    before_task_publish.connect(seen, weak=False, dispatch_uid="tests.test_celery.published")
    yield seen
    before_task_publish.disconnect(seen, dispatch_uid="tests.test_celery.published")


# --------------------------------------------------------------------------- the app


def job_view(request: Any) -> dict[str, Any]:
    """What a task body sees of its JOB event (returned as the task's result)."""
    job = use_job_context()
    return {
        "event_type": job.type,
        "job_id": job.event["job_id"],
        "event_id": use_event_id().get_id(),
        "request_id": request.id,
        "input": job.event["input"],
        "status": use_job_status().get_status(),
        "result_so_far": use_job_result().get_result(),
        "parent": use_job_metadata().get_metadata(PARENT_ID_METADATA),
        "header": request.get(PARENT_ID_HEADER),
        "tenant": request.get("x-tenant"),
    }


class CustomBase(Task):  # type: ignore[misc]
    """A base class with its own ``__call__``, as many projects have."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        body = super().__call__(*args, **kwargs)
        return {"custom_call": True, "body": body}


class ClassTask(Task):  # type: ignore[misc]
    """A class-based task: ``run`` defined on the class, registered with register_task."""

    def run(self, value: int) -> dict[str, Any]:
        view = job_view(self.request)
        view["value"] = value
        return view


class Flow:
    """An app with a worker, and its tasks: defined before install, after, custom, class."""

    def __init__(self, app: Celery, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

        @app.task(shared=False, bind=True, name=f"{prefix}.before_install")
        def before_install(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
            return job_view(self.request)

        self.before_install = before_install
        install(app)

        @app.task(shared=False, bind=True, name=f"{prefix}.inspect")
        def inspect(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
            return job_view(self.request)

        @app.task(shared=False, name=f"{prefix}.fail")
        def fail(message: str) -> None:
            raise ValueError(message)

        @app.task(shared=False, bind=True, name=f"{prefix}.spawn")
        def spawn(self: Any) -> str:
            # sent from inside this task's JOB event: the child's parent is this task
            child: AsyncResult = inspect.delay("child")
            return str(child.id)

        @app.task(shared=False, bind=True, name=f"{prefix}.call_directly")
        def call_directly(self: Any) -> dict[str, Any]:
            # a plain call of a task function: no new event, it sees the caller's
            return {"outer": job_view(self.request), "inner": inspect("direct")}

        @app.task(shared=False, bind=True, name=f"{prefix}.retry_once")
        def retry_once(self: Any) -> dict[str, Any]:
            if self.request.retries == 0:
                raise self.retry(countdown=0, max_retries=1)
            return job_view(self.request)

        @app.task(shared=False, bind=True, base=CustomBase, name=f"{prefix}.custom")
        def custom(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
            return job_view(self.request)

        self.inspect = inspect
        self.fail = fail
        self.spawn = spawn
        self.call_directly = call_directly
        self.retry_once = retry_once
        self.custom = custom
        self.class_task = app.register_task(ClassTask(), name=f"{prefix}.class_task")
        install(app)  # a second call, as an app module imported twice would do

    def wait(self, result: AsyncResult) -> Any:
        return result.get(timeout=TIMEOUT, interval=POLL)

    def wait_for_id(self, task_id: str) -> Any:
        return self.wait(AsyncResult(task_id, app=self.app))


class _AtomicFilesystemChannel(kombu_filesystem.Channel):  # type: ignore[misc]
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        # kombu opens the message file, then serializes into it: a worker polling every
        # 50 ms (sooner under coverage) can take the file while it is still empty and
        # die on the JSON. Written under a name the reader skips, then renamed, the file
        # appears complete or not at all.
        name = f"{round(time.monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".part"
        with open(partial, "wb") as f:
            f.write(str_to_bytes(dumps(payload)))
        os.replace(partial, final)


class AtomicFilesystemTransport(kombu_filesystem.Transport):  # type: ignore[misc]
    """kombu's filesystem transport, with message files that appear complete."""

    Channel = _AtomicFilesystemChannel


def make_app(prefix: str, broker: str, backend: str, **conf: Any) -> Celery:
    app = Celery(prefix, broker=broker, backend=backend, set_as_current=False)
    app.conf.update(
        task_default_queue=f"{prefix}-{uuid.uuid4().hex[:8]}",  # nothing left from other runs
        broker_connection_retry_on_startup=False,  # a broker that is not there fails fast
        **conf,
    )
    return app


@pytest.fixture(scope="module")
def fs_flow(
    tmp_path_factory: pytest.TempPathFactory, recorder: JobRecorder, published: PublishedHeaders
) -> Iterator[Flow]:
    base = tmp_path_factory.mktemp("celery-fs")
    queue, processed, results = base / "queue", base / "processed", base / "results"
    for folder in (queue, processed, results):
        folder.mkdir()
    app = make_app(
        "fs",
        broker="filesystem://",
        backend=f"file://{results}",
        broker_transport=AtomicFilesystemTransport,
        broker_transport_options={
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "processed_folder": str(processed),
            "control_folder": str(base / "control"),  # not ./control
            "polling_interval": 0.05,
        },
    )
    flow = Flow(app, "fs")
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        yield flow


@pytest.fixture(scope="module")
def redis_flow(recorder: JobRecorder, published: PublishedHeaders) -> Iterator[Flow]:
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.fail(
            "REDIS_URL is not set: the tests marked `redis` need a running redis-server "
            "(run scripts/ci-redis.sh, or set REDIS_URL=redis://127.0.0.1:PORT/0)",
            pytrace=False,
        )
    try:
        import redis
    except ImportError:
        pytest.fail("the tests marked `redis` need the redis client: pip install redis")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        pytest.fail(f"REDIS_URL={url!r} does not answer PING: {exc!r}", pytrace=False)
    app = make_app("redis", broker=url, backend=url)
    flow = Flow(app, "redis")
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        yield flow


# --------------------------------------------------------------------------- the core flow
# Run on both brokers: TestFilesystemBroker and TestRedisBroker pick the flow.


class CoreFlow:
    """The behaviour every broker must show; subclasses provide the ``flow`` fixture."""

    def test_job_composables_inside_the_task_body(self, flow: Flow) -> None:
        """A task's body runs in a JOB event: job id = task id, input = args and kwargs."""
        result = flow.inspect.delay(1, "a", k=[1, 2])
        view = flow.wait(result)
        assert view["event_type"] == "JOB"
        assert view["job_id"] == view["request_id"] == result.id
        assert view["event_id"] == result.id
        assert view["input"] == {"args": [1, "a"], "kwargs": {"k": [1, 2]}}
        assert view["status"] == "running"
        assert view["result_so_far"] is None

    def test_completed_with_the_result_after_the_body(
        self, flow: Flow, recorder: JobRecorder
    ) -> None:
        """Once the body returned, the job is completed with the result and timestamps."""
        result = flow.inspect.delay(7)
        view = flow.wait(result)
        (run,) = recorder.runs_of(result.id)
        assert run["status"] == "completed"
        assert run["result"] == view
        metadata = run["metadata"]
        assert {"started_at", "finished_at", "duration_ms"} <= set(metadata)
        assert all(isinstance(metadata[k], float) for k in ("started_at", "duration_ms"))
        assert "error" not in metadata

    def test_failed_with_error(self, flow: Flow, recorder: JobRecorder) -> None:
        """A body that raises: the task fails with that error and the job is failed."""
        result = flow.fail.delay("boom")
        error = result.get(timeout=TIMEOUT, interval=POLL, propagate=False)
        assert isinstance(error, ValueError)
        assert str(error) == "boom"
        assert result.state == "FAILURE"
        (run,) = recorder.runs_of(result.id)
        assert run["status"] == "failed"
        assert run["metadata"]["error"] == "ValueError: boom"
        assert "finished_at" in run["metadata"]

    def test_parent_id_from_an_event_with_an_id(
        self, flow: Flow, published: PublishedHeaders
    ) -> None:
        """Sent from inside an event: the header and the job metadata hold the event's id."""
        run = create_event_context({"type": "HTTP", "id": "req-42"})
        result = run(flow.inspect.delay)
        view = flow.wait(result)
        assert published.of(result.id)[PARENT_ID_HEADER] == "req-42"
        assert view["header"] == "req-42"
        assert view["parent"] == "req-42"

    def test_parent_id_generated_lazily(self, flow: Flow) -> None:
        """An event without an id gets one when it sends a task; the worker sees that id."""
        run = create_event_context({"type": "HTTP"})
        assert "id" not in run.context.event
        result = run(flow.inspect.delay)
        view = flow.wait(result)
        event_id = run(lambda: use_event_id().get_id())
        assert isinstance(event_id, str)
        assert len(event_id) == 36
        assert view["parent"] == event_id

    def test_no_header_from_outside_any_event(
        self, flow: Flow, published: PublishedHeaders
    ) -> None:
        """Sent from outside any event: no header, and the parent id is None in the worker."""
        assert try_get_current() is None
        result = flow.inspect.delay()
        view = flow.wait(result)
        assert PARENT_ID_HEADER not in published.of(result.id)
        assert view["header"] is None
        assert view["parent"] is None

    def test_parent_id_from_a_task_sent_by_a_task(self, flow: Flow) -> None:
        """A task sent from a task body carries that task's event id, i.e. its task id."""
        parent = flow.spawn.delay()
        child_id = flow.wait(parent)
        child_view = flow.wait_for_id(child_id)
        assert child_view["parent"] == parent.id
        assert child_view["job_id"] == child_id


class TestFilesystemBroker(CoreFlow):
    """The core flow on kombu's filesystem broker (no server needed)."""

    pytestmark = pytest.mark.celery

    @pytest.fixture
    def flow(self, fs_flow: Flow) -> Flow:
        return fs_flow


class TestRedisBroker(CoreFlow):
    """The core flow on a real Redis broker and result backend (REDIS_URL)."""

    pytestmark = pytest.mark.redis

    @pytest.fixture
    def flow(self, redis_flow: Flow) -> Flow:
        return redis_flow


# --------------------------------------------------------------------------- filesystem only


@pytest.mark.celery
class TestTaskKinds:
    """Every task of the app runs in exactly one JOB event, however it was defined."""

    def test_task_defined_before_install(self, fs_flow: Flow, recorder: JobRecorder) -> None:
        """A task defined before install() runs in its own JOB event."""
        result = fs_flow.before_install.delay(3)
        view = fs_flow.wait(result)
        assert view["job_id"] == result.id
        assert view["input"] == {"args": [3], "kwargs": {}}
        assert len(recorder.runs_of(result.id)) == 1

    def test_task_defined_after_install(self, fs_flow: Flow, recorder: JobRecorder) -> None:
        """A task defined after install() runs in exactly one JOB event."""
        result = fs_flow.inspect.delay(4)
        assert fs_flow.wait(result)["job_id"] == result.id
        assert len(recorder.runs_of(result.id)) == 1

    def test_task_with_a_custom_base(self, fs_flow: Flow, recorder: JobRecorder) -> None:
        """A task whose base= has its own __call__ still runs in exactly one JOB event."""
        result = fs_flow.custom.delay(5, key="v")
        outcome = fs_flow.wait(result)
        assert outcome["custom_call"] is True
        assert outcome["body"]["job_id"] == result.id
        assert outcome["body"]["input"] == {"args": [5], "kwargs": {"key": "v"}}
        (run,) = recorder.runs_of(result.id)
        assert run["status"] == "completed"

    def test_class_based_task(self, fs_flow: Flow, recorder: JobRecorder) -> None:
        """A Task subclass with its own run(), registered with register_task, is covered."""
        result = fs_flow.class_task.delay(6)
        view = fs_flow.wait(result)
        assert view["value"] == 6
        assert view["job_id"] == result.id
        assert len(recorder.runs_of(result.id)) == 1

    def test_direct_call_from_a_body_opens_no_event(
        self, fs_flow: Flow, recorder: JobRecorder
    ) -> None:
        """Calling a task function inside a body runs in the caller's JOB event."""
        result = fs_flow.call_directly.delay()
        outcome = fs_flow.wait(result)
        assert outcome["outer"]["job_id"] == result.id
        assert outcome["inner"]["job_id"] == result.id
        assert outcome["inner"]["input"] == {"args": [], "kwargs": {}}
        assert len(recorder.runs_of(result.id)) == 1

    def test_builtin_tasks_are_not_wrapped(self, fs_flow: Flow) -> None:
        """Celery's own celery.* tasks keep their run: they are machinery, not jobs."""
        builtins = [name for name in fs_flow.app.tasks if name.startswith("celery.")]
        assert builtins
        assert all("run" not in fs_flow.app.tasks[name].__dict__ for name in builtins)

    def test_install_twice_is_harmless(self, fs_flow: Flow, recorder: JobRecorder) -> None:
        """A further install() changes neither the tasks nor the publish hooks."""
        runs_before = {name: task.run for name, task in fs_flow.app.tasks.items()}
        receivers_before = len(before_task_publish.receivers)
        install(fs_flow.app)
        assert {name: task.run for name, task in fs_flow.app.tasks.items()} == runs_before
        assert len(before_task_publish.receivers) == receivers_before
        result = create_event_context({"type": "HTTP", "id": "twice"})(fs_flow.inspect.delay)
        assert fs_flow.wait(result)["parent"] == "twice"
        assert len(recorder.runs_of(result.id)) == 1

    def test_install_rejects_what_is_not_an_app(self) -> None:
        """install() names the wrong argument's type."""
        with pytest.raises(TypeError, match=r"celery\.Celery app, got str"):
            install("not an app")


@pytest.mark.celery
class TestSending:
    """Every way of sending a task carries the innermost event's id."""

    def test_send_task_by_name(self, fs_flow: Flow, published: PublishedHeaders) -> None:
        """app.send_task() by name, from inside an event, carries the event's id."""
        run = create_event_context({"type": "CLI", "id": "cli-1"})
        result = run(lambda: fs_flow.app.send_task(f"{fs_flow.prefix}.inspect", args=[8]))
        view = fs_flow.wait(result)
        assert published.of(result.id)[PARENT_ID_HEADER] == "cli-1"
        assert view["parent"] == "cli-1"
        assert view["input"] == {"args": [8], "kwargs": {}}

    def test_send_task_by_name_outside_any_event(self, fs_flow: Flow) -> None:
        """app.send_task() outside any event: no parent id."""
        result = fs_flow.app.send_task(f"{fs_flow.prefix}.inspect")
        assert fs_flow.wait(result)["parent"] is None

    def test_innermost_event_is_the_parent(self, fs_flow: Flow) -> None:
        """From a nested event, the innermost event's id is sent, not the outer one's."""
        outer = create_event_context({"type": "HTTP", "id": "outer"})

        def handler() -> tuple[AsyncResult, str]:
            inner = create_event_context({"type": "STEP"})
            return inner(lambda: (fs_flow.inspect.delay(), use_event_id().get_id()))

        result, inner_id = outer(handler)
        assert inner_id != "outer"
        assert fs_flow.wait(result)["parent"] == inner_id

    def test_apply_async_keeps_other_headers(self, fs_flow: Flow) -> None:
        """apply_async(headers=...) keeps the caller's headers and adds the parent id."""
        run = create_event_context({"type": "HTTP", "id": "req-h"})
        result = run(lambda: fs_flow.inspect.apply_async(headers={"x-tenant": "t1"}))
        view = fs_flow.wait(result)
        assert view["tenant"] == "t1"
        assert view["parent"] == "req-h"

    def test_explicit_parent_header_wins(self, fs_flow: Flow) -> None:
        """A parent id given explicitly in headers is not replaced by the active event's."""
        run = create_event_context({"type": "HTTP", "id": "req-x"})
        result = run(lambda: fs_flow.inspect.apply_async(headers={PARENT_ID_HEADER: "given"}))
        assert fs_flow.wait(result)["parent"] == "given"

    def test_retry_from_outside_any_event_has_no_parent(self, fs_flow: Flow) -> None:
        """A retry is sent from the task's own event: it does not become its own parent."""
        result = fs_flow.retry_once.delay()
        view = fs_flow.wait(result)
        assert view["parent"] is None
        assert view["header"] is None

    def test_retry_keeps_the_parent_and_records_each_run(
        self, fs_flow: Flow, recorder: JobRecorder
    ) -> None:
        """A retried task: the first run failed with the Retry, the second keeps the parent."""
        run = create_event_context({"type": "HTTP", "id": "req-r"})
        result = run(fs_flow.retry_once.delay)
        view = fs_flow.wait(result)
        assert view["parent"] == "req-r"
        assert view["job_id"] == result.id
        first, second = recorder.runs_of(result.id)
        assert first["status"] == "failed"
        assert str(first["metadata"]["error"]).startswith("Retry: ")
        assert second["status"] == "completed"


# --------------------------------------------------------------------------- no worker


@pytest.fixture
def memory_app() -> Celery:
    app = Celery("mem", broker="memory://", set_as_current=False)
    # kombu's memory transport is one broker per process: a queue of our own
    app.conf.task_default_queue = f"mem-{uuid.uuid4().hex[:8]}"
    install(app)
    return app


class TestWithoutWorker:
    """In-process paths: apply() through Celery's tracer, and publishing to memory://."""

    def test_apply_runs_in_a_job_event(self, memory_app: Celery) -> None:
        """task.apply() (eager) runs the body in a JOB event once the app is finalized."""

        @memory_app.task(shared=False)
        def job(*args: Any, **kwargs: Any) -> list[Any]:
            ctx = use_job_context()
            return [ctx.event["job_id"], ctx.event["input"], use_job_status().get_status()]

        memory_app.finalize()
        assert job.apply(args=(1,), kwargs={"a": 2}, task_id="t-1").get() == [
            "t-1",
            {"args": [1], "kwargs": {"a": 2}},
            "running",
        ]

    def test_apply_inside_an_event_has_that_parent(self, memory_app: Celery) -> None:
        """An eager run started inside an event records that event as its parent."""

        @memory_app.task(shared=False)
        def parent() -> Any:
            return use_job_metadata().get_metadata(PARENT_ID_METADATA)

        memory_app.finalize()
        run = create_event_context({"type": "HTTP", "id": "req-e"})
        assert run(lambda: parent.apply().get()) == "req-e"
        assert parent.apply().get() is None

    def test_direct_call_is_not_a_job(self, memory_app: Celery) -> None:
        """Calling a task as a function runs it in the caller's event, not in a JOB event."""

        @memory_app.task(shared=False)
        def where() -> str:
            return use_event_context().type

        memory_app.finalize()
        assert create_event_context({"type": "HTTP"})(where) == "HTTP"
        with pytest.raises(NoEventContextError):
            where()

    def test_recursive_direct_call_stays_in_the_event(self, memory_app: Celery) -> None:
        """A task calling itself as a function from its body opens no nested JOB event."""

        @memory_app.task(shared=False)
        def countdown(n: int) -> list[Any]:
            if n > 0:
                return list(countdown(n - 1))
            ctx = use_event_context()
            return [ctx.event["job_id"], ctx.parent is None]

        memory_app.finalize()
        assert countdown.apply(args=(3,), task_id="r-1").get() == ["r-1", True]

    def test_apply_with_an_explicit_parent_header(self, memory_app: Celery) -> None:
        """apply(headers=...) with the parent header: the eager run takes that parent."""

        @memory_app.task(shared=False)
        def parent() -> Any:
            return use_job_metadata().get_metadata(PARENT_ID_METADATA)

        memory_app.finalize()
        assert parent.apply(headers={PARENT_ID_HEADER: "given"}).get() == "given"

    def test_install_on_a_finalized_app(self) -> None:
        """install() after the app was finalized wraps the tasks it already has."""
        app = Celery("late", broker="memory://", set_as_current=False)

        @app.task(shared=False)
        def job_type() -> str:
            return use_event_context().type

        app.finalize()
        assert job_type.apply().get(propagate=False).__class__ is NoEventContextError
        install(app)
        assert job_type.apply().get() == "JOB"
        assert repr(job_type.run) == f"<event_core.celery JOB run of task {job_type.name!r}>"

    def test_worker_of_another_app_is_left_alone(self, memory_app: Celery) -> None:
        """worker_init for an app that was not installed wraps nothing."""
        other = Celery("other", broker="memory://", set_as_current=False)

        @other.task(shared=False)
        def plain() -> None:
            return None

        other.finalize()
        worker_init.send(sender=type("Worker", (), {"app": other})())
        assert "run" not in plain.__dict__

    def test_parent_header_of_another_type_becomes_str(self, memory_app: Celery) -> None:
        """A parent header that is not a str, int or float reaches the metadata as its str."""

        @memory_app.task(shared=False)
        def parent() -> Any:
            return use_job_metadata().get_metadata(PARENT_ID_METADATA)

        memory_app.finalize()
        assert parent.apply(headers={PARENT_ID_HEADER: ["a", 1]}).get() == "['a', 1]"
        assert parent.apply(headers={PARENT_ID_HEADER: 42}).get() == 42

    def test_header_in_the_published_message(self, memory_app: Celery) -> None:
        """The message on the broker carries the header; one sent outside does not."""
        memory_app.finalize()
        run = create_event_context({"type": "HTTP", "id": "req-m"})
        run(lambda: memory_app.send_task("anything", args=[1]))
        memory_app.send_task("anything", args=[2])
        with memory_app.connection_for_read() as conn:
            queue = conn.SimpleQueue(memory_app.conf.task_default_queue, no_ack=True)
            try:
                first = queue.get(timeout=5)
                second = queue.get(timeout=5)
            finally:
                queue.close()
        assert first.headers[PARENT_ID_HEADER] == "req-m"
        assert first.headers["argsrepr"] == "[1]"
        assert PARENT_ID_HEADER not in second.headers
        assert second.headers["argsrepr"] == "[2]"


class TestMissingExtra:
    """Without its library, the module says which extra to install."""

    def test_celery_missing(self) -> None:
        """Importing event_core.celery without Celery names the celery extra."""
        code = "import sys; sys.modules['celery'] = None; import event_core.celery"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode != 0
        assert "pip install 'event-core[celery]'" in done.stderr
