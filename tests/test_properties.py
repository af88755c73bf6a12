"""Property-based tests: StoreSection and typed keys behave like plain dicts, parents included.

A hypothesis ``RuleBasedStateMachine`` builds a small forest of event contexts (roots, and
children created inside their parent's run, so the parent is picked up from the active
context), and applies random store-section and typed-key operations to random contexts,
each through a runner so that ``use_event_context()``/``current()`` must find the right one.
A plain-dict model predicts every result:

- store sections belong to one event (no parent fallback): ``{section: dict | absent}``;
- typed keys: ``get``/``has`` walk the parent chain, ``set`` writes where the key already
  lives (else locally), ``*_own`` never look at parents;
- a ``cached`` slot is computed where it is first read unless an ancestor already has it.
"""

from __future__ import annotations

from typing import Any, Optional

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from event_core import (
    EventContext,
    Key,
    KeyNotSetError,
    cached,
    create_event_context,
    current,
    run,
    snapshot,
    try_get_current,
    use_event_context,
)

SECTIONS = st.sampled_from(["job", "user"])
NAMES = st.sampled_from(["status", "id", ""])
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.text(max_size=3),
    st.lists(st.integers(0, 2), max_size=2),
)
KEYS: list[Key[Any]] = [Key(f"prop.k{i}") for i in range(2)]
KEY_INDEX = st.integers(0, len(KEYS) - 1)

computed: list[int] = []  # ids of the contexts where `where_computed` ran, in order


@cached
def where_computed(ctx: EventContext[Any, Any]) -> int:
    """A cached slot whose value says in which context it was computed."""
    computed.append(id(ctx))
    return id(ctx)


class Node:
    """One event of the forest, with its model."""

    def __init__(self, ctx: EventContext[Any, Any], parent: Optional[Node]) -> None:
        self.ctx = ctx
        self.parent = parent
        self.sections: dict[str, dict[str, Any]] = {}  # absent section: not in the dict
        self.keys: dict[int, Any] = {}  # key index -> value set in this very context
        self.cached: Optional[int] = None  # where_computed's value, once computed here

    def chain(self) -> list[Node]:
        """This node and its ancestors, nearest first."""
        node: Optional[Node] = self
        nodes = []
        while node is not None:
            nodes.append(node)
            node = node.parent
        return nodes

    def __repr__(self) -> str:
        return f"Node({self.ctx.type})"


def in_event(node: Node, fn: Any) -> Any:
    """Run ``fn()`` inside nested runs of ``node``'s chain, root first, ``node`` innermost.

    Each level checks that its own event is active when it starts and again once the
    nested run has returned; ``fn`` checks that ``node`` is the active event.
    """
    chain = list(reversed(node.chain()))

    def level(depth: int) -> Any:
        assert current() is chain[depth].ctx
        if depth == len(chain) - 1:
            assert use_event_context() is node.ctx
            return fn()
        result = run(chain[depth + 1].ctx, level, depth + 1)
        assert current() is chain[depth].ctx
        return result

    result = run(chain[0].ctx, level, 0)
    assert try_get_current() is None
    return result


class EventStoreMachine(RuleBasedStateMachine):
    """Store sections and typed keys of a forest of events against a dict model."""

    nodes = Bundle("nodes")

    def __init__(self) -> None:
        super().__init__()
        self.all_nodes: list[Node] = []
        computed.clear()

    # -- building the forest ---------------------------------------------------------------

    @initialize(target=nodes)
    def first_family(self) -> Any:
        """Start with a root and a child of it, so that parent fallbacks are tried early."""
        root = self.new_root()
        return multiple(root, self.new_child(root, with_block=False))

    @rule(target=nodes)
    def new_root(self) -> Node:
        ctx = create_event_context({"type": f"E{len(self.all_nodes)}"}).context
        assert ctx.parent is None
        node = Node(ctx, None)
        self.all_nodes.append(node)
        return node

    @rule(target=nodes, parent=nodes, with_block=st.booleans())
    def new_child(self, parent: Node, with_block: bool) -> Node:
        """A child event created inside the parent's run picks the parent up by itself."""
        event = {"type": f"E{len(self.all_nodes)}"}
        if with_block:
            with run(parent.ctx, snapshot):  # the parent's run entered as a with block
                child = create_event_context(event)
        else:
            child = run(parent.ctx, create_event_context, event)
        assert child.context.parent is parent.ctx
        node = Node(child.context, parent)
        self.all_nodes.append(node)
        return node

    @precondition(lambda self: len(self.all_nodes) > 1)
    @rule(node=nodes, new_parent=st.one_of(st.none(), nodes))
    def reparent(self, node: Node, new_parent: Optional[Node]) -> None:
        """set_parent_ctx refuses cycles and otherwise rewires the chain."""
        if new_parent is not None and node in new_parent.chain():
            with pytest.raises(ValueError, match="own ancestor"):
                node.ctx.set_parent_ctx(new_parent.ctx)
            return
        node.ctx.set_parent_ctx(None if new_parent is None else new_parent.ctx)
        node.parent = new_parent
        assert node.ctx.parent is (None if new_parent is None else new_parent.ctx)

    # -- store sections --------------------------------------------------------------------

    @rule(node=nodes, section=SECTIONS, name=NAMES, value=VALUES)
    def section_init(self, node: Node, section: str, name: str, value: Any) -> None:
        calls: list[int] = []

        def factory() -> Any:
            calls.append(1)
            return value

        got = in_event(node, lambda: use_event_context().store(section).init(name, factory))
        model = node.sections.setdefault(section, {})
        expected_calls = 0 if name in model else 1
        expected = model.setdefault(name, value)
        assert got == expected
        assert len(calls) == expected_calls

    @rule(node=nodes, section=SECTIONS, name=NAMES, value=VALUES)
    def section_set(self, node: Node, section: str, name: str, value: Any) -> None:
        got = in_event(node, lambda: current().store(section).set(name, value))
        assert got is value
        node.sections.setdefault(section, {})[name] = value

    @rule(node=nodes, section=SECTIONS, name=NAMES)
    def section_get(self, node: Node, section: str, name: str) -> None:
        default = object()
        got = node.ctx.store(section).get(name, default)
        assert got is node.sections.get(section, {}).get(name, default)
        assert node.ctx.store(section).get(name) == node.sections.get(section, {}).get(name)

    @rule(node=nodes, section=SECTIONS, name=NAMES)
    def section_has(self, node: Node, section: str, name: str) -> None:
        assert node.ctx.store(section).has(name) is (name in node.sections.get(section, {}))

    @rule(node=nodes, section=SECTIONS, name=NAMES)
    def section_delete(self, node: Node, section: str, name: str) -> None:
        in_event(node, lambda: current().store(section).delete(name))
        if section in node.sections:
            node.sections[section].pop(name, None)

    @rule(node=nodes, section=SECTIONS)
    def section_entries(self, node: Node, section: str) -> None:
        expected = list(node.sections.get(section, {}).items())
        assert node.ctx.store(section).entries() == expected

    @rule(node=nodes, section=SECTIONS)
    def section_clear(self, node: Node, section: str) -> None:
        node.ctx.store(section).clear()
        node.sections[section] = {}

    @rule(node=nodes, section=SECTIONS)
    def section_value(self, node: Node, section: str) -> None:
        value = node.ctx.store(section).value
        assert value == node.sections.get(section)
        assert (value is None) is (section not in node.sections)

    @rule(
        node=nodes,
        section=SECTIONS,
        new=st.one_of(st.none(), st.dictionaries(NAMES, VALUES, max_size=3)),
    )
    def section_assign(self, node: Node, section: str, new: Optional[dict[str, Any]]) -> None:
        node.ctx.store(section).value = None if new is None else dict(new)
        if new is None:
            node.sections.pop(section, None)
        else:
            node.sections[section] = dict(new)

    @rule(node=nodes, section=SECTIONS, name=NAMES, value=VALUES, write=st.booleans())
    def section_hook(self, node: Node, section: str, name: str, value: Any, write: bool) -> None:
        hook = node.ctx.store(section).hook(name)
        assert hook is node.ctx.store(section).hook(name)
        if write:
            hook.value = value
            node.sections.setdefault(section, {})[name] = value
        model = node.sections.get(section, {})
        assert hook.is_defined is (name in model)
        assert hook.value == model.get(name)

    # -- typed keys ------------------------------------------------------------------------

    def owner(self, node: Node, index: int) -> Optional[Node]:
        return next((n for n in node.chain() if index in n.keys), None)

    @rule(node=nodes, index=KEY_INDEX, value=VALUES)
    def key_set(self, node: Node, index: int, value: Any) -> None:
        got = in_event(node, lambda: current().set(KEYS[index], value))
        assert got is value
        owner = self.owner(node, index)
        (owner if owner is not None else node).keys[index] = value

    @rule(node=nodes, index=KEY_INDEX, value=VALUES)
    def key_set_own(self, node: Node, index: int, value: Any) -> None:
        assert node.ctx.set_own(KEYS[index], value) is value
        node.keys[index] = value

    @rule(node=nodes, index=KEY_INDEX)
    def key_get(self, node: Node, index: int) -> None:
        owner = self.owner(node, index)
        if owner is None:
            with pytest.raises(KeyNotSetError, match=f'Key "prop.k{index}" is not set'):
                in_event(node, lambda: current().get(KEYS[index]))
        else:
            assert in_event(node, lambda: current().get(KEYS[index])) == owner.keys[index]

    @rule(node=nodes, index=KEY_INDEX)
    def key_get_own(self, node: Node, index: int) -> None:
        if index in node.keys:
            assert node.ctx.get_own(KEYS[index]) == node.keys[index]
        else:
            with pytest.raises(KeyNotSetError):
                node.ctx.get_own(KEYS[index])

    @rule(node=nodes, index=KEY_INDEX)
    def key_has(self, node: Node, index: int) -> None:
        assert node.ctx.has(KEYS[index]) is (self.owner(node, index) is not None)
        assert node.ctx.has_own(KEYS[index]) is (index in node.keys)

    @rule(node=nodes)
    def cached_get(self, node: Node) -> None:
        """A cached slot is taken from the nearest ancestor that has it, else computed here."""
        holder = next((n for n in node.chain() if n.cached is not None), None)
        before = len(computed)
        got = in_event(node, lambda: current().get(where_computed))
        if holder is None:
            assert computed[before:] == [id(node.ctx)]
            node.cached = id(node.ctx)
            assert got == id(node.ctx)
        else:
            assert computed[before:] == []
            assert got == holder.cached

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def no_event_is_left_active(self) -> None:
        assert try_get_current() is None

    @invariant()
    def every_context_matches_its_model(self) -> None:
        for node in self.all_nodes:
            ctx = node.ctx
            assert ctx.parent is (None if node.parent is None else node.parent.ctx)
            for section in ("job", "user"):
                assert ctx.store(section).value == node.sections.get(section)
            for index, key in enumerate(KEYS):
                assert ctx.has_own(key) is (index in node.keys)
                owner = self.owner(node, index)
                assert ctx.has(key) is (owner is not None)
                if owner is not None:
                    assert ctx.get(key) == owner.keys[index]
            assert ctx.has_own(where_computed) is (node.cached is not None)


class TestEventStoreMachine(EventStoreMachine.TestCase):  # type: ignore[misc,valid-type]
    """Store sections and typed keys of nested, parented events behave like the dict model."""

    settings = settings(max_examples=35, stateful_step_count=20, deadline=None)
