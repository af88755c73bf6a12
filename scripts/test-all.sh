#!/usr/bin/env bash
# Run the test suite (pytest -q, no coverage, no lint) on every Python 3.9..3.13 found.
# Each version gets its own venv in .venvs/py3.X with `pip install -e '.[test]'`,
# reinstalled only when pyproject.toml is newer than the venv's stamp.
# Extra arguments are passed to pytest.  Exits non-zero if any version fails or none is found.
set -euo pipefail
cd "$(dirname "$0")/.."

versions=(9 10 11 12 13)
pyenv_root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")

# Print the path of a working python3.$1, or fail.
find_python() {
    local x=$1 cand
    local -a cands=()
    cand=$(command -v "python3.$x" 2>/dev/null || true)
    [[ -n $cand ]] && cands+=("$cand")
    # newest patch release first
    while IFS= read -r cand; do
        [[ -n $cand ]] && cands+=("$cand")
    done < <(ls -d "$pyenv_root"/versions/3."$x".*/bin/python3."$x" 2>/dev/null | sort -rV)
    for cand in "${cands[@]}"; do
        # a pyenv shim exists for every installed version but fails unless that version
        # is selected: check that the candidate really runs and is 3.X
        if "$cand" -c "import sys; sys.exit(sys.version_info[:2] != (3, $x))" >/dev/null 2>&1
        then
            echo "$cand"
            return 0
        fi
    done
    return 1
}

# Set up .venvs/py3.$1 with interpreter $2 and run the tests in it.
# (called in an `if`, where set -e does not apply: every step checks itself)
run_one() {
    local x=$1 py=$2 venv=.venvs/py3.$1
    local stamp=$venv/.installed
    shift 2
    if [[ ! -x $venv/bin/python ]]; then
        "$py" -m venv "$venv" || return 1
    fi
    if [[ ! -f $stamp || pyproject.toml -nt $stamp ]]; then
        local t0=$SECONDS
        "$venv/bin/python" -m pip install -q --upgrade pip || return 1
        "$venv/bin/python" -m pip install -q -e '.[test]' || return 1
        touch "$stamp" || return 1
        echo "test-all: installed into $venv in $((SECONDS - t0)) s"
    fi
    "$venv/bin/python" -m pytest -q "$@" || return 1
}

ran=() failed=() missing=()
for x in "${versions[@]}"; do
    if ! py=$(find_python "$x"); then
        echo "test-all: python3.$x not found, skipped"
        missing+=("3.$x")
        continue
    fi
    echo "=== test-all: Python 3.$x ($py)"
    ran+=("3.$x")
    if ! run_one "$x" "$py" "$@"; then
        failed+=("3.$x")
    fi
done

echo "=== test-all: ran on: ${ran[*]:-none}; failed: ${failed[*]:-none}; not found: ${missing[*]:-none}"
if ((${#ran[@]} == 0)); then
    echo "test-all: no Python 3.9..3.13 interpreter found" >&2
    exit 1
fi
if ((${#failed[@]} > 0)); then
    exit 1
fi
