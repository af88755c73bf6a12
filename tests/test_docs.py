"""Every ```python block of README.md and docs/**/*.md runs, so no example can rot.

A small runner rather than a plugin: one test per Markdown file, found at collection time
(a page added to docs/ later is picked up with no change here). The file's Python blocks run
top to bottom in one fresh module namespace (``__name__`` is not ``"__main__"``), inside a
copy of the current ``contextvars.Context``; a failure names the file and the line of the
block, and the traceback points into the Markdown file itself.

Which blocks run:
- a fence whose info string starts with ``python`` (```` ```python ````,
  ```` ```python title="job.py" ````, ```` ```{.python} ````) or is ``py``;
- not ```` ```pycon ````, ```` ```text ````, ```` ```bash ```` or any other language;
- a Python block whose nearest non-blank line before the fence is ``<!-- not-run -->`` is
  skipped but counted: at most 10% of the Python blocks may be skipped;
- a fence with no language at all is an error: say ``text`` (or ``python``) explicitly.

After each file: no event context may be left active, and the context injector is reset.
"""

from __future__ import annotations

import contextvars
import re
import sys
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

import event_core
from event_core import reset_context_injector, try_get_current

ROOT = Path(__file__).resolve().parent.parent
NOT_RUN = "<!-- not-run -->"
# Raise these as pages are added; they only guard against examples silently vanishing.
MIN_EXECUTED_BLOCKS = 80
MAX_NOT_RUN_SHARE = 0.10

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>.*?)[ \t]*$")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown file."""

    path: Path
    line: int  # 1-based line number of the opening fence
    info: str  # the info string after the fence, e.g. 'python title="job.py"'
    code: str  # the block's text, dedented by the fence's indentation
    not_run: bool  # preceded by <!-- not-run -->

    @property
    def language(self) -> str:
        first = self.info.split()[0] if self.info.split() else ""
        return first.strip("{}").lstrip(".").lower()

    @property
    def is_python(self) -> bool:
        return self.language.startswith("python") or self.language == "py"

    @property
    def executed(self) -> bool:
        return self.is_python and not self.not_run


def _dedent(line: str, indent: int) -> str:
    """Remove up to ``indent`` leading whitespace characters (the fence's indentation)."""
    stripped = 0
    while stripped < indent and stripped < len(line) and line[stripped] in " \t":
        stripped += 1
    return line[stripped:]


def parse_blocks(text: str, path: Path) -> list[Block]:
    """The fenced code blocks of ``text`` (CommonMark fences: ``` or ~~~, 3 or more)."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None or (match["fence"][0] == "`" and "`" in match["info"]):
            i += 1
            continue
        fence, indent, info = match["fence"], len(match["indent"]), match["info"]
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = i + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        if end == len(lines):
            raise ValueError(f"{_rel(path)}:{i + 1}: the code fence {fence!r} is never closed")
        previous = next((line.strip() for line in reversed(lines[:i]) if line.strip()), "")
        code = "\n".join(_dedent(line, indent) for line in lines[i + 1 : end])
        blocks.append(Block(path, i + 1, info, code + "\n", previous == NOT_RUN))
        i = end + 1
    return blocks


def _rel(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def markdown_files() -> list[Path]:
    """README.md and every docs/**/*.md, found when the tests are collected."""
    files = [ROOT / "README.md"] if (ROOT / "README.md").is_file() else []
    return files + sorted((ROOT / "docs").rglob("*.md"))


def _module_name(path: Path) -> str:
    return "docs_example_" + re.sub(r"\W", "_", _rel(path)).strip("_")


def _open_entries() -> set[object]:
    # The runner registry the pytest plugin uses for its leak check (private, test-only).
    from event_core import _runner

    return set(_runner.open_entries())


def _forget_entries_since(before: set[object]) -> None:
    from event_core import _runner

    _runner.close_entries(entry for entry in _runner.open_entries() if entry not in before)


def _describe(exc: BaseException, path: Path, block: Block, rel: str) -> str:
    """The failure message: file, block line, error, and the traceback inside the page."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != str(path.resolve()):
        tb = tb.tb_next  # drop this runner's own frames
    details = "".join(traceback.format_exception(type(exc), exc, tb))
    return (
        f"{rel}: the python block at line {block.line} failed: "
        f"{type(exc).__name__}: {exc}\n\n{details}"
    )


def run_markdown(path: Path) -> int:
    """Run the Python blocks of ``path`` in one fresh namespace; return how many ran.

    Raises ``pytest.fail`` naming the file and the block's line on the first failure.
    """
    rel = _rel(path)
    name = _module_name(path)
    module = types.ModuleType(name, f"The Python blocks of {rel}")
    # A real, importable module: dataclasses, pickle and `from <name> import *` work.
    sys.modules[name] = module
    context = contextvars.copy_context()
    entries_before = _open_entries()
    executed = 0
    try:
        for block in parse_blocks(path.read_text(encoding="utf-8"), path):
            if not block.executed:
                continue
            # Pad with newlines so line numbers in tracebacks are the Markdown file's own;
            # dont_inherit: this test module's `from __future__` imports must not leak in.
            source = "\n" * block.line + block.code
            failure = None
            try:
                code = compile(source, str(path.resolve()), "exec", dont_inherit=True)
                context.run(exec, code, module.__dict__)
            except (Exception, SystemExit) as exc:
                failure = _describe(exc, path, block, rel)
            if failure is not None:  # outside `except`: no "during handling" noise
                pytest.fail(failure, pytrace=False)
            executed += 1
        leaked = context.run(try_get_current)
        if leaked is not None:
            pytest.fail(
                f"{rel}: an event context is still active after its last python block: "
                f"{leaked!r}; close every `with runner:` in the examples",
                pytrace=False,
            )
    finally:
        _forget_entries_since(entries_before)
        reset_context_injector()
        sys.modules.pop(name, None)
    return executed


# -- the tests --------------------------------------------------------------------------------

FILES = markdown_files()


@pytest.mark.parametrize("path", FILES, ids=[_rel(path) for path in FILES])
def test_python_blocks_run(path: Path) -> None:
    """Every python block of the file runs, top to bottom, and leaves no event active."""
    blocks = parse_blocks(path.read_text(encoding="utf-8"), path)
    assert run_markdown(path) == sum(block.executed for block in blocks)
    assert try_get_current() is None
    assert event_core.get_context_injector() is None


def _all_blocks() -> list[Block]:
    return [block for path in FILES for block in parse_blocks(path.read_text("utf-8"), path)]


class TestTheDocsAsAWhole:
    def test_enough_blocks_are_executed(self) -> None:
        """At least MIN_EXECUTED_BLOCKS python blocks run (examples cannot silently vanish)."""
        per_file = {
            _rel(path): sum(block.executed for block in parse_blocks(path.read_text("utf-8"), path))
            for path in FILES
        }
        total = sum(per_file.values())
        print(f"\nexecuted python blocks: {total}")
        for rel, count in per_file.items():
            print(f"  {count:4d}  {rel}")
        assert total >= MIN_EXECUTED_BLOCKS, per_file

    def test_few_blocks_are_not_run(self) -> None:
        """At most 10% of the python blocks are marked <!-- not-run -->."""
        python = [block for block in _all_blocks() if block.is_python]
        skipped = [f"{_rel(block.path)}:{block.line}" for block in python if block.not_run]
        assert len(skipped) <= MAX_NOT_RUN_SHARE * len(python), (
            f"{len(skipped)} of {len(python)} python blocks are not run: {skipped}"
        )

    def test_every_fence_names_its_language(self) -> None:
        """A fence without a language is ambiguous: it must say python, text, bash, ..."""
        bare = [f"{_rel(block.path)}:{block.line}" for block in _all_blocks() if not block.info]
        assert bare == [], f"add a language to these code fences (e.g. ```text): {bare}"

    def test_readme_and_the_guides_are_found(self) -> None:
        """Discovery finds README.md and the docs pages."""
        found = {_rel(path) for path in FILES}
        assert {"README.md", "docs/index.md", "docs/getting-started.md"} <= found


SAMPLE = """\
# Title

```python
x = 1
```

```python title="job.py" linenums="1"
y = x + 1
```

```pycon
>>> 1 + 1
2
```

```text
not code
```

```bash
make test
```

<!-- not-run -->

```python
raise SystemExit("must not run")
```

<!-- not-run -->
Some prose in between.

```python
z = y + 1
```

~~~python
w = z + 1
~~~

````markdown
```python
this is inside a markdown example, not a block of its own
```
````

1. A list item with a block:

    ```py
    v = w + 1
    ```

```{.python .annotate}
u = v + 1
```
"""


class TestTheRunner:
    def test_parse_blocks(self, tmp_path: Path) -> None:
        """Fences of every kind are found with their languages, lines and not-run marks."""
        blocks = parse_blocks(SAMPLE, tmp_path / "sample.md")
        found = [(block.line, block.language, block.executed, block.not_run) for block in blocks]
        assert found == [
            (3, "python", True, False),
            (7, "python", True, False),
            (11, "pycon", False, False),
            (16, "text", False, False),
            (20, "bash", False, False),
            (26, "python", False, True),
            (33, "python", True, False),
            (37, "python", True, False),
            (41, "markdown", False, False),
            (49, "py", True, False),
            (53, "python", True, False),
        ]
        assert blocks[1].info == 'python title="job.py" linenums="1"'
        assert blocks[9].code == "v = w + 1\n"

    def test_blocks_share_one_namespace_in_order(self, tmp_path: Path) -> None:
        """The executed blocks of a file run top to bottom in one namespace."""
        page = tmp_path / "sample.md"
        page.write_text(SAMPLE + "\n```python\nassert u == 6\nassert __name__ != '__main__'\n```\n")
        assert run_markdown(page) == 7

    def test_a_failure_names_the_file_and_line(self, tmp_path: Path) -> None:
        """A failing block is reported with the file, the block's line and the error."""
        page = tmp_path / "broken.md"
        page.write_text(
            "Intro.\n\n```python\nok = 1\n```\n\n```python\nassert ok == 2, 'no'\n```\n"
        )
        with pytest.raises(pytest.fail.Exception) as info:
            run_markdown(page)
        message = str(info.value)
        assert "broken.md: the python block at line 7 failed: AssertionError: no" in message
        assert f'File "{page.resolve()}", line 8' in message

    def test_a_leftover_event_context_fails(self, tmp_path: Path) -> None:
        """A page that leaves an event context active fails, and is cleaned up after."""
        page = tmp_path / "leaky.md"
        page.write_text(
            "```python\nimport event_core\n"
            "event_core.create_event_context({'type': 'LEAK'}).__enter__()\n```\n"
        )
        with pytest.raises(pytest.fail.Exception, match=r"still active.*LEAK"):
            run_markdown(page)
        assert try_get_current() is None

    def test_the_injector_is_reset(self, tmp_path: Path) -> None:
        """A page that installs a context injector does not leave it installed."""
        page = tmp_path / "injector.md"
        page.write_text(
            "```python\nimport event_core\n"
            "event_core.replace_context_injector(event_core.ContextInjector())\n```\n"
        )
        assert run_markdown(page) == 1
        assert event_core.get_context_injector() is None

    def test_an_unclosed_fence_is_an_error(self, tmp_path: Path) -> None:
        """A fence that is never closed is reported with its line."""
        with pytest.raises(ValueError, match=r"x\.md:2: the code fence '```' is never closed"):
            parse_blocks("text\n```python\nx = 1\n", tmp_path / "x.md")

    def test_future_imports_of_this_module_do_not_leak(self, tmp_path: Path) -> None:
        """Blocks are compiled without this module's `from __future__ import annotations`."""
        page = tmp_path / "future.md"
        page.write_text(
            "```python\ndef f(x: int) -> int:\n    return x\n\n"
            "assert f.__annotations__ == {'x': int, 'return': int}\n```\n"
        )
        assert run_markdown(page) == 1
