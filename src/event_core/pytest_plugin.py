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

from collections.abc import Iterator, Mapping
from typing import Any, Callable, Optional

import pytest

from ._context import EventContext, try_get_current
from ._errors import EventContextError
from ._runner import EventRunner, create_event_context, forget_entries, open_entries
from .job import JobContextStore, JobEventData, create_job_context

__all__ = ["event_context", "job_context", "make_event_context"]

MakeEventContext = Callable[..., EventRunner[dict[str, Any], dict[str, Any]]]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "event_context(type='TEST', **event_fields): the event of the event_context fixture",
    )


def _close(runner: EventRunner[Any, Any]) -> None:
    """Leave ``runner``'s ``with`` block, or drop it if the test left others inside it."""
    try:
        runner.__exit__(None, None, None)
    except EventContextError:
        forget_entries(runner)


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
    ctx = runner.__enter__()
    try:
        yield ctx
    finally:
        _close(runner)


@pytest.fixture
def make_event_context() -> Iterator[MakeEventContext]:
    """A factory of runners; whatever the test left entered is closed at teardown."""
    made: list[EventRunner[Any, Any]] = []

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
    for runner in reversed(made):
        forget_entries(runner)


@pytest.fixture
def job_context() -> Iterator[EventContext[JobContextStore, JobEventData]]:
    """An active JOB event: ``job_id="test-job"``, ``input={}``."""
    runner = create_job_context({"job_id": "test-job", "input": {}})
    ctx = runner.__enter__()
    try:
        yield ctx
    finally:
        _close(runner)


@pytest.fixture(autouse=True)
def _event_core_leak_check() -> Iterator[None]:
    """Fail the test (at teardown) if it left an event context active.

    Autouse fixtures are set up first and torn down last, so by now the fixtures above have
    closed their own contexts: anything still open was opened by the test and not closed.
    """
    before = set(open_entries())
    yield
    leaked = [entry for entry in open_entries() if entry not in before]
    for entry in leaked:
        forget_entries(entry.runner)
    still_active = try_get_current() if not before else None
    if leaked or still_active is not None:
        what = ", ".join(repr(entry.runner.context) for entry in leaked) or repr(still_active)
        pytest.fail(
            f"the test left an event context active: {what}. Close every `with runner:` "
            "(or use the make_event_context fixture, which closes what it made)",
            pytrace=False,
        )
