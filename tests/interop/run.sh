#!/usr/bin/env bash
# Interop tests: keel (tools/keel-tun) on one side of a TUN device, the Linux
# kernel on the other, each test in its own network namespace.
#
#   tests/interop/run.sh [NAME...]      (root; KEEL_TUN=path/to/keel-tun, default
#                                        build/keel-tun)
#
# Prints one line per test (PASS, FAIL or SKIP with the reason) and closes
# with "N passed, N failed, N skipped". Exits 1 if a test failed. Logs and
# captures stay in the work directory when something failed.
set -u
cd "$(dirname "$0")"
HERE=$(pwd)

export KEEL_TUN=${KEEL_TUN:-$HERE/../../build/keel-tun}
export KT_RUN=$$
export KT_WORK=$(mktemp -d /tmp/keel-interop.XXXXXX)
export KT_PCAPS=$KT_WORK/pcap
mkdir -p "$KT_PCAPS"

# name, time limit (s), script and its arguments
TESTS=(
    "errors          30  errors.sh"
    "http_1g         150 http_1g.sh"
    "http_clients    60  http_clients.sh"
    "kernel_server   120 kernel_server.sh"
    "zero_window     60  zero_window.sh"
    "many_server     120 many_server.sh"
    "many_client     120 many_client.sh"
    "netem_loss      120 lossy.sh netem loss"
    "netem_delay     120 lossy.sh netem delay"
    "netem_reorder   120 lossy.sh netem reorder"
    "impair_loss     120 lossy.sh impair loss"
    "impair_delay    120 lossy.sh impair delay"
    "impair_reorder  120 lossy.sh impair reorder"
    "tshark_verdict  120 tshark_verdict.sh"
)

# Namespaces of this run that a killed test could not remove.
sweep() {
    local ns p
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^kt$KT_RUN-"); do
        for p in $(ip netns pids "$ns" 2>/dev/null); do
            kill -9 "$p" 2>/dev/null
        done
        ip netns del "$ns" 2>/dev/null
    done
}
trap 'sweep' EXIT
trap 'exit 130' INT TERM

selected() {
    [ $# -eq 1 ] && return 0
    local want=$1 n
    shift
    for n in "$@"; do
        [ "$n" = "$want" ] && return 0
    done
    return 1
}

passed=0 failed=0 skipped=0
for entry in "${TESTS[@]}"; do
    read -r name limit script args <<<"$entry"
    selected "$name" "$@" || continue
    log=$KT_WORK/$name.log
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    TEST_NAME=$name timeout -k 5 "$limit" bash "$HERE/$script" $args >"$log" 2>&1
    rc=$?
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
    sweep
    verdict=$(grep -E "^(PASS|FAIL|SKIP) $name" "$log" | tail -1)
    if [ $rc = 124 ] || [ $rc = 137 ]; then
        verdict="FAIL $name: timed out after ${limit} s"
    elif [ -z "$verdict" ]; then
        verdict="FAIL $name: no verdict (exit $rc): $(tail -1 "$log")"
    elif [ $rc = 0 ] && [ "${verdict%% *}" != PASS ]; then
        verdict="FAIL $name: exit 0 without a PASS"
    fi
    case "$verdict" in
    PASS*) passed=$((passed + 1)); echo "PASS $name (${secs} s)${verdict#PASS $name}" ;;
    SKIP*) skipped=$((skipped + 1)); echo "$verdict" ;;
    *) failed=$((failed + 1)); echo "$verdict (log: $log)" ;;
    esac
done

echo "$passed passed, $failed failed, $skipped skipped"
if [ $failed -eq 0 ]; then
    rm -rf "$KT_WORK"
    exit 0
fi
echo "logs and captures: $KT_WORK"
exit 1
