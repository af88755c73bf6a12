"""Event kinds (SPEC section 5): annotated ``Key[...]`` attributes become the event's keys."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

import event_core
import event_core as ec
from event_core import (
    EventContext,
    EventKind,
    EventRunner,
    Key,
    KeyNotSetError,
    create_event_context,
    current,
    run,
    try_get_current,
)

SlotKey = Key  # an alias: recognised by evaluating the annotation


class Http(EventKind, name="http"):
    method: Key[str]
    path: Key[str]
    status: Key[int]


class TestKeys:
    def test_annotated_keys_become_keys_named_kind_dot_attr(self) -> None:
        """Each `attr: Key[T]` becomes a Key named "<kind>.<attr>" on the class."""
        assert isinstance(Http.method, Key)
        assert Http.method.name == "http.method"
        assert Http.status.name == "http.status"
        assert repr(Http.path) == "Key('http.path')"

    def test_keys_are_listed_in_event_keys(self) -> None:
        """__event_keys__ maps attribute names to the kind's keys, in declaration order."""
        assert list(Http.__event_keys__) == ["method", "path", "status"]
        assert Http.__event_keys__["method"] is Http.method

    def test_kind_name_is_the_event_type(self) -> None:
        """The name= class argument is the event type."""
        assert Http.__event_type__ == "http"

    def test_name_defaults_to_the_class_name(self) -> None:
        """Without name=, a direct subclass of EventKind is named after the class."""

        class Cli(EventKind):
            argv: Key[list[str]]

        assert Cli.__event_type__ == "Cli"
        assert Cli.argv.name == "Cli.argv"

    def test_each_kind_has_its_own_keys(self) -> None:
        """Two kinds with the same attribute name have different keys."""

        class Ws(EventKind, name="ws"):
            path: Key[str]

        assert Ws.path is not Http.path
        assert Ws.path.name == "ws.path"

    @pytest.mark.parametrize("name", ["", 42])
    def test_bad_name_raises_type_error(self, name: Any) -> None:
        """A name that is not a non-empty str is a TypeError naming it."""
        with pytest.raises(TypeError, match="name"):

            class Bad(EventKind, name=name):
                x: Key[int]

    def test_kind_cannot_be_instantiated(self) -> None:
        """An event kind is a namespace: instantiating it is a TypeError naming create_context."""
        with pytest.raises(TypeError, match=r"Http\.create_context"):
            Http()


class TestAnnotations:
    def test_non_key_annotations_are_ignored(self) -> None:
        """Annotations other than Key[...] stay plain class attributes and are not keys."""

        class Job(EventKind, name="job"):
            job_id: Key[str]
            retries: int = 3
            label: ClassVar[str] = "a job"
            tags: dict[str, str]

        assert list(Job.__event_keys__) == ["job_id"]
        assert Job.retries == 3
        assert Job.label == "a job"
        assert not hasattr(Job, "tags")
        with pytest.raises(TypeError, match="retries"):
            Job.create_context(retries=4)

    def test_qualified_and_aliased_key_annotations(self) -> None:
        """`event_core.Key[...]`, `ec.Key[...]` and an alias of Key are all recognised."""

        class Mixed(EventKind, name="mixed"):
            a: event_core.Key[int]
            b: ec.Key[str]
            c: SlotKey[bytes]

        assert [key.name for key in Mixed.__event_keys__.values()] == [
            "mixed.a",
            "mixed.b",
            "mixed.c",
        ]

    def test_unresolvable_annotation_is_ignored(self) -> None:
        """An annotation that does not evaluate is not a key and does not break the class."""

        class Later(EventKind, name="later"):
            key: Key[int]
            other: NotDefinedAnywhere  # type: ignore[name-defined] # noqa: F821

        assert list(Later.__event_keys__) == ["key"]

    def test_evaluated_annotations(self) -> None:
        """Annotations that are objects (no `from __future__ import annotations`) work too."""
        namespace: dict[str, Any] = {}
        exec(
            "from event_core import EventKind, Key\n"
            "class Cli(EventKind, name='cli'):\n"
            "    argv: Key[list]\n"
            "    verbose: bool\n",
            namespace,
        )
        cli = namespace["Cli"]
        assert list(cli.__event_keys__) == ["argv"]
        assert cli.argv.name == "cli.argv"


class TestInheritance:
    def test_subclass_inherits_the_keys(self) -> None:
        """A kind derived from another has the parent's keys (the same Key objects) and its own."""

        class Https(Http, name="https"):
            tls_version: Key[str]

        assert Https.method is Http.method
        assert list(Https.__event_keys__) == ["method", "path", "status", "tls_version"]
        assert Https.tls_version.name == "https.tls_version"
        assert "tls_version" not in Http.__event_keys__

    def test_subclass_seeds_inherited_and_own_keys(self) -> None:
        """create_context of the subclass seeds both the inherited and the new keys."""

        class Https(Http, name="https"):
            tls_version: Key[str]

        runner = Https.create_context(method="GET", tls_version="1.3")

        def read() -> tuple:
            ctx = current()
            return ctx.type, ctx.get(Http.method), ctx.get(Https.tls_version)

        assert runner(read) == ("https", "GET", "1.3")

    def test_multiple_inheritance_merges_the_keys(self) -> None:
        """A kind derived from two kinds has the keys of both."""

        class Traced(EventKind, name="traced"):
            trace_id: Key[str]

        class TracedHttp(Http, Traced, name="traced_http"):
            span: Key[int]

        assert list(TracedHttp.__event_keys__) == ["trace_id", "method", "path", "status", "span"]
        ctx = TracedHttp.create_context(trace_id="t1", method="GET").context
        assert (ctx.get(Traced.trace_id), ctx.get(Http.method)) == ("t1", "GET")

    def test_subclass_without_name_keeps_the_parent_type(self) -> None:
        """A subclass without name= keeps the event type of the kind it derives from."""

        class MoreHttp(Http):
            body: Key[bytes]

        assert MoreHttp.__event_type__ == "http"
        assert MoreHttp.body.name == "http.body"


class TestCreateContext:
    def test_returns_a_runner_of_the_kind(self) -> None:
        """create_context returns an EventRunner whose event type is the kind's name."""
        runner = Http.create_context(method="GET")
        assert isinstance(runner, EventRunner)
        assert runner.context.type == "http"
        assert runner.context.event == {"type": "http"}

    def test_keys_are_seeded(self) -> None:
        """The seeds are the values of the keys inside the event."""
        runner = Http.create_context(method="GET", path="/", status=0)

        def read() -> tuple:
            ctx = current()
            return ctx.get(Http.method), ctx.get(Http.path), ctx.get(Http.status)

        assert runner(read) == ("GET", "/", 0)

    def test_unseeded_keys_are_not_set(self) -> None:
        """A key that was not seeded is not set."""
        ctx = Http.create_context(method="GET").context
        assert ctx.has(Http.path) is False
        with pytest.raises(KeyNotSetError, match=r'Key "http\.path" is not set'):
            ctx.get(Http.path)

    def test_none_is_a_seed_value(self) -> None:
        """A None seed is stored as a value."""
        ctx = Http.create_context(path=None).context
        assert ctx.has(Http.path) is True
        assert ctx.get(Http.path) is None

    def test_unknown_seed_raises_type_error_naming_it(self) -> None:
        """A seed that is not a key of the kind raises TypeError naming it and the kind's keys."""
        with pytest.raises(TypeError, match="'methd'") as info:
            Http.create_context(methd="GET")
        assert "Http" in str(info.value)
        assert "method" in str(info.value)

    def test_options_are_positional(self) -> None:
        """The options mapping is the one positional argument."""
        ctx = Http.create_context({"event_logger": {"name": "http"}}, method="GET").context
        assert ctx.options == {"event_logger": {"name": "http"}}
        assert ctx.get(Http.method) == "GET"

    def test_created_inside_an_event_has_it_as_parent(self) -> None:
        """A kind's context created inside another event has that event as parent."""
        outer = create_event_context({"type": "JOB"})
        inner = outer(Http.create_context, method="GET")
        assert inner.context.parent is outer.context

    def test_each_call_is_a_new_event(self) -> None:
        """Two calls make two independent contexts."""
        one = Http.create_context(method="GET").context
        two = Http.create_context(method="POST").context
        assert (one.get(Http.method), two.get(Http.method)) == ("GET", "POST")
        assert one is not two

    def test_runner_activates_the_context(self) -> None:
        """`with` the runner makes the kind's context current, then restores none."""
        with Http.create_context(method="GET") as ctx:
            assert current() is ctx
        assert try_get_current() is None


class TestSeed:
    def test_seed_sets_keys_on_an_existing_context(self) -> None:
        """ctx.seed(Http, method="GET") sets the kind's keys on any context."""
        ctx = create_event_context({"type": "HTTP"}).context
        ctx.seed(Http, method="GET", status=200)
        assert ctx.get(Http.method) == "GET"
        assert ctx.get(Http.status) == 200

    def test_seed_writes_locally(self) -> None:
        """seed() stores in the context it is called on, not in a parent holding the key."""
        parent = Http.create_context(method="GET").context
        child = run(parent, create_event_context, {"type": "STEP"}).context
        child.seed(Http, method="POST")
        assert child.get(Http.method) == "POST"
        assert parent.get(Http.method) == "GET"

    def test_seed_unknown_name_raises_type_error(self) -> None:
        """seed() with a name that is not a key of the kind raises TypeError naming it."""
        ctx = EventContext({"type": "HTTP"})
        with pytest.raises(TypeError, match="'verb'"):
            ctx.seed(Http, verb="GET")
        assert ctx.has(Http.method) is False

    def test_seed_requires_an_event_kind(self) -> None:
        """seed() of a class that is not an event kind raises TypeError naming it."""
        with pytest.raises(TypeError, match="dict"):
            EventContext({"type": "HTTP"}).seed(dict, method="GET")

    def test_seeded_value_is_overwritten_by_set(self) -> None:
        """A seeded key is an ordinary Key: set() replaces its value."""
        ctx = Http.create_context(status=200).context
        ctx.set(Http.status, 404)
        assert ctx.get(Http.status) == 404
