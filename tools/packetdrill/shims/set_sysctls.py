#!/bin/sh
# Stands in for the suite's common/set_sysctls.py: records each
# /proc/sys/net/ipv4/NAME=VALUE as net.ipv4.NAME=VALUE in $KEEL_PD_SYSCTLS
# and leaves an empty restore script where the scripts expect one.
for arg in "$@"; do
    case "$arg" in
    /proc/sys/*=*)
        name=${arg%%=*}
        value=${arg#*=}
        name=$(printf '%s' "${name#/proc/sys/}" | tr / .)
        [ -n "$KEEL_PD_SYSCTLS" ] && printf '%s=%s\n' "$name" "$value" >> "$KEEL_PD_SYSCTLS"
        ;;
    esac
done
restore="/tmp/sysctl_restore_${PACKETDRILL_PID}.sh"
printf '#!/bin/sh\nexit 0\n' > "$restore"
chmod u+x "$restore"
# run-suite.sh removes it after the script.
[ -n "$KEEL_PD_SYSCTLS" ] && printf '%s\n' "$restore" >> "$KEEL_PD_SYSCTLS.cleanup"
exit 0
