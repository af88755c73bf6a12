"""Check a page of the built docs as Chromium rendered it (used by scripts/docs-check.sh).

Compares the DOM that ``chromium --dump-dom`` printed with the page's Markdown source:

- the page's ``<h1>`` shows the source's title (the first ``# `` heading);
- the page's first code block is rendered, with the text of the source's first fenced block;
- the source's first ``python`` block is rendered as highlighted code (Pygments token spans)
  with its exact text;
- the page loads nothing from another host (the site must work offline).

Standard library only. Prints what it checked; exits 1 with a message on the first failure.

Usage::

    python scripts/docs_check.py DOM_HTML SOURCE_MD
"""

from __future__ import annotations

import re
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path
from typing import Optional

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+-]*)[^\n]*$")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


class CheckFailed(Exception):
    """A check did not pass; the message says which and why."""


def source_title(markdown: str) -> str:
    """The text of the first ``# `` heading, without Markdown markup."""
    for line in markdown.splitlines():
        match = re.match(r"^#[ \t]+(.+?)[ \t#]*$", line)
        if match:
            title = re.sub(r"\{[^}]*\}$", "", match.group(1))  # attr_list: {#id .class}
            return re.sub(r"[`*_]", "", title).strip()
    raise CheckFailed("the source has no '# ' title line, so there is nothing to compare")


def source_blocks(markdown: str) -> list[tuple[str, str]]:
    """The fenced code blocks of the source, in order: ``(language, text)``."""
    blocks: list[tuple[str, str]] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if match:
            fence, indent = match.group("fence"), match.group("indent")
            body: list[str] = []
            i += 1
            while i < len(lines) and not re.match(
                rf"^{re.escape(indent)}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", lines[i]
            ):
                body.append(lines[i])
                i += 1
            blocks.append((match.group("lang").lower(), textwrap.dedent("\n".join(body))))
        i += 1
    return blocks


def normalize(code: str) -> str:
    """Code text compared line by line, ignoring trailing spaces and blank edges."""
    return "\n".join(line.rstrip() for line in code.strip("\n").splitlines()).strip()


class Element:
    """A parsed element: its tag, attributes, children and text."""

    def __init__(self, tag: str, attrs: dict[str, str], parent: Optional[Element]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.parent = parent
        self.children: list[Element | str] = []

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self, skip_class: str = "") -> str:
        parts: list[str] = []
        for child in self.children:
            if isinstance(child, str):
                parts.append(child)
            elif not (skip_class and skip_class in child.classes):
                parts.append(child.text(skip_class))
        return "".join(parts)

    def iter(self) -> list[Element]:
        found: list[Element] = [self]
        for child in self.children:
            if isinstance(child, Element):
                found.extend(child.iter())
        return found

    def find_all(self, tag: str) -> list[Element]:
        return [element for element in self.iter() if element.tag == tag]


class TreeBuilder(HTMLParser):
    """Just enough of a DOM: the tree of elements with their text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.node = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self.node)
        self.node.children.append(element)
        if tag not in VOID:
            self.node = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        self.node.children.append(Element(tag, {k: v or "" for k, v in attrs}, self.node))

    def handle_endtag(self, tag: str) -> None:
        node: Optional[Element] = self.node
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:  # ignore stray end tags
            self.node = node.parent

    def handle_data(self, data: str) -> None:
        self.node.children.append(data)


def check(dom_html: str, markdown: str) -> list[str]:
    """Run every check; return one line per check that passed, raise on the first failure."""
    done: list[str] = []
    root = TreeBuilder()
    root.feed(dom_html)
    root.close()
    document = root.root

    articles = [e for e in document.iter() if "md-content__inner" in e.classes]
    if not articles:
        raise CheckFailed("no Material content area (.md-content__inner): the page did not render")
    article = articles[0]
    done.append("the Material theme rendered the content area (.md-content__inner)")

    expected_title = source_title(markdown)
    headings = article.find_all("h1")
    if not headings:
        raise CheckFailed(f"the page has no <h1>; expected {expected_title!r}")
    shown = " ".join(headings[0].text(skip_class="headerlink").split())
    if shown != expected_title:
        raise CheckFailed(f"the page's <h1> is {shown!r}, expected {expected_title!r}")
    done.append(f"<h1> shows the title {shown!r}")
    titles = document.find_all("title")
    if not titles or expected_title not in titles[0].text():
        raise CheckFailed(f"<title> does not contain {expected_title!r}")
    done.append(f"<title> is {' '.join(titles[0].text().split())!r}")

    blocks = source_blocks(markdown)
    if not blocks:
        raise CheckFailed("the source has no fenced code block")
    rendered = [pre for pre in article.find_all("pre") if pre.find_all("code")]
    if not rendered:
        raise CheckFailed("the page shows no code block (<pre><code>)")
    first_lang, first_text = blocks[0]
    shown_code = normalize(rendered[0].find_all("code")[0].text())
    if shown_code != normalize(first_text):
        raise CheckFailed(
            "the page's first code block does not show the source's first block:\n"
            f"--- source ({first_lang or 'no language'}):\n{normalize(first_text)}\n"
            f"--- page:\n{shown_code}"
        )
    first_line = normalize(first_text).splitlines()[0]
    done.append(
        f"the first code block ({first_lang or 'no language'}, "
        f"{len(normalize(first_text).splitlines())} lines) is rendered: {first_line!r}"
    )

    python = [text for lang, text in blocks if lang in ("python", "py", "pycon")]
    if python:
        wanted = normalize(python[0])
        matches = [pre for pre in rendered if normalize(pre.find_all("code")[0].text()) == wanted]
        if not matches:
            raise CheckFailed(f"the first python block is not on the page:\n{wanted}")
        code = matches[0].find_all("code")[0]
        tokens = [e for e in code.iter() if e.tag == "span" and e.classes]
        names = sorted(
            {
                " ".join(e.text().split())
                for e in tokens
                if e.classes & {"n", "nf", "nc", "nn"} and e.text().strip()
            }
        )
        if not tokens or not names:
            raise CheckFailed("the first python block is not highlighted (no Pygments tokens)")
        buttons = [e for e in matches[0].iter() if "md-clipboard" in e.classes]
        done.append(
            f"the first python block is highlighted ({len(tokens)} tokens, names such as "
            f"{', '.join(names[:4])})" + (" with a copy button" if buttons else "")
        )
    else:
        done.append("the source has no python block (checked the first block only)")

    external = [
        value
        for element in document.iter()
        if element.tag in ("link", "script", "img")
        for attr in ("href", "src")
        if (value := element.attrs.get(attr, "")).startswith(("http://", "https://", "//"))
        and not re.match(r"^(https?:)?//(127\.0\.0\.1|localhost)[:/]", value)
    ]
    if external:
        raise CheckFailed(f"the page loads resources from other hosts: {external}")
    done.append("no stylesheet, script or image comes from another host (works offline)")
    return done


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    dom_path, source_path = Path(argv[1]), Path(argv[2])
    try:
        for line in check(dom_path.read_text(encoding="utf-8"), source_path.read_text("utf-8")):
            print(f"docs-check: ok: {line}")
    except CheckFailed as exc:
        print(f"docs-check: FAIL: {source_path} as rendered ({dom_path}): {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
