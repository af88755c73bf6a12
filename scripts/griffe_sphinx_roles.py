"""Griffe extension: render the Sphinx markup of event_core's docstrings in mkdocstrings.

The docstrings are written for ``help()`` and Sphinx habits: ``:class:`~event_core.Key```,
``:func:`cached```, ``:meth:`get```, ``.. versionadded:: 0.1.0`` and ``Example:`` headings.
mkdocstrings reads Markdown, so this rewrites them, only for the docs build:

- a role becomes an autorefs cross-reference when the name resolves to an object of the
  package (``[`Key`][event_core.Key]``), and inline code otherwise (``TypeError``);
- ``.. versionadded:: X`` becomes "*Added in version X.*";
- ``Example:`` becomes ``Examples:``, the section name Griffe's Google parser knows.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(
    r":(?:py:)?(?P<role>class|func|meth|attr|data|exc|obj|mod):`(?P<tilde>~?)(?P<target>[\w.]+)`"
)
VERSION = re.compile(
    r"^(?P<indent>[ \t]*)\.\. version(?P<kind>added|changed|deprecated)::[ \t]*(?P<text>.+)$", re.M
)
EXAMPLE = re.compile(r"^(?P<indent>[ \t]*)Example:[ \t]*$", re.M)
WORDS = {"added": "Added", "changed": "Changed", "deprecated": "Deprecated"}


class SphinxRoles(griffe.Extension):
    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        self._walk(pkg, pkg, set())

    def _walk(self, obj: griffe.Object, pkg: griffe.Module, seen: set[str]) -> None:
        if obj.path in seen:
            return
        seen.add(obj.path)
        if obj.docstring is not None:
            obj.docstring.value = self._rewrite(obj.docstring.value, obj, pkg)
        for member in obj.members.values():
            if not member.is_alias:
                self._walk(member, pkg, seen)  # type: ignore[arg-type]

    def _rewrite(self, text: str, obj: griffe.Object, pkg: griffe.Module) -> str:
        def role(match: re.Match[str]) -> str:
            target, short = match["target"], match["tilde"] == "~"
            label = target.rsplit(".", 1)[-1] if short else target
            if match["role"] in ("func", "meth"):
                label += "()"
            path = self._resolve(target, obj, pkg)
            return f"[`{label}`][{path}]" if path else f"`{label}`"

        text = ROLE.sub(role, text)
        text = VERSION.sub(
            lambda m: f"{m['indent']}*{WORDS[m['kind']]} in version {m['text'].strip()}.*", text
        )
        return EXAMPLE.sub(lambda m: f"{m['indent']}Examples:", text)

    @staticmethod
    def _resolve(target: str, obj: griffe.Object, pkg: griffe.Module) -> str | None:
        """The public path of ``target`` as seen from ``obj``, or None outside the package."""
        prefix = pkg.name + "."
        scopes = [obj if obj.is_class else obj.parent, obj.module, pkg]
        candidates = [target] if target.startswith(prefix) else []
        candidates += [f"{scope.path}.{target}" for scope in scopes if scope is not None]
        for path in candidates:
            try:
                found = pkg[path[len(prefix) :]] if path.startswith(prefix) else None
            except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
                found = None
            if found is None:
                continue
            if (found.final_target if found.is_alias else found).docstring is None:
                return None  # not rendered (no docstring): nothing to link to
            canonical = found.canonical_path
            # event_core.EventContext.get rather than event_core._context.EventContext.get
            for name, member in pkg.members.items():
                if member.is_alias and not name.startswith("_"):
                    origin = member.target_path
                    if canonical == origin or canonical.startswith(origin + "."):
                        return prefix + name + canonical[len(origin) :]
            return canonical
        return None
