#!/usr/bin/env bash
# Run the tests marked `redis` (tests/test_celery.py) against a throwaway redis-server.
#
# Installs redis-server (Debian package) if missing, starts it on 127.0.0.1 on a free port
# with its files in a temp dir, waits for PONG, runs pytest -m redis with REDIS_URL set,
# and always stops the server afterwards.  Exits with pytest's status; fails loudly (never
# skips) when Redis cannot be installed or started.  Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
if [[ ! -x $PY ]]; then
    echo "ci-redis: $PY not found: run 'make install' first" >&2
    exit 1
fi

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    echo "ci-redis: installing redis-server"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq redis-server >/dev/null
fi
# kombu's Redis transport needs the redis client; install it if the venv lacks it
if ! "$PY" -c 'import redis' >/dev/null 2>&1; then
    echo "ci-redis: installing the redis client into .venv"
    "$PY" -m pip install -q redis
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/event-core-redis.XXXXXX")
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

stop_redis() {
    local pid=""
    # read the pid first: shutdown removes the pid file
    if [[ -f $dir/redis.pid ]]; then
        pid=$(<"$dir/redis.pid")
    fi
    redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
    if [[ -n $pid ]]; then
        local i
        for i in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            if ((i == 50)); then kill "$pid" 2>/dev/null || true; fi
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "ci-redis: redis-server (pid $pid) did not stop; killing it" >&2
            kill -9 "$pid" 2>/dev/null || true
        fi
    fi
    rm -rf "$dir"
    echo "ci-redis: redis-server on port $port stopped"
}
trap stop_redis EXIT

echo "ci-redis: starting redis-server on 127.0.0.1:$port ($dir)"
redis-server --bind 127.0.0.1 --port "$port" --daemonize yes --save '' --appendonly no \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir"

ready=0
for _ in $(seq 200); do  # 200 x 0.1 s: about 20 s
    if [[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null || true) == PONG ]]; then
        ready=1
        break
    fi
    sleep 0.1
done
if ((!ready)); then
    echo "ci-redis: redis-server did not answer PING on 127.0.0.1:$port within 20 s" >&2
    cat "$dir/redis.log" >&2 2>/dev/null || true
    exit 1
fi
echo "ci-redis: redis-server is up (PONG)"

export REDIS_URL="redis://127.0.0.1:$port/0"
status=0
"$PY" -m pytest -m redis -q -p no:cacheprovider tests/test_celery.py "$@" || status=$?
echo "ci-redis: pytest exited with $status"
exit "$status"
