#!/usr/bin/env bash
# Proof that the story scenarios bite: each patch here puts one of the
# original bugs of SCENARIOS.md back into a scratch copy of keel; the matching
# keel-sim scenario must then fail, and the stall watchdog must name the
# stall. A patch's header gives the scenario's arguments ("scenario: ...")
# and the watchdog kind expected ("expect: ..."). Exits non-zero if any
# mutation survives, or if a patch no longer applies.
# Usage: tests/mutations/run.sh [PATCH...]
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
patches=("$@")
[ ${#patches[@]} -gt 0 ] || patches=("$top"/tests/mutations/*.patch)

passed=0
failed=0
for patch in "${patches[@]}"; do
    name=$(basename "$patch" .patch)
    args=$(sed -n 's/^scenario: //p' "$patch")
    expect=$(sed -n 's/^expect: //p' "$patch")
    copy="$scratch/$name"
    mkdir -p "$copy"
    (cd "$top" && git ls-files -z | xargs -0 cp --parents -t "$copy")
    if ! (cd "$copy" && patch -p1 --quiet --forward < "$patch"); then
        echo "MUTATION $name: the patch no longer applies"
        failed=$((failed + 1))
        continue
    fi
    if ! (cmake -S "$copy" -B "$copy/build" -DCMAKE_BUILD_TYPE=Release >/dev/null &&
          cmake --build "$copy/build" -j2 --target keel-sim >/dev/null); then
        echo "MUTATION $name: the mutated copy does not build"
        failed=$((failed + 1))
        continue
    fi
    # shellcheck disable=SC2086
    "$copy/build/keel-sim" $args >"$copy/out.txt" 2>&1
    rc=$?
    named=no
    grep -q -e "keel watchdog: $expect " -e "watchdog:.* $expect=" "$copy/out.txt" && named=yes
    if [ "$rc" -ne 0 ] && [ "$named" = yes ]; then
        echo "MUTATION $name: caught (keel-sim $args failed with $rc; the watchdog named $expect)"
        passed=$((passed + 1))
    else
        echo "MUTATION $name: SURVIVED (keel-sim $args exited $rc; watchdog named $expect: $named)"
        tail -5 "$copy/out.txt"
        failed=$((failed + 1))
    fi
    rm -rf "$copy"
done
echo "mutations: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
