#!/usr/bin/env bash
# HTTP benchmark of the demo plugin host (tessera-demo), loopback only, bounded in time.
#
# Compares, against the same running host and with the same request body, the real transfer
# action (POST /api/plugins/stock-tools/actions/transfer: token verified, payload decoded)
# with its parse-only twin (POST /bench/parse-only: same body parsed, nothing verified), for
#   - 1 worker process with 1 thread,
#   - N worker processes with 1 thread each (N = CPU cores),
#   - 1 worker process with N threads,
# and prints requests/second, the ratios, and the host's CPU time per request (from /proc:
# what each endpoint costs the server, whatever the load generator does). Then it runs an
# N-process host and a 1-process, N-thread host side by side and alternates rounds between
# them on the verified endpoint. Goal: tessera/parse-only >= 0.90, and N processes at least
# as fast as 1 process with N threads.
#
# Load generator: wrk (installed with apt-get when missing). Each measurement is one wrk run
# of $DURATION; each of $ROUNDS rounds measures both endpoints back to back (in alternating
# order) and the medians are reported, with the middle half of the per-round ratios (how far
# one run's rounds spread on a shared machine) and every round's ratio.
#
# Usage: bench/http.sh              (from the repository root)
#   DURATION=2s ROUNDS=9 CONNECTIONS=64 WRK_THREADS=2 KEY_ALG=hs256 WORKERS=<cores>
set -euo pipefail

DURATION=${DURATION:-2s}
ROUNDS=${ROUNDS:-9}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-2}
KEY_ALG=${KEY_ALG:-hs256}
WORKERS=${WORKERS:-$(nproc)}

cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
    echo "installing wrk (apt-get install -y wrk)" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2
fi

cargo build --release --quiet -p tessera-demo --bin tessera-demo
BIN=target/release/tessera-demo

WORK=$(mktemp -d)
HOST_PID=""
# Hosts kept running beside the current one (the processes-vs-threads comparison).
OTHER_PIDS=()
cleanup() {
    for pid in "$HOST_PID" "${OTHER_PIDS[@]}"; do
        if [[ -n "$pid" ]]; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# Starts the host with "$@"; sets HOST_PID and BASE.
start_host() {
    : >"$WORK/stdout"
    RUST_LOG=warn "$BIN" --bind 127.0.0.1:0 --keys "$WORK/keys.json" --key-alg "$KEY_ALG" \
        --ttl 3600 --keep-alive "$@" >"$WORK/stdout" 2>"$WORK/stderr" &
    HOST_PID=$!
    for _ in $(seq 1 300); do
        if grep -q '^listening on http://' "$WORK/stdout"; then
            BASE=$(sed -n 's/^listening on //p' "$WORK/stdout" | head -n1)
            return 0
        fi
        sleep 0.1
    done
    echo "the host did not get ready:" >&2
    cat "$WORK/stderr" >&2
    exit 1
}

stop_host() {
    kill -TERM "$HOST_PID"
    wait "$HOST_PID" || true
    HOST_PID=""
}

# Writes the wrk script posting the transfer body with a fresh token for user "bench".
make_script() {
    local token
    token=$(curl -sf -H 'X-Demo-User: bench' "$BASE/api/plugins/stock-tools/panels" |
        grep -o '"action":"plugin:stock-tools/action:transfer"[^}]*"token":"[^"]*"' |
        sed 's/.*"token":"\([^"]*\)"/\1/')
    if [[ -z "$token" ]]; then
        echo "no transfer token in the panels" >&2
        exit 1
    fi
    local body="{\"token\":\"$token\",\"input\":{\"qty\":1}}"
    # The body works on both endpoints; check it once with curl.
    for path in /api/plugins/stock-tools/actions/transfer /bench/parse-only; do
        curl -sf -o /dev/null -H 'Content-Type: application/json' -H 'X-Demo-User: bench' \
            -d "$body" "$BASE$path" || { echo "POST $path refused the body" >&2; exit 1; }
    done
    cat >"$WORK/post.lua" <<EOF
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Demo-User"] = "bench"
EOF
    echo "${#body}"
}

# CPU time (clock ticks) used so far by the host: the supervisor and its worker processes.
host_ticks() {
    local total=0 pid ticks
    for pid in "$HOST_PID" $(pgrep -P "$HOST_PID"); do
        ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
        total=$((total + ticks))
    done
    echo "$total"
}

# One wrk run; prints requests/second and the host's CPU time per request in microseconds.
# Fails on any non-2xx answer or socket error.
run_wrk() {
    local path=$1 out before after
    before=$(host_ticks)
    out=$(wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$WORK/post.lua" "$BASE$path")
    after=$(host_ticks)
    if grep -q 'Non-2xx' <<<"$out"; then
        echo "non-2xx answers from $path:" >&2
        echo "$out" >&2
        exit 1
    fi
    if grep -q 'Socket errors' <<<"$out"; then
        echo "socket errors on $path:" >&2
        grep 'Socket errors' <<<"$out" >&2
    fi
    awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '
        / requests in / {n = $1}
        /^Requests\/sec:/ {rps = $2}
        END {printf "%.0f %.2f\n", rps, ticks / hz * 1e6 / n}' <<<"$out"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# The lowest and highest of the middle half (the interquartile range, nearest-rank) of the
# numbers on stdin, as "low–high": how far one run's rounds spread.
quartiles() {
    sort -g | awk '{a[NR]=$1} END {lo=int((NR+3)/4); hi=NR+1-lo; printf "%s–%s", a[lo], a[hi]}'
}

declare -A RESULT
measure() {
    local name=$1
    shift
    start_host "$@"
    local body_len
    body_len=$(make_script)
    # Warm-up (connections, caches, CPU frequency).
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d1s -s "$WORK/post.lua" "$BASE/bench/parse-only" >/dev/null
    local parse=() verify=() ratios=() parse_cpu=() verify_cpu=() p v pc vc
    for round in $(seq 1 "$ROUNDS"); do
        # Alternate which endpoint goes first, so that a drift in machine load during a round
        # does not always favour the same one.
        if ((round % 2)); then
            read -r p pc < <(run_wrk /bench/parse-only)
            read -r v vc < <(run_wrk /api/plugins/stock-tools/actions/transfer)
        else
            read -r v vc < <(run_wrk /api/plugins/stock-tools/actions/transfer)
            read -r p pc < <(run_wrk /bench/parse-only)
        fi
        parse+=("$p")
        verify+=("$v")
        parse_cpu+=("$pc")
        verify_cpu+=("$vc")
        ratios+=("$(ratio "$v" "$p")")
    done
    stop_host
    RESULT[$name.parse]=$(printf '%s\n' "${parse[@]}" | median)
    RESULT[$name.verify]=$(printf '%s\n' "${verify[@]}" | median)
    # Each round measures both endpoints back to back, so the per-round ratio is the least
    # disturbed by load from other programs; report its median.
    RESULT[$name.ratio]=$(printf '%s\n' "${ratios[@]}" | median)
    RESULT[$name.spread]=$(printf '%s\n' "${ratios[@]}" | quartiles)
    RESULT[$name.ratios]="${ratios[*]}"
    RESULT[$name.parse_cpu]=$(printf '%s\n' "${parse_cpu[@]}" | median)
    RESULT[$name.verify_cpu]=$(printf '%s\n' "${verify_cpu[@]}" | median)
    printf '%-28s body %4d B  parse-only: %s  tessera: %s   (req/s per round)\n' \
        "$name" "$body_len" "${parse[*]}" "${verify[*]}" >&2
}

echo "tessera-demo HTTP benchmark: $(nproc) cores, wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION x $ROUNDS rounds (median), key $KEY_ALG" >&2
measure "1 worker x 1 thread" --workers 1 --threads 1
measure "$WORKERS workers x 1 thread" --workers "$WORKERS" --threads 1
measure "1 worker x $WORKERS threads" --workers 1 --threads "$WORKERS"

echo
echo "| configuration | parse-only req/s | tessera req/s | tessera / parse-only (median of rounds) | middle half of the rounds | goal >= 0.90 | host CPU µs/request: parse-only, tessera (difference) |"
echo "|---|---:|---:|---:|---:|---|---|"
for name in "1 worker x 1 thread" "$WORKERS workers x 1 thread" "1 worker x $WORKERS threads"; do
    r=${RESULT[$name.ratio]}
    goal=$(awk -v r="$r" 'BEGIN {print (r >= 0.90) ? "met" : "not met"}')
    printf '| %s | %.0f | %.0f | %.3f | %s | %s | %.2f, %.2f (%s) |\n' "$name" \
        "${RESULT[$name.parse]}" "${RESULT[$name.verify]}" "$r" "${RESULT[$name.spread]}" "$goal" \
        "${RESULT[$name.parse_cpu]}" \
        "${RESULT[$name.verify_cpu]}" \
        "$(awk -v a="${RESULT[$name.verify_cpu]}" -v b="${RESULT[$name.parse_cpu]}" 'BEGIN {printf "%+.2f", a - b}')"
done
echo
for name in "1 worker x 1 thread" "$WORKERS workers x 1 thread" "1 worker x $WORKERS threads"; do
    printf '%-28s tessera / parse-only per round: %s\n' "$name" "${RESULT[$name.ratios]}"
done

# Processes vs threads, on the verified endpoint: both hosts run at once (sharing the key
# file, so one token works on both) and the rounds alternate between them, so that a drift in
# machine load between two configurations measured minutes apart does not decide.
start_host --workers "$WORKERS" --threads 1
PROCS_PID=$HOST_PID PROCS_BASE=$BASE
OTHER_PIDS+=("$PROCS_PID")
HOST_PID=""
start_host --workers 1 --threads "$WORKERS"
THREADS_PID=$HOST_PID THREADS_BASE=$BASE
make_script >/dev/null
pt_ratios=()
for round in $(seq 1 "$ROUNDS"); do
    for side in procs threads; do
        if ((round % 2 == 0)); then side=$([[ $side == procs ]] && echo threads || echo procs); fi
        if [[ $side == procs ]]; then HOST_PID=$PROCS_PID BASE=$PROCS_BASE; else HOST_PID=$THREADS_PID BASE=$THREADS_BASE; fi
        read -r rps _ < <(run_wrk /api/plugins/stock-tools/actions/transfer)
        if [[ $side == procs ]]; then procs=$rps; else threads=$rps; fi
    done
    pt_ratios+=("$(ratio "$procs" "$threads")")
done
HOST_PID=$THREADS_PID
stop_host
kill -TERM "$PROCS_PID" && wait "$PROCS_PID" || true
OTHER_PIDS=()
echo
echo "tessera, $WORKERS processes / 1 process with $WORKERS threads (both running, rounds alternating, median): $(printf '%s\n' "${pt_ratios[@]}" | median)   per round: ${pt_ratios[*]}"
