"""The examples in the docstrings run, so the API reference cannot show broken code."""

from __future__ import annotations

import doctest
import importlib

import pytest

import event_core

# The public objects carry __module__ == "event_core", so the package's examples are found
# through `event_core` itself; the public submodules are searched on their own.
MODULES = ["event_core", "event_core.job", "event_core.otel", "event_core.logging"]


class TestDocstringExamples:
    @pytest.mark.parametrize("name", MODULES)
    def test_examples_pass(self, name: str) -> None:
        """Every docstring example of the module runs and prints what it shows."""
        module = importlib.import_module(name)
        failed, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
        assert attempted > 0, f"{name} has no docstring examples"
        assert failed == 0, f"{failed} of {attempted} docstring examples of {name} failed"
        assert event_core.try_get_current() is None

    def test_every_public_name_has_an_example_or_docstring(self) -> None:
        """Every name in event_core.__all__ is documented."""
        undocumented = [
            name for name in event_core.__all__ if not getattr(event_core, name).__doc__
        ]
        assert undocumented == []
