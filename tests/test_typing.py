"""Static typing: tests/typing/ passes mypy --strict and pyright --strict, and every file in
tests/typing/fail/ is rejected by both, on the line marked ``# expect-error``.

A must-fail file names the error each checker should report in its docstring, as
``mypy [code], pyright [rule]``. The checkers are only installed in the main venv, so the
multi-Python run deselects this module (``-m "not typecheck"``).
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

pytestmark = pytest.mark.typecheck

ROOT = Path(__file__).resolve().parent.parent
TYPING = ROOT / "tests" / "typing"
FAIL = TYPING / "fail"
FAIL_FILES = sorted(FAIL.glob("*.py"))
CHECK_FILES = sorted(TYPING.glob("check_*.py"))
# tests/typing/ holds at least this many assert_type() calls (raise it when adding more)
ASSERT_TYPE_FLOOR = 120
EXPECTED = re.compile(r"mypy \[(?P<mypy>[\w-]+)\], pyright \[(?P<pyright>\w+)\]")


class Diagnostic(NamedTuple):
    path: Path
    line: int
    code: str
    message: str


def _pyright() -> str:
    found = shutil.which("pyright", path=str(Path(sys.executable).parent))
    if found is None:  # pragma: no cover - the dev install always has it
        pytest.fail("pyright is not installed next to this Python: pip install -e '.[dev]'")
    return found


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


_MYPY_LINE = re.compile(
    r"^(?P<path>[^:\n]+):(?P<line>\d+): error: (?P<message>.*?)  \[(?P<code>[\w-]+)\]$"
)


def _mypy(*paths: Path, cache: Path) -> list[Diagnostic]:
    args = [
        sys.executable,
        "-m",
        "mypy",
        "--strict",
        "--no-error-summary",
        "--cache-dir",
        str(cache),
    ]
    result = _run(args + [str(path.relative_to(ROOT)) for path in paths])
    assert result.returncode in (0, 1), result.stdout + result.stderr
    diagnostics = []
    for line in result.stdout.splitlines():
        match = _MYPY_LINE.match(line)
        if match:
            diagnostics.append(
                Diagnostic(
                    (ROOT / match["path"]).resolve(),
                    int(match["line"]),
                    match["code"],
                    match["message"],
                )
            )
    assert diagnostics or result.returncode == 0, result.stdout + result.stderr
    return diagnostics


def _pyright_json(args: list[str]) -> list[Diagnostic]:
    result = _run([_pyright(), "--outputjson", *args])
    assert result.returncode in (0, 1), result.stdout + result.stderr
    report = json.loads(result.stdout)
    return [
        Diagnostic(
            Path(item["file"]).resolve(),
            item["range"]["start"]["line"] + 1,
            item.get("rule", ""),
            item["message"],
        )
        for item in report["generalDiagnostics"]
        if item["severity"] == "error"
    ]


def _pyright_fail_files(tmp: Path) -> list[Diagnostic]:
    # The project config excludes tests/typing/fail; check those files with the same
    # strictness through a config of their own.
    config = tmp / "pyrightconfig.json"
    config.write_text(
        json.dumps(
            {
                "typeCheckingMode": "strict",
                "pythonVersion": "3.9",
                "extraPaths": [str(ROOT / "src")],
            }
        )
    )
    files = [str(path) for path in FAIL_FILES]
    return _pyright_json(["-p", str(config), "--pythonpath", sys.executable, *files])


@pytest.fixture(scope="module")
def mypy_fail(tmp_path_factory: pytest.TempPathFactory) -> list[Diagnostic]:
    return _mypy(*FAIL_FILES, cache=tmp_path_factory.mktemp("mypy_cache"))


@pytest.fixture(scope="module")
def pyright_fail(tmp_path_factory: pytest.TempPathFactory) -> list[Diagnostic]:
    return _pyright_fail_files(tmp_path_factory.mktemp("pyright"))


def _marked_line(path: Path) -> int:
    lines = [
        number
        for number, text in enumerate(path.read_text().splitlines(), start=1)
        if text.rstrip().endswith("# expect-error")
    ]
    assert len(lines) == 1, f"{path.name} must mark exactly one line with # expect-error"
    return lines[0]


def _expected(path: Path, checker: str) -> str:
    match = EXPECTED.search(path.read_text())
    assert match, f"{path.name} must name its errors as 'mypy [code], pyright [rule]'"
    return match[checker]


def _of(diagnostics: list[Diagnostic], path: Path) -> list[Diagnostic]:
    return [item for item in diagnostics if item.path == path.resolve()]


class TestMustFail:
    def test_there_are_must_fail_files(self) -> None:
        """tests/typing/fail holds the must-fail files, each marking one line."""
        assert len(FAIL_FILES) >= 10
        assert all(_marked_line(path) > 0 for path in FAIL_FILES)

    @pytest.mark.parametrize("path", FAIL_FILES, ids=[path.stem for path in FAIL_FILES])
    def test_mypy_rejects_the_marked_line(self, path: Path, mypy_fail: list[Diagnostic]) -> None:
        """mypy --strict reports the named error on the marked line, and nowhere else."""
        errors = _of(mypy_fail, path)
        line = _marked_line(path)
        assert errors, f"mypy accepted {path.name}"
        assert {error.line for error in errors} == {line}, errors
        assert _expected(path, "mypy") in {error.code for error in errors}, errors

    @pytest.mark.parametrize("path", FAIL_FILES, ids=[path.stem for path in FAIL_FILES])
    def test_pyright_rejects_the_marked_line(
        self, path: Path, pyright_fail: list[Diagnostic]
    ) -> None:
        """pyright --strict reports the named error on the marked line, and nowhere else."""
        errors = _of(pyright_fail, path)
        line = _marked_line(path)
        assert errors, f"pyright accepted {path.name}"
        assert {error.line for error in errors} == {line}, errors
        assert _expected(path, "pyright") in {error.code for error in errors}, errors


class TestTypingExamplesPass:
    def test_mypy_passes(self, tmp_path: Path) -> None:
        """mypy --strict (the project config) reports nothing in tests/typing/."""
        errors = [
            error
            for error in _mypy(TYPING, cache=tmp_path)
            if TYPING in error.path.parents and FAIL not in error.path.parents
        ]
        assert errors == []

    def test_pyright_passes(self) -> None:
        """pyright --strict (the project config) reports nothing in tests/typing/."""
        errors = [error for error in _pyright_json([str(TYPING)]) if TYPING in error.path.parents]
        assert errors == []

    def test_assert_type_count_is_above_the_floor(self) -> None:
        """tests/typing/ asserts the types of the public API with many assert_type calls."""
        count = sum(len(re.findall(r"\bassert_type\(", path.read_text())) for path in CHECK_FILES)
        assert count >= ASSERT_TYPE_FLOOR

    @pytest.mark.parametrize("path", CHECK_FILES, ids=[path.stem for path in CHECK_FILES])
    def test_examples_run(self, path: Path) -> None:
        """The typing examples are real code: each file's main() runs without error."""
        spec = importlib.util.spec_from_file_location(f"_typing_example_{path.stem}", path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert module.main() is None
