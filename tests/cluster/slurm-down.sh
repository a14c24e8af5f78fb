#!/usr/bin/env bash
# Stop the one-node SLURM cluster started by tests/cluster/slurm-up.sh.
#
#   bash tests/cluster/slurm-down.sh [--keep-munge]
#
# Cancels the cluster's jobs, then stops slurmd, slurmctld and (if slurm-up.sh started
# it) munged, each by the PID in its PID file -- never by process name. A PID is only
# signalled if /proc/PID/comm still names the expected daemon (guards against reuse).
# Safe to run when nothing is up. Exits non-zero only if a daemon refuses to die.
set -uo pipefail

KEEP_MUNGE=0
[[ "${1:-}" == "--keep-munge" ]] && KEEP_MUNGE=1

POINTER=/etc/slurm/itscale-slurm.dir
if [[ -n "${ITSCALE_SLURM_DIR:-}" ]]; then
    STATE_DIR=$ITSCALE_SLURM_DIR
elif [[ -s $POINTER ]]; then
    STATE_DIR=$(head -n1 "$POINTER")
else
    STATE_DIR=/tmp/itscale-slurm
fi
export PATH="$PATH:/usr/sbin:/sbin"

log() { printf '[slurm-down] %s\n' "$*"; }

# True if PID $1 is a live (non-zombie) process whose comm is $2. PID 1 here may
# reap orphaned daemons lazily, so a zombie counts as stopped.
running() {
    local pid=$1 name=$2 stat
    [[ -r "/proc/$pid/stat" ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    # /proc/PID/stat is "pid (comm) state ..."; comm may contain spaces or ')'.
    [[ "${stat#*(}" == "$name) "* ]] || return 1
    [[ "${stat##*) }" != Z* ]]
}

# Echo the PID in file $1 if that process is alive and its comm is $2.
live_pid() {
    local pidfile=$1 name=$2 pid
    [[ -s "$pidfile" ]] || return 1
    pid=$(tr -dc '0-9' <"$pidfile")
    [[ -n "$pid" ]] && running "$pid" "$name" || return 1
    echo "$pid"
}

# stop PIDFILE NAME: SIGTERM, wait up to 20 s, then SIGKILL.
rc=0
stop() {
    local pidfile=$1 name=$2 pid
    if ! pid=$(live_pid "$pidfile" "$name"); then
        log "$name not running"
        rm -f "$pidfile"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 200); do
        running "$pid" "$name" || break
        sleep 0.1
    done
    if running "$pid" "$name"; then
        log "$name (pid $pid) ignored SIGTERM for 20 s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null
        for _ in $(seq 50); do
            running "$pid" "$name" || break
            sleep 0.1
        done
    fi
    if running "$pid" "$name"; then
        log "ERROR: $name (pid $pid) is still running"
        rc=1
    else
        log "stopped $name (pid $pid)"
        rm -f "$pidfile"
    fi
}

# Cancel every job on this (private, test-only) cluster first, so no slurmstepd is
# left behind when slurmd goes away.
if live_pid "$STATE_DIR/run/slurmctld.pid" slurmctld >/dev/null; then
    jobs=$(squeue -h -o '%i' 2>/dev/null | tr '\n' ' ')
    if [[ -n "${jobs// /}" ]]; then
        log "cancelling jobs: $jobs"
        # shellcheck disable=SC2086
        scancel $jobs 2>/dev/null || true
        for _ in $(seq 60); do
            [[ -z "$(squeue -h -t running,completing -o '%i' 2>/dev/null)" ]] && break
            sleep 0.5
        done
    fi
fi

stop "$STATE_DIR/run/slurmd.pid" slurmd
stop "$STATE_DIR/run/slurmctld.pid" slurmctld

if [[ $KEEP_MUNGE -eq 0 ]]; then
    if [[ -s "$STATE_DIR/run/munged.ours" ]]; then
        ours=$(tr -dc '0-9' <"$STATE_DIR/run/munged.ours")
        cur=$(tr -dc '0-9' </run/munge/munged.pid 2>/dev/null || true)
        if [[ -n "$ours" && "$ours" == "$cur" ]]; then
            stop /run/munge/munged.pid munged
        else
            log "munged pid file does not match the one slurm-up.sh started; leaving munged alone"
        fi
        rm -f "$STATE_DIR/run/munged.ours"
    else
        log "munged was not started by slurm-up.sh; leaving it alone"
    fi
fi
exit $rc
