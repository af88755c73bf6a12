"""Shared test configuration: pytester for plugin tests, and the size of stress tests."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--stress-scale",
        type=int,
        default=1,
        help="multiply the sizes of @pytest.mark.stress tests (make stress uses 10)",
    )


@pytest.fixture
def stress_scale(request: pytest.FixtureRequest) -> int:
    """How much bigger than the default sizes stress tests should run."""
    scale: int = request.config.getoption("--stress-scale")
    return scale
