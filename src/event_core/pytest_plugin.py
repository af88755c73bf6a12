"""pytest plugin: event-context fixtures and a check that no test leaves an event active.

Registered through the ``pytest11`` entry point, so installing event-core is enough.

Fixtures:
    ``event_context``: an active ``"TEST"`` event for the test; set its event with
    ``@pytest.mark.event_context(type="HTTP", **event_fields)``.
    ``make_event_context``: ``make_event_context(event, options=None, /, **sections)`` returns a
    runner; runners it made that the test left entered are closed at teardown.
    ``job_context``: an active JOB event (``job_id="test-job"``, ``input={}``).

The fixtures are synchronous on purpose: the context they set is copied into the task
that runs an async test (pytest-asyncio, anyio), so the same fixtures serve both kinds.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Generator, Iterator, Mapping
from typing import Any, Callable, Optional

import pytest

from ._context import E, EventContext, S, try_get_current
from ._runner import (
    EventRunner,
    close_entries,
    close_runners,
    create_event_context,
    open_entries,
    run,
)
from .job import JobContextStore, JobEventData, create_job_context

__all__ = ["event_context", "job_context", "make_event_context"]

MakeEventContext = Callable[..., EventRunner[dict[str, Any], dict[str, Any]]]


_MANAGED = pytest.StashKey["list[EventRunner[Any, Any]]"]()  # made by make_event_context
_ACTIVE = pytest.StashKey["EventContext[Any, Any]"]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "event_context(type='TEST', **event_fields): the event of the event_context fixture",
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    """Run a coroutine test inside the event of the ``event_context``/``job_context`` fixture.

    The fixture activates its event in the thread's context, which reaches the test only if
    the task running it is created afterwards. anyio's plugin reuses one runner task for a
    module once a module-scoped async fixture started it, so the test is wrapped to activate
    the event itself, whatever runs it.
    """
    ctx = pyfuncitem.stash.get(_ACTIVE, None)
    original = pyfuncitem.obj
    if ctx is None or not inspect.iscoroutinefunction(original):
        return (yield None)

    @functools.wraps(original)
    async def in_event(*args: Any, **kwargs: Any) -> Any:
        return await run(ctx, original, *args, **kwargs)

    pyfuncitem.obj = in_event
    try:
        return (yield None)
    finally:
        pyfuncitem.obj = original


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Fail a test that returns with an event context still entered, and close it.

    Checked right after the test body, before fixtures are torn down, so the fixtures'
    own contexts are still open and unwound in order afterwards.
    """
    before = set(open_entries())
    passed = False
    try:
        yield
        passed = True
    finally:
        managed = {id(runner) for runner in item.stash.get(_MANAGED, ())}
        leaked = [
            entry
            for entry in open_entries()
            if entry not in before and id(entry.runner) not in managed
        ]
        close_entries(leaked)
    if leaked and passed:
        _fail_leak(leaked)


def _fail_leak(leaked: list[Any]) -> None:
    leaked.sort(key=lambda entry: entry.seq)
    what = ", ".join(repr(entry.runner.context) for entry in leaked)
    pytest.fail(
        f"the test left an event context active: {what}. Close every `with runner:` "
        "(or use the make_event_context fixture, which closes what it made)",
        pytrace=False,
    )


def _enter(request: pytest.FixtureRequest, runner: EventRunner[S, E]) -> EventContext[S, E]:
    ctx = runner.__enter__()
    request.node.stash[_ACTIVE] = ctx
    return ctx


@pytest.fixture
def event_context(request: pytest.FixtureRequest) -> Iterator[EventContext[Any, Any]]:
    """An active event for the test: ``{"type": "TEST"}`` unless the marker says otherwise."""
    event: dict[str, Any] = {"type": "TEST"}
    marker = request.node.get_closest_marker("event_context")
    if marker is not None:
        if marker.args:
            raise TypeError(
                "@pytest.mark.event_context takes keyword arguments only, "
                f"e.g. event_context(type='HTTP'); got positional {marker.args!r}"
            )
        event.update(marker.kwargs)
    runner = create_event_context(event)
    try:
        yield _enter(request, runner)
    finally:
        close_runners([runner])


@pytest.fixture
def make_event_context(request: pytest.FixtureRequest) -> Iterator[MakeEventContext]:
    """A factory of runners; whatever the test left entered is closed at teardown."""
    made: list[EventRunner[Any, Any]] = []
    request.node.stash[_MANAGED] = made

    def make(
        event: Mapping[str, Any],
        options: Optional[Mapping[str, Any]] = None,
        /,
        **sections: Any,
    ) -> EventRunner[dict[str, Any], dict[str, Any]]:
        runner = create_event_context(event, options, **sections)
        made.append(runner)
        return runner

    yield make
    close_runners(made)


@pytest.fixture
def job_context(
    request: pytest.FixtureRequest,
) -> Iterator[EventContext[JobContextStore, JobEventData]]:
    """An active JOB event: ``job_id="test-job"``, ``input={}``."""
    runner = create_job_context({"job_id": "test-job", "input": {}})
    try:
        yield _enter(request, runner)
    finally:
        close_runners([runner])


@pytest.fixture(autouse=True)
def _event_core_leak_check() -> Iterator[None]:
    """Fail a test whose fixtures left an event context active (tests are checked earlier).

    Autouse fixtures are set up first and torn down last, so by now every fixture has
    closed (or failed to close) its contexts.
    """
    before = set(open_entries())
    yield
    leaked = [entry for entry in open_entries() if entry not in before]
    close_entries(leaked)
    if leaked:
        _fail_leak(leaked)
    still_active = try_get_current() if not before else None
    if still_active is not None:
        pytest.fail(f"the test left an event context active: {still_active!r}", pytrace=False)
