#!/usr/bin/env bash
# CI helper for the one-node SLURM test cluster (tests/cluster/).
#
#   bash .ci/slurm.sh up     # install (apt) + start; never fails CI: if the cluster
#                            # cannot start, the slurm-marked tests skip with a reason
#   bash .ci/slurm.sh down   # stop the daemons slurm-up started (by PID); never fails
#
# or source it and call `itscale_slurm_up` / `itscale_slurm_down`. It exports no
# variables. Typical use in .ci/run:
#
#   bash .ci/slurm.sh up
#   trap 'bash .ci/slurm.sh down' EXIT
#   python -m pytest ...
#
# Knobs (optional, passed through to slurm-up.sh): ITSCALE_SLURM_DIR,
# ITSCALE_SLURM_TIMEOUT, ITSCALE_SLURM_PARTITION, ITSCALE_SLURM_NO_INSTALL=1.
# Set ITSCALE_SLURM_STRICT=1 to make `up` fail when the cluster does not come up.

_itscale_slurm_root() {
    cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd
}

itscale_slurm_up() {
    local root rc
    root=$(_itscale_slurm_root)
    # Bounded: apt-get on a fresh machine plus daemon start; no stdin in CI.
    timeout -k 10 900 bash "$root/tests/cluster/slurm-up.sh" </dev/null
    rc=$?
    if [[ $rc -ne 0 ]]; then
        echo "[ci/slurm] SLURM test cluster did NOT start (exit $rc);" \
            "tests marked 'slurm' will be skipped with the reason." >&2
        [[ "${ITSCALE_SLURM_STRICT:-0}" == 1 ]] && return "$rc"
        return 0
    fi
    local py
    py=$(command -v python || command -v python3 || echo python3)
    if ! "$py" -c 'import snakemake_executor_plugin_slurm' 2>/dev/null; then
        echo "[ci/slurm] WARNING: snakemake-executor-plugin-slurm is not installed" \
            "(pip install -e '.[slurm]'); slurm tests will be skipped." >&2
    fi
    return 0
}

itscale_slurm_down() {
    local root
    root=$(_itscale_slurm_root)
    timeout -k 10 120 bash "$root/tests/cluster/slurm-down.sh" </dev/null \
        || echo "[ci/slurm] WARNING: slurm-down.sh reported a problem" >&2
    return 0
}

# Executed (not sourced): dispatch on the first argument.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    case "${1:-up}" in
    up) itscale_slurm_up ;;
    down) itscale_slurm_down ;;
    *)
        echo "usage: bash .ci/slurm.sh [up|down]" >&2
        exit 2
        ;;
    esac
fi
