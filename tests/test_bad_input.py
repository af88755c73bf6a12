"""Bad input, one table: each case raises the documented exception with a message naming the
problem, and leaves no event active and the store of the surrounding event unchanged."""

from __future__ import annotations

import copy
from typing import Any, Callable, Optional

import pytest

from event_core import (
    ContextInjector,
    EventContext,
    EventContextError,
    EventKind,
    EventRunner,
    EventTypeMismatchError,
    Key,
    KeyNotSetError,
    NoEventContextError,
    NoParentContextError,
    bind,
    cached_by,
    create_event_context,
    current,
    define_wook,
    replace_context_injector,
    reset_context_injector,
    run,
    snapshot,
    try_get_current,
    use_event_context,
    use_event_id,
    use_event_logger,
    use_route_params,
)
from event_core.job import (
    create_job_context,
    run_job,
    use_job_metadata,
    use_job_result,
    use_job_status,
)


class Http(EventKind, name="http"):
    """An event kind for the seed cases."""

    method: Key[str]
    path: Key[str]


USER: Key[str] = Key("user")
NO_CONTEXT = "Event context does not exist at this point"

Action = Callable[[Optional[EventContext[Any, Any]]], object]


def _ctx(ctx: Optional[EventContext[Any, Any]]) -> EventContext[Any, Any]:
    assert ctx is not None
    return ctx


def _greeting(ctx: EventContext[Any, Any]) -> str:
    return "hello " + ctx.type


_use_greeting = define_wook(_greeting)


@cached_by
def _header(name: str, ctx: EventContext[Any, Any]) -> str:
    return name


def _set_section_value(ctx: Optional[EventContext[Any, Any]]) -> None:
    _ctx(ctx).store("job").value = ["not", "a", "dict"]  # type: ignore[assignment]


def _replace_injector(bad: object) -> None:
    try:
        replace_context_injector(bad)  # type: ignore[arg-type]
    finally:
        reset_context_injector()


def case(
    id: str,
    where: Optional[str],
    action: Action,
    exc: type[BaseException],
    match: str,
    *,
    xfail: Optional[str] = None,
) -> Any:
    """One row: where the action runs (None: outside any event, else an event type)."""
    marks = [pytest.mark.xfail(strict=True, reason=f"core bug: {xfail}")] if xfail else []
    return pytest.param(where, action, exc, match, id=id, marks=marks)


CASES = [
    # -- the event given to create_event_context
    case(
        "event-without-type",
        "TEST",
        lambda c: create_event_context({"job_id": "x"}),
        ValueError,
        "event has no 'type'",
    ),
    case(
        "event-type-none",
        "TEST",
        lambda c: create_event_context({"type": None}),
        TypeError,
        "event 'type' must be a str, got NoneType",
    ),
    case(
        "event-type-int",
        None,
        lambda c: create_event_context({"type": 3}),
        TypeError,
        "event 'type' must be a str, got int",
    ),
    case(
        "event-type-empty",
        "TEST",
        lambda c: create_event_context({"type": ""}),
        ValueError,
        "event 'type' must be a non-empty str",
    ),
    case(
        "event-list",
        None,
        lambda c: create_event_context([("type", "JOB")]),  # type: ignore[arg-type]
        TypeError,
        "event must be a mapping .* got list",
    ),
    case(
        "event-str",
        "TEST",
        lambda c: create_event_context("JOB"),  # type: ignore[arg-type]
        TypeError,
        "event must be a mapping .* got str",
    ),
    case(
        "event-none",
        None,
        lambda c: create_event_context(None),  # type: ignore[arg-type]
        TypeError,
        "event must be a mapping .* got NoneType",
    ),
    case(
        "options-list",
        "TEST",
        lambda c: create_event_context({"type": "JOB"}, []),  # type: ignore[arg-type]
        TypeError,
        "options must be a mapping or None, got list",
    ),
    case(
        "options-str",
        None,
        lambda c: create_event_context({"type": "JOB"}, "opts"),  # type: ignore[arg-type]
        TypeError,
        "options must be a mapping or None, got str",
    ),
    case(
        "reserved-section-event",
        "TEST",
        lambda c: create_event_context({"type": "JOB"}, None, event={}),
        ValueError,
        "a store section cannot be named 'event'",
    ),
    case(
        "reserved-section-options",
        None,
        lambda c: create_event_context({"type": "JOB"}, None, options={}),
        ValueError,
        "a store section cannot be named 'options'",
    ),
    # -- runners
    case(
        "runner-non-callable",
        "TEST",
        lambda c: create_event_context({"type": "JOB"})(42),  # type: ignore[call-overload]
        TypeError,
        "a runner takes a callable handler, got int",
    ),
    case(
        "run-non-callable",
        "TEST",
        lambda c: run(_ctx(c), None),  # type: ignore[call-overload]
        TypeError,
        "a runner takes a callable handler, got NoneType",
    ),
    case(
        "event-runner-non-context",
        None,
        lambda c: EventRunner({"type": "JOB"}),  # type: ignore[arg-type]
        TypeError,
        "EventRunner takes an EventContext",
    ),
    case(
        "run-job-non-callable",
        None,
        lambda c: run_job({"job_id": "j", "input": {}}, 5),  # type: ignore[call-overload]
        TypeError,
        "run_job\\(\\) handler must be callable, got int",
    ),
    case(
        "create-job-context-non-mapping",
        "TEST",
        lambda c: create_job_context("j1"),  # type: ignore[arg-type]
        TypeError,
        "create_job_context\\(\\) data must be a mapping",
    ),
    # -- the store
    case(
        "store-non-dict-section",
        "TEST",
        lambda c: _ctx(c).store("broken"),
        TypeError,
        "store section 'broken' holds a str, not a dict",
    ),
    case(
        "section-value-non-dict",
        "TEST",
        _set_section_value,
        TypeError,
        "store section 'job' must hold a dict, got list",
    ),
    case(
        "store-key-int",
        "TEST",
        lambda c: _ctx(c).store(1),  # type: ignore[arg-type]
        TypeError,
        "store key must be a str, got int",
    ),
    case(
        "store-key-unhashable",
        "TEST",
        lambda c: _ctx(c).store([]),  # type: ignore[arg-type]
        TypeError,
        "store key must be a str, got list",
    ),
    case(
        "set-store-key-int",
        "TEST",
        lambda c: _ctx(c).set_store(1, {}),  # type: ignore[arg-type]
        TypeError,
        "store key must be a str, got int",
    ),
    # -- the JOB composables
    case(
        "unknown-job-status",
        "JOB",
        lambda c: use_job_status().set_status("done"),  # type: ignore[arg-type]
        ValueError,
        "unknown job status 'done'",
    ),
    case(
        "metadata-key-not-str",
        "JOB",
        lambda c: use_job_metadata().set_metadata(1, "x"),  # type: ignore[arg-type]
        TypeError,
        "job metadata key must be a str, got int",
    ),
    case(
        "metadata-value-list",
        "JOB",
        lambda c: use_job_metadata().set_metadata("k", [1]),  # type: ignore[arg-type]
        TypeError,
        "job metadata 'k' must be a str, int or float, got list",
    ),
    case(
        "metadata-value-none",
        "JOB",
        lambda c: use_job_metadata().set_metadata("k", None),  # type: ignore[arg-type]
        TypeError,
        "job metadata 'k' must be a str, int or float, got NoneType",
    ),
    case(
        "job-composable-in-other-event",
        "TEST",
        lambda c: use_job_result(),
        EventTypeMismatchError,
        'Event context type mismatch: expected "JOB", received "TEST"',
    ),
    # -- outside any event
    case(
        "use-event-context-outside",
        None,
        lambda c: use_event_context(),
        NoEventContextError,
        f"{NO_CONTEXT}\\. use_event_context\\(\\) was called outside any event",
    ),
    case("use-event-id-outside", None, lambda c: use_event_id(), NoEventContextError, NO_CONTEXT),
    case(
        "use-event-logger-outside",
        None,
        lambda c: use_event_logger("db"),
        NoEventContextError,
        NO_CONTEXT,
    ),
    case(
        "use-route-params-outside",
        None,
        lambda c: use_route_params(),
        NoEventContextError,
        NO_CONTEXT,
    ),
    case(
        "use-job-status-outside",
        None,
        lambda c: use_job_status(),
        NoEventContextError,
        NO_CONTEXT,
    ),
    case(
        "current-outside",
        None,
        lambda c: current(),
        NoEventContextError,
        f"{NO_CONTEXT}\\. current\\(\\) was called outside any event",
    ),
    case(
        "bind-outside",
        None,
        lambda c: bind(print),
        NoEventContextError,
        f"{NO_CONTEXT}\\. bind\\(\\) was called outside any event",
    ),
    case(
        "snapshot-outside",
        None,
        lambda c: snapshot(),
        NoEventContextError,
        f"{NO_CONTEXT}\\. snapshot\\(\\) was called outside any event",
    ),
    case(
        "bind-non-callable",
        "TEST",
        lambda c: bind(3),  # type: ignore[arg-type]
        TypeError,
        "bind\\(\\) takes a callable, got int",
    ),
    # -- types and the parent chain
    case(
        "type-mismatch",
        "TEST",
        lambda c: use_event_context(["HTTP", "CLI"]),
        EventTypeMismatchError,
        '^Event context type mismatch: expected "HTTP", "CLI", received "TEST"',
    ),
    case(
        "bad-expected-type",
        "TEST",
        lambda c: use_event_context(42),  # type: ignore[arg-type]
        TypeError,
        "expected_type must be a str or an iterable of str, got int",
    ),
    case(
        "bad-expected-type-item",
        "TEST",
        lambda c: use_event_context(["HTTP", None]),  # type: ignore[list-item]
        TypeError,
        "expected_type must contain only str, got NoneType",
    ),
    case(
        "get-parent-at-root",
        "TEST",
        lambda c: _ctx(c).get_parent_ctx(),
        NoParentContextError,
        "^Parent context is not available",
    ),
    case(
        "set-parent-non-context",
        "TEST",
        lambda c: _ctx(c).set_parent_ctx({"type": "HTTP"}),  # type: ignore[arg-type]
        TypeError,
        "parent must be an EventContext or None",
    ),
    case(
        "set-parent-self",
        "TEST",
        lambda c: _ctx(c).set_parent_ctx(_ctx(c)),
        ValueError,
        "would make .* its own ancestor",
    ),
    # -- typed slots and kinds
    case(
        "key-read-before-set",
        "TEST",
        lambda c: _ctx(c).get(USER),
        KeyNotSetError,
        '^Key "user" is not set',
    ),
    case(
        "seed-unknown-key",
        "TEST",
        lambda c: _ctx(c).seed(Http, bogus=1),
        TypeError,
        "Http has no key 'bogus'; its keys are: method, path",
    ),
    case(
        "seed-known-then-unknown-key",
        "TEST",
        lambda c: _ctx(c).seed(Http, method="GET", bogus=1),
        TypeError,
        "Http has no key 'bogus'",
    ),
    case(
        "seed-not-a-kind",
        "TEST",
        lambda c: _ctx(c).seed(dict, a=1),
        TypeError,
        "seed\\(\\) takes an EventKind subclass",
    ),
    case(
        "kind-create-context-unknown-seed",
        None,
        lambda c: Http.create_context(nope=1),
        TypeError,
        "Http has no key 'nope'",
    ),
    # -- a composable of define_wook or cached_by given something else than an event context
    case(
        "wook-ctx-not-a-context",
        "TEST",
        lambda c: _use_greeting(ctx={"type": "TEST"}),  # type: ignore[arg-type]
        TypeError,
        "_greeting\\(\\) takes an EventContext as ctx .* got dict",
    ),
    case(
        "cached-by-ctx-not-a-context",
        "TEST",
        lambda c: _header("accept", "ctx"),  # type: ignore[arg-type]
        TypeError,
        "_header\\(\\) takes an EventContext as ctx .* got str: 'ctx'",
    ),
    # -- the injector registry
    case(
        "replace-injector-non-injector",
        None,
        lambda c: _replace_injector(object()),
        TypeError,
        "replace_context_injector\\(\\) takes a ContextInjector, got object",
    ),
    case(
        "replace-injector-class",
        "TEST",
        lambda c: _replace_injector(ContextInjector),
        TypeError,
        "replace_context_injector\\(\\) takes a ContextInjector, got type",
    ),
]


def _prepared(event_type: str) -> EventRunner[Any, Any]:
    """An event with some state: a job section, an id, and a section holding a non-dict."""
    return create_event_context(
        {"type": event_type, "id": "e-1"},
        {"event_logger": {"name": "bad-input"}},
        job={"status": "running", "metadata": {"n": 1}},
        broken="not a dict",
    )


class TestBadInput:
    def test_table_is_large_enough(self) -> None:
        """The table holds at least 25 cases, each with a distinct id."""
        ids = [param.id for param in CASES]
        assert len(ids) >= 25
        assert len(set(ids)) == len(ids)

    @pytest.mark.parametrize(("where", "action", "exc", "match"), CASES)
    def test_bad_input(
        self,
        where: Optional[str],
        action: Action,
        exc: type[BaseException],
        match: str,
    ) -> None:
        """The bad input raises exc naming the problem; nothing is left active or changed."""
        if where is None:
            assert try_get_current() is None
            with pytest.raises(exc, match=match):
                action(None)
            assert try_get_current() is None
            return
        with _prepared(where) as ctx:
            before = copy.deepcopy(ctx.get_ctx())
            with pytest.raises(exc, match=match):
                action(ctx)
            assert try_get_current() is ctx
            assert ctx.get_ctx() == before
        assert try_get_current() is None

    @pytest.mark.parametrize(
        "exc",
        [NoEventContextError, EventTypeMismatchError, NoParentContextError, KeyNotSetError],
    )
    def test_state_errors_are_event_context_errors(self, exc: type[BaseException]) -> None:
        """Every state error used in the table is an EventContextError (a RuntimeError)."""
        assert issubclass(exc, EventContextError)
        assert issubclass(exc, RuntimeError)
