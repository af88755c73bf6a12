"""The built-in composables: SPEC section 2."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from event_core import (
    EventLogger,
    NoEventContextError,
    RouteParams,
    create_event_context,
    use_event_context,
    use_event_id,
    use_event_logger,
    use_route_params,
)


class TestUseEventId:
    def test_given_id(self) -> None:
        """get_id() returns event["id"] when the event has one."""
        run = create_event_context({"type": "JOB", "id": "job-7"})
        assert run(lambda: use_event_id().get_id()) == "job-7"

    def test_lazy_uuid4(self) -> None:
        """Without event["id"], get_id() returns a uuid4 string."""
        value = create_event_context({"type": "JOB"})(lambda: use_event_id().get_id())
        assert isinstance(value, str)
        assert uuid.UUID(value).version == 4
        assert str(uuid.UUID(value)) == value

    def test_id_none_counts_as_absent(self) -> None:
        """An id given as None is replaced by a lazy uuid4, stable for the event."""
        with create_event_context({"type": "JOB", "id": None}) as ctx:
            value = use_event_id().get_id()
            assert uuid.UUID(value).version == 4
            assert use_event_id().get_id() == value
            assert ctx.event["id"] == value

    def test_non_str_id_returned_as_str(self) -> None:
        """An id of another type (an int) is returned as its str."""
        run = create_event_context({"type": "JOB", "id": 7})
        assert run(lambda: use_event_id().get_id()) == "7"

    def test_lazy_id_is_not_made_before_asked(self) -> None:
        """No id is generated until get_id() is called."""
        with create_event_context({"type": "JOB"}) as ctx:
            use_event_id()
            assert "id" not in ctx.event

    def test_stable_per_event(self) -> None:
        """Repeated calls, and later runs of the same runner, give the same id."""
        run = create_event_context({"type": "JOB"})

        def twice() -> tuple[str, str]:
            return use_event_id().get_id(), use_event_id().get_id()

        first, second = run(twice)
        assert first == second
        assert run(lambda: use_event_id().get_id()) == first

    def test_distinct_per_event(self) -> None:
        """Two events get different ids, a child event too."""
        with create_event_context({"type": "JOB"}):
            parent_id = use_event_id().get_id()
            with create_event_context({"type": "JOB"}):
                child_id = use_event_id().get_id()
        other_id = create_event_context({"type": "JOB"})(lambda: use_event_id().get_id())
        assert len({parent_id, child_id, other_id}) == 3

    def test_outside_event(self) -> None:
        """use_event_id() outside any event raises NoEventContextError."""
        with pytest.raises(NoEventContextError, match="Event context does not exist"):
            use_event_id()

    def test_bound_to_event_where_called(self) -> None:
        """The composable keeps the event it was made in."""
        with create_event_context({"type": "JOB", "id": "outer"}):
            composable = use_event_id()
        assert composable.get_id() == "outer"


@pytest.fixture
def caplog_events(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """caplog capturing DEBUG and up."""
    caplog.set_level(logging.DEBUG)
    return caplog


class TestUseEventLogger:
    def test_returns_logger_adapter(self) -> None:
        """use_event_logger() returns a stdlib LoggerAdapter named event_core.event by default."""
        logger = create_event_context({"type": "JOB"})(use_event_logger)
        assert isinstance(logger, logging.LoggerAdapter)
        assert isinstance(logger, EventLogger)
        assert logger.logger.name == "event_core.event"

    def test_records_carry_event_id_and_type(self, caplog_events: pytest.LogCaptureFixture) -> None:
        """Every record logged through the adapter has event_id and event_type attributes."""
        run = create_event_context({"type": "JOB", "id": "j1"})
        run(lambda: use_event_logger().info("hello %s", "world"))
        records = [r for r in caplog_events.records if r.name == "event_core.event"]
        assert len(records) == 1
        assert records[0].getMessage() == "hello world"
        assert records[0].event_id == "j1"  # type: ignore[attr-defined]
        assert records[0].event_type == "JOB"  # type: ignore[attr-defined]

    def test_lazy_id_in_records(self, caplog_events: pytest.LogCaptureFixture) -> None:
        """Without a given id, records carry the event's lazy id."""
        run = create_event_context({"type": "CLI"})

        def handler() -> str:
            use_event_logger().warning("x")
            return use_event_id().get_id()

        event_id = run(handler)
        (record,) = [r for r in caplog_events.records if r.name == "event_core.event"]
        assert record.event_id == event_id  # type: ignore[attr-defined]
        assert record.event_type == "CLI"  # type: ignore[attr-defined]

    def test_name_from_options(self) -> None:
        """options["event_logger"]["name"] names the logger."""
        run = create_event_context({"type": "JOB"}, {"event_logger": {"name": "svc.jobs"}})
        assert run(lambda: use_event_logger().logger.name) == "svc.jobs"

    def test_options_without_name_use_default(self) -> None:
        """An event_logger option without a name keeps the default name."""
        run = create_event_context({"type": "JOB"}, {"event_logger": {}})
        assert run(lambda: use_event_logger().logger.name) == "event_core.event"

    def test_topic_suffix(self) -> None:
        """A topic adds .<topic> to the default or configured name."""
        default = create_event_context({"type": "JOB"})
        named = create_event_context({"type": "JOB"}, {"event_logger": {"name": "svc"}})
        assert default(lambda: use_event_logger("db").logger.name) == "event_core.event.db"
        assert named(lambda: use_event_logger("db").logger.name) == "svc.db"

    def test_topic_records(self, caplog_events: pytest.LogCaptureFixture) -> None:
        """Records of a topic logger go to the suffixed logger with the event fields."""
        run = create_event_context({"type": "JOB", "id": "j2"})
        run(lambda: use_event_logger("db").error("query failed"))
        (record,) = [r for r in caplog_events.records if r.name == "event_core.event.db"]
        assert record.levelno == logging.ERROR
        assert record.event_id == "j2"  # type: ignore[attr-defined]

    def test_same_adapter_per_event_and_topic(self) -> None:
        """The same adapter is returned per event and topic; other topics/events differ."""
        run = create_event_context({"type": "JOB"})

        def handler() -> tuple[Any, ...]:
            return (
                use_event_logger(),
                use_event_logger(),
                use_event_logger("db"),
                use_event_logger("db"),
            )

        plain, plain2, db, db2 = run(handler)
        assert plain is plain2
        assert db is db2
        assert plain is not db
        assert run(use_event_logger) is plain
        other = create_event_context({"type": "JOB"})(use_event_logger)
        assert other is not plain

    def test_extra_is_merged(self, caplog_events: pytest.LogCaptureFixture) -> None:
        """extra= given to a logging call is merged with the event's fields."""
        run = create_event_context({"type": "JOB", "id": "j3"})
        run(lambda: use_event_logger().info("m", extra={"user": "ada"}))
        (record,) = [r for r in caplog_events.records if r.name == "event_core.event"]
        assert record.user == "ada"  # type: ignore[attr-defined]
        assert record.event_id == "j3"  # type: ignore[attr-defined]
        assert record.event_type == "JOB"  # type: ignore[attr-defined]

    def test_extra_does_not_leak_between_calls(
        self, caplog_events: pytest.LogCaptureFixture
    ) -> None:
        """extra= of one call does not appear on the records of later calls."""
        run = create_event_context({"type": "JOB"})

        def handler() -> None:
            log = use_event_logger()
            log.info("first", extra={"user": "ada"})
            log.info("second")

        run(handler)
        first, second = [r for r in caplog_events.records if r.name == "event_core.event"]
        assert first.user == "ada"  # type: ignore[attr-defined]
        assert not hasattr(second, "user")
        assert second.event_type == "JOB"  # type: ignore[attr-defined]

    def test_child_event_made_first_has_its_own_adapter(self) -> None:
        """A child event that logs before its parent gets an adapter with its own fields."""
        with create_event_context({"type": "HTTP", "id": "p"}):
            with create_event_context({"type": "JOB", "id": "c"}):
                child = use_event_logger()
            parent = use_event_logger()
        assert child is not parent
        assert child.extra == {"event_id": "c", "event_type": "JOB"}
        assert parent.extra == {"event_id": "p", "event_type": "HTTP"}

    def test_child_event_has_its_own_adapter(self, caplog_events: pytest.LogCaptureFixture) -> None:
        """A child event's records carry the child's id and type even if the parent logged."""
        with create_event_context({"type": "HTTP", "id": "p"}):
            parent = use_event_logger()
            with create_event_context({"type": "JOB", "id": "c"}, {"event_logger": {"name": "j"}}):
                child = use_event_logger()
                child.info("in child")
        (record,) = [r for r in caplog_events.records if r.getMessage() == "in child"]
        assert record.event_id == "c"  # type: ignore[attr-defined]
        assert record.event_type == "JOB"  # type: ignore[attr-defined]
        assert record.name == "j"
        assert child is not parent

    def test_bad_topic(self) -> None:
        """A non-str topic is a TypeError naming the topic."""
        run = create_event_context({"type": "JOB"})
        with pytest.raises(TypeError, match="topic must be a str"):
            run(use_event_logger, 5)

    def test_outside_event(self) -> None:
        """use_event_logger() outside any event raises NoEventContextError."""
        with pytest.raises(NoEventContextError):
            use_event_logger()

    def test_repr(self) -> None:
        """The adapter's repr names the logger and the event fields."""
        run = create_event_context({"type": "JOB", "id": "j9"})
        text = repr(run(use_event_logger))
        assert text == "<EventLogger 'event_core.event' event_id='j9' event_type='JOB'>"


class TestUseRouteParams:
    def test_empty_when_none(self) -> None:
        """Without route params, .params is {} and .get() returns None."""
        params = create_event_context({"type": "HTTP"})(use_route_params)
        assert isinstance(params, RouteParams)
        assert params.params == {}
        assert params.get("id") is None

    def test_from_store_key_route_params(self) -> None:
        """Params stored under "route_params" are returned by .params and .get(name)."""
        run = create_event_context({"type": "HTTP"}, route_params={"id": "42", "slug": "x"})
        params = run(use_route_params)
        assert params.params == {"id": "42", "slug": "x"}
        assert params.get("id") == "42"
        assert params.get("missing") is None

    def test_set_by_adapter_during_event(self) -> None:
        """Params an adapter sets with set_store during the event are seen afterwards."""
        run = create_event_context({"type": "HTTP"})

        def handler() -> Any:
            use_event_context().set_store("route_params", {"user": "ada"})
            return use_route_params().get("user")

        assert run(handler) == "ada"

    def test_reprs(self) -> None:
        """The composables' results have informative reprs."""
        run = create_event_context({"type": "HTTP"}, route_params={"id": "1"})
        assert repr(run(use_route_params)) == "RouteParams(params={'id': '1'})"
        assert "EventContext type='HTTP'" in repr(run(use_event_id))

    def test_outside_event(self) -> None:
        """use_route_params() outside any event raises NoEventContextError."""
        with pytest.raises(NoEventContextError):
            use_route_params()
