#!/usr/bin/env bash
# Demonstrates the C reference consumer end to end and prints its JSON lines:
#   e2e poll and e2e busy on N getppid calls of a gated workload (plus busy with
#   BPF_RB_NO_WAKEUP, via --wakeup-bytes), then a drain of DRAIN_N burst events.
# Usage: bench/c/try.sh   (root; env N=2000000 DRAIN_N=5000000 RINGBUF_MB=16)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
N=${N:-2000000}
DRAIN_N=${DRAIN_N:-5000000}
RINGBUF_MB=${RINGBUF_MB:-16}
W=$ROOT/test/fixtures/build/workload
C=$ROOT/bench/build/consumer

make -s -C "$ROOT/test/fixtures"
make -s -C "$ROOT/bench/c"

tmp=$(mktemp -d)
wpid= cpid=
cleanup() {
	# only the processes this script started, by pid
	[ -n "$cpid" ] && kill "$cpid" 2>/dev/null || true
	[ -n "$wpid" ] && kill "$wpid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# e2e MODE [consumer options...]: one gated workload traced by one consumer.
e2e() {
	local mode=$1 line result
	shift
	rm -f "$tmp/gate"
	mkfifo "$tmp/gate"
	# The child blocks opening the fifo until we open its write end, then execs
	# the workload, which blocks until it reads a byte: $! is the workload's pid.
	"$W" getppid "$N" <"$tmp/gate" &
	wpid=$!
	exec 3>"$tmp/gate"
	coproc CONSUMER { exec "$C" e2e --pid "$wpid" --events "$N" --mode "$mode" \
		--ringbuf-mb "$RINGBUF_MB" "$@" 3>&-; }
	cpid=$CONSUMER_PID
	# bash unsets CONSUMER (and closes its fds) once the coprocess exits: keep a copy
	exec 4<&"${CONSUMER[0]}"
	if ! read -r -t 30 line <&4 || [ "$line" != '{"ready":true}' ]; then
		echo "try.sh: consumer did not get ready (got: ${line:-nothing})" >&2
		exit 1
	fi
	printf 'g' >&3 # go
	exec 3>&-
	read -r -t 120 result <&4 || { echo "try.sh: no result from consumer" >&2; exit 1; }
	exec 4<&-
	wait "$cpid" || { echo "try.sh: consumer failed" >&2; exit 1; }
	cpid=
	wait "$wpid" || { echo "try.sh: workload failed" >&2; exit 1; }
	wpid=
	echo "$result"
}

e2e poll
e2e busy
e2e busy --wakeup-bytes $((1 << 40)) # always BPF_RB_NO_WAKEUP
"$C" drain --events "$DRAIN_N"

# Nothing of ours may stay loaded: our processes have exited, so any program
# named on_tracepoint or burst listed now belongs to someone else (see its pids).
sleep 0.2 # program freeing happens after an RCU grace period
left=$(bpftool prog show 2>/dev/null | grep -E '^[0-9]+: .* name (on_tracepoint|burst) ' -A4 || true)
if [ -n "$left" ]; then
	echo "try.sh: still loaded (not by this script's processes, which have exited):" >&2
	echo "$left" >&2
else
	echo "try.sh: no on_tracepoint/burst program left loaded" >&2
fi
