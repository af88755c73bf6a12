"""StoreSection and StoreHook: SPEC section 1 (the store of the seed's API)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, ClassVar

import pytest

from event_core import EventContext, StoreHook, StoreSection, create_event_context


@pytest.fixture
def ctx() -> Iterator[EventContext[Any, Any]]:
    """An active JOB event."""
    with create_event_context({"type": "JOB"}) as active:
        yield active


class TestValue:
    def test_value_none_before_first_write(self, ctx: EventContext[Any, Any]) -> None:
        """value is None before anything was written to the section."""
        section = ctx.store("job")
        assert section.value is None
        assert "job" not in ctx.get_ctx()

    def test_section_created_on_first_write(self, ctx: EventContext[Any, Any]) -> None:
        """The first set() creates the section dict in the store."""
        section = ctx.store("job")
        section.set("status", "pending")
        assert ctx.get_ctx()["job"] == {"status": "pending"}
        assert section.value is ctx.get_ctx()["job"]

    def test_reads_do_not_create_section(self, ctx: EventContext[Any, Any]) -> None:
        """get, has, entries, delete and hook reads leave the section absent."""
        section = ctx.store("job")
        assert section.get("x") is None
        assert section.has("x") is False
        assert section.entries() == []
        section.delete("x")
        assert section.hook("x").value is None
        assert section.hook("x").is_defined is False
        assert "job" not in ctx.get_ctx()

    def test_value_setter(self, ctx: EventContext[Any, Any]) -> None:
        """Assigning value replaces the section dict in the store."""
        section = ctx.store("job")
        new = {"status": "running"}
        section.value = new
        assert ctx.get_ctx()["job"] is new
        assert section.get("status") == "running"

    def test_value_setter_none_removes(self, ctx: EventContext[Any, Any]) -> None:
        """Assigning None removes the section, so value is None again."""
        section = ctx.store("job")
        section.set("a", 1)
        section.value = None
        assert section.value is None
        assert "job" not in ctx.get_ctx()

    def test_value_setter_rejects_non_dict(self, ctx: EventContext[Any, Any]) -> None:
        """Assigning a non-dict is a TypeError naming the section; the store is unchanged."""
        section = ctx.store("job")
        section.set("a", 1)
        with pytest.raises(TypeError, match="store section 'job' must hold a dict, got list"):
            section.value = [1]  # type: ignore[assignment]
        assert ctx.get_ctx()["job"] == {"a": 1}

    def test_name(self, ctx: EventContext[Any, Any]) -> None:
        """name is the section's key in the store."""
        assert ctx.store("job").name == "job"


class TestInit:
    def test_init_calls_factory_once(self, ctx: EventContext[Any, Any]) -> None:
        """init calls factory once, stores and returns its value, then returns the stored one."""
        calls: list[int] = []

        def factory() -> str:
            calls.append(1)
            return "pending"

        section = ctx.store("job")
        assert section.init("status", factory) == "pending"
        assert section.init("status", factory) == "pending"
        assert calls == [1]
        assert section.get("status") == "pending"

    def test_init_existing_key_skips_factory(self, ctx: EventContext[Any, Any]) -> None:
        """init on a present key returns it without calling factory."""
        section = ctx.store("job")
        section.set("status", "running")

        def factory() -> str:
            raise AssertionError("factory must not be called")

        assert section.init("status", factory) == "running"

    def test_init_none_is_a_stored_value(self, ctx: EventContext[Any, Any]) -> None:
        """A stored None is returned by init without calling factory."""
        section = ctx.store("job")
        section.set("result", None)
        assert section.init("result", lambda: "other") is None

    def test_init_on_existing_section_missing_key(self, ctx: EventContext[Any, Any]) -> None:
        """init adds a missing key to an existing section."""
        section = ctx.store("job")
        section.set("a", 1)
        assert section.init("b", lambda: 2) == 2
        assert section.value == {"a": 1, "b": 2}

    @pytest.mark.parametrize("existing", [False, True], ids=["no-section", "section"])
    def test_init_factory_raises_stores_nothing(
        self, ctx: EventContext[Any, Any], existing: bool
    ) -> None:
        """When factory raises, the error propagates and nothing is stored (no section made)."""
        section = ctx.store("job")
        if existing:
            section.set("a", 1)
        err = RuntimeError("factory failed")

        def factory() -> Any:
            raise err

        with pytest.raises(RuntimeError) as info:
            section.init("status", factory)
        assert info.value is err
        assert section.has("status") is False
        assert section.value == ({"a": 1} if existing else None)

    def test_init_after_failure_calls_factory_again(self, ctx: EventContext[Any, Any]) -> None:
        """After a failed init, the next init calls its factory."""
        section = ctx.store("job")
        with pytest.raises(ZeroDivisionError):
            section.init("n", lambda: 1 // 0)
        assert section.init("n", lambda: 5) == 5


class TestGetSetHasDelete:
    def test_get_default(self, ctx: EventContext[Any, Any]) -> None:
        """get returns default for a missing key (None unless given)."""
        section = ctx.store("job")
        section.set("a", 1)
        assert section.get("missing") is None
        assert section.get("missing", 42) == 42
        assert section.get("a", 42) == 1

    def test_set_returns_value(self, ctx: EventContext[Any, Any]) -> None:
        """set stores and returns the value (the same object)."""
        value = {"nested": True}
        assert ctx.store("job").set("v", value) is value
        assert ctx.store("job").get("v") is value

    def test_has_none_is_a_value(self, ctx: EventContext[Any, Any]) -> None:
        """has() is True for a key holding None and False for an absent one."""
        section = ctx.store("job")
        section.set("result", None)
        assert section.has("result") is True
        assert section.has("other") is False

    def test_has_falsy_values(self, ctx: EventContext[Any, Any]) -> None:
        """has() is True for falsy values (0, '', False, [])."""
        section = ctx.store("job")
        for i, value in enumerate([0, "", False, []]):
            section.set(str(i), value)
        assert all(section.has(str(i)) for i in range(4))

    def test_delete(self, ctx: EventContext[Any, Any]) -> None:
        """delete removes the key; deleting an absent key is a no-op."""
        section = ctx.store("job")
        section.set("a", 1)
        section.set("b", 2)
        section.delete("a")
        section.delete("a")
        section.delete("never")
        assert section.value == {"b": 2}

    def test_entries(self, ctx: EventContext[Any, Any]) -> None:
        """entries() is the list of (key, value) pairs in insertion order."""
        section = ctx.store("job")
        section.set("b", 2)
        section.set("a", 1)
        entries = section.entries()
        assert entries == [("b", 2), ("a", 1)]
        assert isinstance(entries, list)

    def test_entries_is_a_copy(self, ctx: EventContext[Any, Any]) -> None:
        """Mutating the list entries() returned does not change the section."""
        section = ctx.store("job")
        section.set("a", 1)
        section.entries().clear()
        assert section.value == {"a": 1}

    def test_clear(self, ctx: EventContext[Any, Any]) -> None:
        """clear() makes the section {} (and creates it if absent)."""
        section = ctx.store("job")
        section.clear()
        assert section.value == {}
        section.set("a", 1)
        section.clear()
        assert section.value == {}
        assert ctx.get_ctx()["job"] == {}

    def test_set_store_replacement_seen(self, ctx: EventContext[Any, Any]) -> None:
        """A section replaced with set_store is what the section object reads next."""
        section = ctx.store("job")
        section.set("a", 1)
        ctx.set_store("job", {"b": 2})
        assert section.entries() == [("b", 2)]

    def test_dict_subclass_section(self, ctx: EventContext[Any, Any]) -> None:
        """A dict subclass stored as a section works with every member."""

        class Sub(dict):  # type: ignore[type-arg]
            pass

        ctx.set_store("job", Sub(a=1))
        section = ctx.store("job")
        assert section.get("a") == 1
        assert section.init("b", lambda: 2) == 2
        assert section.has("b")
        assert section.set("c", 3) == 3
        assert section.entries() == [("a", 1), ("b", 2), ("c", 3)]
        assert isinstance(section.value, Sub)
        section.delete("a")
        section.clear()
        assert section.value == {}


class _RacingStore(dict[Any, Any]):
    """A store where another writer makes the section at the worst moment, as a thread of
    the same event can: ``"read"`` right after the first read that finds no section,
    ``"write"`` right before the write that makes it (setdefault or assignment)."""

    def __init__(self, meanwhile: Callable[[dict[Any, Any]], None], when: str) -> None:
        super().__init__()
        self._meanwhile = meanwhile
        self._when = when
        self.interleaved = False

    def _interleave(self, when: str) -> None:
        if self._when == when and not self.interleaved:
            self.interleaved = True
            self._meanwhile(self)

    def get(self, key: Any, default: Any = None) -> Any:
        found = super().get(key, default)
        if found is None:
            self._interleave("read")
        return found

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self._interleave("write")
        return super().setdefault(key, default)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._interleave("write")
        super().__setitem__(key, value)


def _other_writer(store: dict[Any, Any]) -> None:
    # writes as the other thread would, on the plain dict (no interleaving of its own)
    section = dict.get(store, "job")
    if section is None:
        section = dict.setdefault(store, "job", {})
    section["theirs"] = 1


class TestFirstWriteRace:
    """Two writers making the same section at once share one dict: no entry is lost."""

    @pytest.mark.parametrize("when", ["read", "write"])
    def test_set(self, when: str) -> None:
        """set() on a missing section keeps what another writer stored meanwhile."""
        store = _RacingStore(_other_writer, when)
        StoreSection(store, "job").set("mine", 2)
        assert store.interleaved
        assert dict.get(store, "job") == {"theirs": 1, "mine": 2}

    @pytest.mark.parametrize("when", ["read", "write"])
    def test_init(self, when: str) -> None:
        """init() on a missing section keeps what another writer stored meanwhile."""
        store = _RacingStore(_other_writer, when)
        assert StoreSection(store, "job").init("mine", lambda: 2) == 2
        assert store.interleaved
        assert dict.get(store, "job") == {"theirs": 1, "mine": 2}

    def test_explicit_none_section_is_replaced(self) -> None:
        """A section stored as None counts as absent: the first write replaces it."""
        for write in (lambda s: s.set("k", 1), lambda s: s.init("k", lambda: 1)):
            ctx = create_event_context({"type": "JOB"}, None, job=None).context
            write(ctx.store("job"))
            assert ctx.get_ctx()["job"] == {"k": 1}

    def test_first_hook_calls_share_one_hook(self) -> None:
        """hook() makes its table on first use; racing first calls still get one hook."""
        section = create_event_context({"type": "JOB"}).context.store("job")
        with ThreadPoolExecutor(8) as pool:
            hooks = list(pool.map(lambda _: section.hook("k"), range(64)))
        assert all(hook is hooks[0] for hook in hooks)


class TestNonDictSection:
    OPS: ClassVar[dict[str, Callable[[StoreSection], Any]]] = {
        "value": lambda s: s.value,
        "init": lambda s: s.init("k", lambda: 1),
        "get": lambda s: s.get("k"),
        "set": lambda s: s.set("k", 1),
        "has": lambda s: s.has("k"),
        "delete": lambda s: s.delete("k"),
        "entries": lambda s: s.entries(),
        "clear": lambda s: s.clear(),
        "hook.value": lambda s: s.hook("k").value,
        "hook.is_defined": lambda s: s.hook("k").is_defined,
    }

    def test_store_raises_naming_section(self) -> None:
        """store(name) on a non-dict section is a TypeError naming the section."""
        ctx = create_event_context({"type": "JOB"}, None, job="oops").context
        with pytest.raises(TypeError, match="store section 'job' holds a str, not a dict"):
            ctx.store("job")

    @pytest.mark.parametrize("op", list(OPS))
    def test_each_op_raises_naming_section(self, ctx: EventContext[Any, Any], op: str) -> None:
        """Every op on a section replaced by a non-dict raises a TypeError naming it."""
        section = ctx.store("job")
        ctx.set_store("job", 7)
        with pytest.raises(TypeError, match="store section 'job' holds a int"):
            self.OPS[op](section)
        assert ctx.get_ctx()["job"] == 7

    def test_hook_setter_raises(self, ctx: EventContext[Any, Any]) -> None:
        """Setting a hook's value on a non-dict section is a TypeError naming it."""
        section = ctx.store("job")
        hook = section.hook("k")
        ctx.set_store("job", (1,))
        with pytest.raises(TypeError, match="store section 'job' holds a tuple"):
            hook.value = 1
        assert ctx.get_ctx()["job"] == (1,)

    def test_value_setter_repairs(self, ctx: EventContext[Any, Any]) -> None:
        """Assigning a dict to value replaces a non-dict section."""
        section = ctx.store("job")
        ctx.set_store("job", 7)
        section.value = {"ok": True}
        assert section.get("ok") is True


class TestHook:
    def test_hook_same_object(self, ctx: EventContext[Any, Any]) -> None:
        """hook(key) returns the same StoreHook each time for one key."""
        section = ctx.store("user")
        hook = section.hook("name")
        assert isinstance(hook, StoreHook)
        assert section.hook("name") is hook
        assert ctx.store("user").hook("name") is hook
        assert section.hook("other") is not hook

    def test_hook_value_and_is_defined(self, ctx: EventContext[Any, Any]) -> None:
        """hook.value reads/writes the entry and is_defined tells whether it is present."""
        section = ctx.store("user")
        hook = section.hook("name")
        assert hook.is_defined is False
        assert hook.value is None
        hook.value = "ada"
        assert hook.is_defined is True
        assert hook.value == "ada"
        assert section.get("name") == "ada"
        section.set("name", "bob")
        assert hook.value == "bob"
        section.delete("name")
        assert hook.is_defined is False

    def test_hook_none_is_defined(self, ctx: EventContext[Any, Any]) -> None:
        """A hook set to None is defined."""
        hook = ctx.store("user").hook("name")
        hook.value = None
        assert hook.is_defined is True
        assert hook.value is None


class TestRepr:
    def test_section_repr_states(self, ctx: EventContext[Any, Any]) -> None:
        """StoreSection repr shows empty, the keys, or the wrong type held, and never raises."""
        section = ctx.store("job")
        assert repr(section) == "<StoreSection 'job' (empty)>"
        section.set("a", 1)
        assert repr(section) == "<StoreSection 'job' keys=['a']>"
        ctx.set_store("job", 5)
        assert repr(section) == "<StoreSection 'job' holding int>"

    def test_section_repr_broken(self) -> None:
        """A StoreSection whose store is not a mapping still has a repr."""
        section = StoreSection(None, "job")  # type: ignore[arg-type]
        assert repr(section).startswith("<StoreSection at 0x")

    def test_hook_repr(self, ctx: EventContext[Any, Any]) -> None:
        """StoreHook repr shows the entry or undefined, and '?' on a non-dict section."""
        section = ctx.store("user")
        hook = section.hook("name")
        assert repr(hook) == "<StoreHook 'user'.'name' = undefined>"
        hook.value = "ada"
        assert repr(hook) == "<StoreHook 'user'.'name' = 'ada'>"
        ctx.set_store("user", 1)
        assert repr(hook) == "<StoreHook 'user'.'name' = ?>"
