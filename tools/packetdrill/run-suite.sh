#!/bin/bash
# Runs packetdrill scripts against keel (libkeel-packetdrill.so), IPv4 only,
# the way the upstream suite runs them (packetdrill's run_all.py: cwd = the
# script's directory, its IPv4 addresses and defines, *v6.pkt skipped), with
# a timing tolerance of 20 ms.
#
#   tools/packetdrill/run-suite.sh [--so PATH] [--exclude DIR]... [--keep DIR]
#                                  [--common DIR] [--verbose] PACKETDRILL SCRIPT_DIR
#
# --common gives the helpers' directory (packetdrill's gtests/net/common)
# for scripts kept outside packetdrill's tree, such as keel's own
# (tests/packetdrill); by default it is SCRIPT_DIR/../common.
#
# Prints one line per script (PASS, FAIL or SKIP, with the first error line)
# and a summary "N passed, N failed". Exit status 0 when nothing failed.
# Use a build without KEEL_SANITIZE: the object is also preloaded into
# packetdrill (for %{ }% TCP_INFO reads), which ASan's runtime refuses.
#
# The host is never configured: the scripts run from a scratch copy whose
# sysctl, ip, tc and ethtool commands and common/set_sysctls.py are shims
# (tools/packetdrill/shims) that record the settings for keel instead, and
# whose direct writes to /proc/sys or /sys are sent to /dev/null. Their reads
# of /proc/net/tcp and tcp6 go to files the object writes from keel's
# sockets before each command a script runs (tools/packetdrill/procnet.c).
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
so="${KEEL_PD_SO:-$repo/build/libkeel-packetdrill.so}"
excludes=()
keep=""
common=""
verbose=0
tolerance=20000

usage() {
    sed -n '7,12p' "$0" | cut -c2- >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --so) so=$2; shift 2 ;;
    --exclude) excludes+=("$2"); shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --common) common=$2; shift 2 ;;
    --verbose) verbose=1; shift ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) break ;;
    esac
done
[ $# -eq 2 ] || usage
packetdrill=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
suite=$(cd "$2" && pwd)
so=$(cd "$(dirname "$so")" && pwd)/$(basename "$so")
[ -x "$packetdrill" ] || { echo "no packetdrill binary at $1" >&2; exit 2; }
[ -f "$so" ] || { echo "no shared object at $so (build keel first, or give --so)" >&2; exit 2; }

work=$(mktemp -d /tmp/keel-pd.XXXXXX)
trap '[ -z "$keep" ] && rm -rf "$work"' EXIT
# The scripts reach their helpers as ../common and ../../common: copy the
# directory and its sibling common/ (-L: tcp/common/defaults.sh is a link).
mkdir -p "$work/root"
cp -rL "$suite" "$work/root/"
[ -n "$common" ] || common="$suite/../common"
[ -d "$common" ] && [ "$(basename "$suite")" != common ] &&
    cp -rL "$common" "$work/root/common"
tree="$work/root/$(basename "$suite")"
# The suite's helpers: set_sysctls.py becomes the shim; defaults.sh stays,
# its sysctl/ip/tc commands resolve to the shims on PATH.
find "$work/root" -name set_sysctls.py -exec cp "$here/shims/set_sysctls.py" {} \;
# Shell redirections into kernel settings go nowhere.
find "$work/root" -name '*.pkt' -exec sed -i -E \
    's#>[[:space:]]*/(proc/sys|sys)/[^[:space:]`]*#> /dev/null#g' {} +
# The host's socket table is not keel's: /proc/net/tcp{,6} become keel's.
proc_net="$work/proc_net"
mkdir -p "$proc_net"
find "$work/root" -name '*.pkt' -exec sed -i -E "s#/proc/net/tcp(6?)\\b#$proc_net/tcp\\1#g" {} +

export PATH="$here/shims:$PATH"
export LD_PRELOAD="$so${LD_PRELOAD:+:$LD_PRELOAD}" # for %{ }% TCP_INFO reads

excluded() {
    local rel=$1 d
    for d in "${excludes[@]+"${excludes[@]}"}"; do
        d=${d%/}
        case "$rel" in "$d"/*) return 0 ;; esac
    done
    return 1
}

# The first line that says what went wrong (with the failed assertion of
# a %{ }% block, which packetdrill reports only as "error in Python code").
first_error() {
    local line assertion
    line=$(grep -m1 -E 'error|Error|keel-packetdrill|assert|Traceback|timing' "$1" ||
        grep -m1 -v '^[[:space:]]*$' "$1" || echo "exit status $2")
    assertion=$(grep -m1 '^AssertionError' "$1")
    echo "$line${assertion:+ ($assertion)}"
}

pass=0
fail=0
skip=0
while IFS= read -r script; do
    rel=${script#"$tree/"}
    excluded "$rel" && continue
    if [[ "$rel" == *v6.pkt ]]; then
        echo "SKIP $rel: IPv6 only"
        skip=$((skip + 1))
        continue
    fi
    sysctls="$work/sysctls.$((pass + fail))"
    : > "$sysctls"
    out="$work/out.txt"
    (
        cd "$(dirname "$script")" &&
            KEEL_PD_SYSCTLS="$sysctls" timeout 120 "$packetdrill" \
                --so_filename="$so" \
                --so_flags="local_ip=198.18.0.1,sysctls=$sysctls,proc_net=$proc_net" \
                --ip_version=ipv4 --local_ip=198.18.0.1 --gateway_ip=198.18.0.1 \
                --netmask_ip=255.254.0.0 --remote_ip=192.0.2.1 \
                -D TFO_COOKIE=3021b9d889017eeb -D CODE=host_unreachable \
                -D CMSG_LEVEL_IP=SOL_IP -D CMSG_TYPE_RECVERR=IP_RECVERR \
                --send_omit_free --tolerance_usecs=$tolerance \
                "$(basename "$script")"
    ) > "$out" 2>&1
    status=$?
    [ -f "$sysctls.cleanup" ] && xargs rm -f < "$sysctls.cleanup"
    if [ $status -eq 0 ]; then
        echo "PASS $rel"
        pass=$((pass + 1))
    else
        echo "FAIL $rel: $(first_error "$out" $status | cut -c1-300)"
        fail=$((fail + 1))
    fi
    if [ $verbose -eq 1 ] && [ $status -ne 0 ]; then
        sed 's/^/    /' "$out"
    fi
    [ -n "$keep" ] && mkdir -p "$keep/$(dirname "$rel")" && cp "$out" "$keep/$rel.log"
done < <(find "$tree" -name '*.pkt' | sort)

if [ $skip -gt 0 ]; then
    echo "$pass passed, $fail failed ($skip skipped)"
else
    echo "$pass passed, $fail failed"
fi
[ $fail -eq 0 ]
