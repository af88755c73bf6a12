"""EventContext and use_event_context: SPEC section 1 (the seed's API)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from event_core import (
    EventContext,
    EventContextError,
    EventTypeMismatchError,
    NoEventContextError,
    NoParentContextError,
    StoreSection,
    create_event_context,
    current,
    try_get_current,
    use_event_context,
)


class TestUseEventContext:
    def test_no_context_raises_no_event_context_error(self) -> None:
        """use_event_context() outside any event raises NoEventContextError with the SPEC text."""
        with pytest.raises(NoEventContextError) as info:
            use_event_context()
        assert str(info.value).startswith("Event context does not exist at this point.")
        assert isinstance(info.value, EventContextError)
        assert isinstance(info.value, RuntimeError)

    def test_no_context_wins_over_expected_type(self) -> None:
        """Outside any event, use_event_context("HTTP") still reports the missing context."""
        with pytest.raises(NoEventContextError, match="use_event_context"):
            use_event_context("HTTP")

    def test_returns_the_active_context(self) -> None:
        """Inside a runner, use_event_context() is the context the runner's `with` yields."""
        with create_event_context({"type": "TEST"}) as ctx:
            assert use_event_context() is ctx
            assert current() is ctx

    def test_expected_type_str_matching(self) -> None:
        """A str expected_type equal to the active type returns the active context."""
        with create_event_context({"type": "HTTP"}) as ctx:
            assert use_event_context("HTTP") is ctx

    def test_expected_type_iterable_matching(self) -> None:
        """An iterable of str accepts the active context when any of its types matches."""
        with create_event_context({"type": "CLI"}) as ctx:
            assert use_event_context(["HTTP", "CLI"]) is ctx
            assert use_event_context(("CLI",)) is ctx
            assert use_event_context({"CLI", "JOB"}) is ctx

    def test_expected_type_generator_matching(self) -> None:
        """A one-shot iterator of str is accepted like a list."""
        with create_event_context({"type": "CLI"}) as ctx:
            assert use_event_context(t for t in ["HTTP", "CLI"]) is ctx

    def test_ancestor_lookup_by_type(self) -> None:
        """On a type mismatch, the nearest ancestor of the expected type is returned."""
        # each runner is created (so gets its parent) after the previous one is entered
        with (
            create_event_context({"type": "HTTP"}) as http,
            create_event_context({"type": "JOB"}) as job,
            create_event_context({"type": "TEST"}) as test,
        ):
            assert use_event_context("HTTP") is http
            assert use_event_context("JOB") is job
            assert use_event_context(["JOB", "HTTP"]) is job
            assert use_event_context("TEST") is test

    def test_nearest_ancestor_wins(self) -> None:
        """With two ancestors of the same type, the closer one is returned."""
        with (
            create_event_context({"type": "HTTP", "n": 1}),
            create_event_context({"type": "HTTP", "n": 2}) as inner,
            create_event_context({"type": "TEST"}),
        ):
            assert use_event_context("HTTP") is inner
            assert use_event_context("HTTP").event["n"] == 2

    def test_mismatch_message_single_type(self) -> None:
        """The mismatch message quotes the expected and received types as in SPEC."""
        with create_event_context({"type": "TEST"}), pytest.raises(EventTypeMismatchError) as info:
            use_event_context("HTTP")
        assert str(info.value).startswith(
            'Event context type mismatch: expected "HTTP", received "TEST"'
        )

    def test_mismatch_message_several_types(self) -> None:
        """Several expected types are listed comma-separated, each quoted, in the given order."""
        with create_event_context({"type": "TEST"}), pytest.raises(EventTypeMismatchError) as info:
            use_event_context(["HTTP", "CLI"])
        assert str(info.value).startswith(
            'Event context type mismatch: expected "HTTP", "CLI", received "TEST"'
        )
        assert isinstance(info.value, EventContextError)

    def test_mismatch_message_generator(self) -> None:
        """A generator of expected types is listed in the mismatch message too."""
        with create_event_context({"type": "TEST"}), pytest.raises(EventTypeMismatchError) as info:
            use_event_context(t for t in ["HTTP", "CLI"])
        assert str(info.value).startswith(
            'Event context type mismatch: expected "HTTP", "CLI", received "TEST"'
        )

    def test_mismatch_names_the_active_type_not_the_ancestors(self) -> None:
        """When no ancestor matches either, the message reports the active event's type."""
        with (
            create_event_context({"type": "HTTP"}),
            create_event_context({"type": "JOB"}),
            pytest.raises(EventTypeMismatchError, match='received "JOB"'),
        ):
            use_event_context("CLI")

    @pytest.mark.parametrize(
        "bad",
        [
            pytest.param(5, id="int"),
            pytest.param(3.5, id="float"),
            pytest.param(object(), id="obj"),
        ],
    )
    def test_invalid_expected_type(self, bad: Any) -> None:
        """An expected_type that is neither str nor iterable is a TypeError naming it."""
        with create_event_context({"type": "TEST"}), pytest.raises(TypeError) as info:
            use_event_context(bad)
        assert "expected_type" in str(info.value)

    def test_iterable_with_non_str_item(self) -> None:
        """An iterable holding a non-str is a TypeError naming expected_type."""
        with (
            create_event_context({"type": "TEST"}),
            pytest.raises(TypeError, match="expected_type must contain only str"),
        ):
            use_event_context(["HTTP", 7])  # type: ignore[list-item]


class TestMembers:
    def test_shortcuts(self) -> None:
        """type, event and options are shortcuts into the store."""
        options = {"event_logger": {"name": "svc"}}
        with create_event_context({"type": "JOB", "job_id": "j1"}, options) as ctx:
            assert ctx.type == "JOB"
            assert ctx.event == {"type": "JOB", "job_id": "j1"}
            assert ctx.event is ctx.get_ctx()["event"]
            assert ctx.options is options
            assert ctx.options is ctx.get_ctx()["options"]

    def test_default_options_is_empty_dict(self) -> None:
        """Without options, ctx.options is {}."""
        with create_event_context({"type": "JOB"}) as ctx:
            assert ctx.options == {}
            assert ctx.get_ctx()["options"] == {}

    def test_get_ctx_holds_event_options_and_sections(self) -> None:
        """get_ctx() is a dict with "event", "options" and every section."""
        run = create_event_context({"type": "JOB"}, {}, job={"status": "pending"})
        with run as ctx:
            ctx.store("extra").set("a", 1)
            store = ctx.get_ctx()
            assert type(store) is dict
            assert store == {
                "event": {"type": "JOB"},
                "options": {},
                "job": {"status": "pending"},
                "extra": {"a": 1},
            }

    def test_get_ctx_is_the_live_store(self) -> None:
        """get_ctx() returns the same dict each time, so writes through it are visible."""
        with create_event_context({"type": "JOB"}) as ctx:
            ctx.get_ctx()["section"] = {"k": "v"}
            assert ctx.get_ctx() is ctx.get_ctx()
            assert ctx.store("section").get("k") == "v"

    def test_get_store_and_set_store(self) -> None:
        """get_store/set_store read and replace top-level store entries."""
        with create_event_context({"type": "JOB"}) as ctx:
            assert ctx.get_store("missing") is None
            assert ctx.get_store("missing", "dflt") == "dflt"
            ctx.set_store("user", {"name": "ada"})
            assert ctx.get_store("user") == {"name": "ada"}
            assert ctx.store("user").get("name") == "ada"
            assert ctx.get_store("event") == {"type": "JOB"}

    def test_set_store_replaces_a_section_seen_by_existing_section_object(self) -> None:
        """A StoreSection sees a section replaced by set_store at once."""
        with create_event_context({"type": "JOB"}) as ctx:
            section = ctx.store("user")
            section.set("name", "ada")
            ctx.set_store("user", {"name": "bob"})
            assert section.get("name") == "bob"

    def test_set_store_rejects_non_str_key(self) -> None:
        """set_store with a non-str key is a TypeError naming the store key."""
        with create_event_context({"type": "JOB"}) as ctx:
            before = dict(ctx.get_ctx())
            with pytest.raises(TypeError, match="store key must be a str"):
                ctx.set_store(1, "x")  # type: ignore[arg-type]
            assert ctx.get_ctx() == before

    def test_store_returns_same_section_object(self) -> None:
        """store(key) returns the same StoreSection each time within one event."""
        with create_event_context({"type": "JOB"}) as ctx:
            section = ctx.store("job")
            assert isinstance(section, StoreSection)
            assert ctx.store("job") is section
            assert ctx.store("other") is not section

    def test_store_sections_are_per_event(self) -> None:
        """Two events have distinct StoreSections and distinct data for the same key."""
        with create_event_context({"type": "JOB"}) as a:
            a.store("job").set("n", 1)
        with create_event_context({"type": "JOB"}) as b:
            assert b.store("job") is not a.store("job")
            assert b.store("job").get("n") is None
        assert a.store("job").get("n") == 1

    def test_store_rejects_non_str_key(self) -> None:
        """store() with a non-str key is a TypeError naming the store key."""
        ctx = create_event_context({"type": "JOB"}).context
        with pytest.raises(TypeError, match="store key must be a str, got int"):
            ctx.store(3)  # type: ignore[arg-type]

    def test_store_on_non_dict_section_names_it(self) -> None:
        """store() on a section holding a non-dict is a TypeError naming the section."""
        ctx = create_event_context({"type": "JOB"}, None, job=[1, 2]).context
        with pytest.raises(TypeError, match="store section 'job' holds a list"):
            ctx.store("job")

    def test_store_of_dict_subclass_is_accepted(self) -> None:
        """A dict subclass is a valid section."""

        class Sub(dict):  # type: ignore[type-arg]
            pass

        with create_event_context({"type": "JOB"}, None, job=Sub(a=1)) as ctx:
            assert ctx.store("job").get("a") == 1


class TestEventCopy:
    def test_event_is_a_copy(self) -> None:
        """The context's event is a new dict, equal to the caller's mapping."""
        event = {"type": "JOB", "job_id": "j1"}
        with create_event_context(event) as ctx:
            assert ctx.event == event
            assert ctx.event is not event

    def test_callers_mapping_never_mutated(self) -> None:
        """Writes to the context's event (and the lazy event id) never reach the caller's dict."""
        from event_core import use_event_id

        event = {"type": "JOB", "job_id": "j1"}
        snapshot = dict(event)
        with create_event_context(event) as ctx:
            ctx.event["added"] = True
            use_event_id().get_id()
            ctx.store("event").set("other", 1)
        assert event == snapshot

    def test_later_changes_to_callers_mapping_not_seen(self) -> None:
        """Mutating the caller's mapping after creation does not change the event."""
        event = {"type": "JOB", "job_id": "j1"}
        run = create_event_context(event)
        event["job_id"] = "changed"
        with run as ctx:
            assert ctx.event["job_id"] == "j1"

    def test_any_mapping_is_accepted_and_copied_to_dict(self) -> None:
        """A non-dict Mapping (MappingProxyType) is accepted and the event is a plain dict."""
        from types import MappingProxyType

        with create_event_context(MappingProxyType({"type": "JOB", "x": 1})) as ctx:
            assert type(ctx.event) is dict
            assert ctx.event == {"type": "JOB", "x": 1}


class TestParentChain:
    def test_root_has_no_parent(self) -> None:
        """A context created outside any event has no parent."""
        with create_event_context({"type": "ROOT"}) as ctx:
            assert ctx.parent is None
            assert ctx.has_parent_ctx() is False

    def test_get_parent_ctx_at_root_raises(self) -> None:
        """get_parent_ctx() on a root raises NoParentContextError with the SPEC text."""
        ctx = create_event_context({"type": "ROOT"}).context
        with pytest.raises(NoParentContextError) as info:
            ctx.get_parent_ctx()
        assert str(info.value).startswith("Parent context is not available")
        assert isinstance(info.value, EventContextError)

    def test_parent_from_active_context(self) -> None:
        """A context created inside another has it as parent."""
        with create_event_context({"type": "OUTER"}) as outer:
            inner_run = create_event_context({"type": "INNER"})
        with inner_run as inner:
            assert inner.parent is outer
            assert inner.has_parent_ctx() is True
            assert inner.get_parent_ctx() is outer

    def test_set_parent_ctx(self) -> None:
        """set_parent_ctx attaches a parent, visible in parent, has_/get_parent_ctx."""
        a = EventContext({"type": "A"})
        b = EventContext({"type": "B"})
        b.set_parent_ctx(a)
        assert b.parent is a
        assert b.has_parent_ctx()
        assert b.get_parent_ctx() is a

    def test_set_parent_ctx_none_detaches(self) -> None:
        """set_parent_ctx(None) makes the context a root again."""
        a = EventContext({"type": "A"})
        b = EventContext({"type": "B"}, parent=a)
        b.set_parent_ctx(None)
        assert b.parent is None
        assert not b.has_parent_ctx()

    def test_set_parent_ctx_refuses_self(self) -> None:
        """A context cannot be its own parent."""
        a = EventContext({"type": "A"})
        with pytest.raises(ValueError, match="its own ancestor"):
            a.set_parent_ctx(a)
        assert a.parent is None

    def test_set_parent_ctx_refuses_cycle(self) -> None:
        """A parent whose chain contains the context is refused and the chain is unchanged."""
        a = EventContext({"type": "A"})
        b = EventContext({"type": "B"}, parent=a)
        c = EventContext({"type": "C"}, parent=b)
        with pytest.raises(ValueError, match="set_parent_ctx"):
            a.set_parent_ctx(c)
        assert a.parent is None
        assert c.parent is b

    def test_set_parent_ctx_rejects_non_context(self) -> None:
        """A non-EventContext parent is a TypeError naming parent."""
        a = EventContext({"type": "A"})
        with pytest.raises(TypeError, match="parent must be an EventContext"):
            a.set_parent_ctx({"type": "B"})  # type: ignore[arg-type]
        assert a.parent is None

    def test_constructor_rejects_non_context_parent(self) -> None:
        """EventContext(..., parent=x) with a non-context x is a TypeError."""
        with pytest.raises(TypeError, match="parent must be an EventContext"):
            EventContext({"type": "A"}, parent="nope")  # type: ignore[arg-type]

    def test_set_parent_changes_ancestor_lookup(self) -> None:
        """use_event_context(type) follows a parent set by set_parent_ctx."""
        http = EventContext({"type": "HTTP"})
        with create_event_context({"type": "JOB"}) as job:
            job.set_parent_ctx(http)
            assert use_event_context("HTTP") is http

    def test_find(self) -> None:
        """find() returns this context or the nearest ancestor of the type, else None."""
        a = EventContext({"type": "A"})
        b = EventContext({"type": "B"}, parent=a)
        assert b.find("B") is b
        assert b.find("A") is a
        assert b.find(["X", "A"]) is a
        assert b.find("X") is None


class TestRepr:
    def test_repr_shows_type_and_sections(self) -> None:
        """repr names the class, the type, the store sections and the parent's type."""
        with create_event_context({"type": "OUTER"}):
            run = create_event_context({"type": "JOB"}, None, job={})
        text = repr(run.context)
        assert text.startswith("<EventContext type='JOB'")
        assert "'job'" in text
        assert "parent='OUTER'" in text

    def test_repr_of_broken_subclass_does_not_raise(self) -> None:
        """A subclass that never ran EventContext.__init__ still has a repr."""

        class Broken(EventContext):  # type: ignore[type-arg]
            __slots__ = ()

            def __init__(self) -> None:
                pass

        text = repr(Broken())
        assert text.startswith("<Broken at 0x")

    def test_repr_with_unreprable_store_key(self) -> None:
        """A store holding a non-str key whose repr raises still gives a repr."""

        class Weird:
            def __repr__(self) -> str:
                raise RuntimeError("boom")

        ctx = EventContext({"type": "JOB"})
        ctx.get_ctx()[Weird()] = 1
        text = repr(ctx)
        assert "JOB" in text
        assert "slots=1" in text

    def test_repr_with_broken_parent(self) -> None:
        """A parent whose state is broken does not make repr raise."""

        class Broken(EventContext):  # type: ignore[type-arg]
            __slots__ = ()

            def __init__(self) -> None:
                pass

        ctx = EventContext({"type": "JOB"})
        ctx._parent = Broken()  # broken on purpose: no _type
        assert re.match(r"<EventContext at 0x[0-9a-f]+>", repr(ctx))


class TestPublicNames:
    def test_event_options_typed_dicts(self) -> None:
        """EventOptions and EventLoggerOptions are TypedDicts (options["event_logger"]["name"])."""
        from typing_extensions import is_typeddict

        from event_core import EventLoggerOptions, EventOptions

        assert is_typeddict(EventOptions)
        assert is_typeddict(EventLoggerOptions)
        assert "event_logger" in EventOptions.__annotations__
        assert "name" in EventLoggerOptions.__annotations__

    def test_public_classes_show_the_package(self) -> None:
        """Public classes present themselves as event_core.X, not the private module."""
        assert EventContext.__module__ == "event_core"
        assert StoreSection.__module__ == "event_core"
        assert NoEventContextError.__module__ == "event_core"


class TestNoLeak:
    def test_no_context_after_with(self) -> None:
        """After the with block nothing is active."""
        with create_event_context({"type": "JOB"}):
            assert try_get_current() is not None
        assert try_get_current() is None
