#!/usr/bin/env bash
# Browser check of the built documentation (`make docs-check`).
#
# Serves site/ on 127.0.0.1, opens the quick-start page in headless Chromium, and checks the
# DOM after JavaScript ran (scripts/docs_check.py): the page shows its title and its first
# code block, the first python block is highlighted, and nothing loads from another host.
# Saves a screenshot to site/docs-check.png for review.
#
# Builds the site first if site/index.html is missing, and installs Debian's chromium if
# /usr/bin/chromium is missing (apt-get; root or sudo).  Exits non-zero on any failure.
#
# Usage: bash scripts/docs-check.sh [PAGE]     (PAGE defaults to getting-started)
set -euo pipefail
cd "$(dirname "$0")/.."

page=${1:-getting-started}
source_md=docs/$page.md
html=site/$page/index.html
screenshot=$PWD/site/docs-check.png
chromium=${CHROMIUM:-/usr/bin/chromium}

say() { echo "docs-check: $*"; }
die() {
    echo "docs-check: FAIL: $*" >&2
    exit 1
}

if [[ -x .venv/bin/python ]]; then py=.venv/bin/python; else py=python3; fi

# ---------------------------------------------------------------- the site
if [[ ! -f site/index.html ]]; then
    say "site/index.html is missing: building the site (make docs)"
    make docs || die "make docs failed: fix the build before checking it in a browser"
fi
[[ -f $source_md ]] || die "$source_md does not exist: which page is the quick start?"
[[ -f $html ]] || die "$html does not exist: is $page.md in the nav of mkdocs.yml? (rebuild: make docs)"
[[ $html -nt $source_md ]] || say "warning: $html is older than $source_md (run make docs to rebuild)"

# ---------------------------------------------------------------- the browser
if [[ ! -x $chromium ]]; then
    say "$chromium is missing: installing Debian's chromium (about 20 s)"
    sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || die "installing chromium needs root or sudo"
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq || die "apt-get update failed"
    "${sudo[@]}" apt-get install -y -qq chromium >/dev/null || die "apt-get install chromium failed"
    [[ -x $chromium ]] || die "chromium was installed but $chromium does not exist"
fi
# the Debian wrapper script prints shell noise on stderr; keep only the version line
say "browser: $("$chromium" --version 2>/dev/null | head -n1)"

work=$(mktemp -d)
server_pid=
cleanup() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# ---------------------------------------------------------------- the server
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$py" -m http.server "$port" --bind 127.0.0.1 --directory site >"$work/http.log" 2>&1 &
server_pid=$!
url=http://127.0.0.1:$port/$page/
for _ in $(seq 50); do
    if "$py" -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$url" 2>/dev/null; then
        break
    fi
    kill -0 "$server_pid" 2>/dev/null || die "the HTTP server exited: $(cat "$work/http.log")"
    sleep 0.1
done
"$py" -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=5)" "$url" \
    || die "$url does not answer: $(cat "$work/http.log")"
say "serving site/ at http://127.0.0.1:$port/ (pid $server_pid)"

flags=(
    --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic
    --no-first-run --no-default-browser-check --disable-background-networking
    --disable-component-update --disable-sync --disable-extensions --hide-scrollbars
    --user-data-dir="$work/profile" --window-size=1200,900
    --virtual-time-budget=5000
)
browse() { # browse LOG ARGS...: run chromium, fail with its log on error or timeout
    local log=$1
    shift
    if ! timeout 120 "$chromium" "${flags[@]}" "$@" 2>"$log"; then
        tail -n 20 "$log" >&2
        die "chromium failed on $url (log above)"
    fi
}

# ---------------------------------------------------------------- the checks
rm -f "$screenshot" site/docs-check.dom.html
say "opening $url (rendered from $source_md)"
browse "$work/dom.log" --dump-dom "$url" >"$work/dom.html"
[[ -s $work/dom.html ]] || die "chromium printed no DOM for $url"
say "DOM after JavaScript: $(wc -c <"$work/dom.html") bytes"
if ! "$py" scripts/docs_check.py "$work/dom.html" "$source_md"; then
    cp "$work/dom.html" site/docs-check.dom.html
    die "$url does not render as expected (its DOM is saved in site/docs-check.dom.html)"
fi

browse "$work/shot.log" --screenshot="$screenshot" "$url"
[[ -s $screenshot ]] || die "chromium wrote no screenshot to $screenshot"
"$py" - "$screenshot" <<'EOF' || die "the screenshot is not a usable image"
import struct, sys
data = open(sys.argv[1], "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit("docs-check: FAIL: the screenshot is not a PNG")
width, height = struct.unpack(">II", data[16:24])
# a blank page compresses to a few kB; a rendered page with text and code is far larger
if len(data) < 20_000:
    sys.exit(f"docs-check: FAIL: the screenshot is only {len(data)} bytes: is the page blank?")
print(f"docs-check: ok: screenshot {width}x{height}, {len(data) // 1024} kB")
EOF

# every request the browser made must have been served: a 404 is a broken asset link
if grep -E '" (4|5)[0-9]{2} ' "$work/http.log" >&2; then
    die "the page requested files the site does not have (above)"
fi
say "ok: every request of the page was served ($(grep -c '" 200 ' "$work/http.log" || true) responses 200)"
say "passed: $url renders its title and first code block; screenshot: site/docs-check.png"
