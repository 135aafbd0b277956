#!/usr/bin/env bash
# Stops the one-node Slurm cluster started by ci/slurm/start.sh (slurmd, then slurmctld). munged is
# left running (other software may rely on it); its state and the configuration stay in
# $PIPELINE_SLURM_DIR for the next start.
set -euo pipefail
dir=${PIPELINE_SLURM_DIR:-/var/tmp/pipeline-slurm}
for daemon in slurmd slurmctld; do
  pidfile=$dir/$daemon.pid
  [ -s "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { echo "ci/slurm/stop.sh: $daemon ($pid) still running" >&2; exit 1; }
  fi
  rm -f "$pidfile"
done
echo "slurm: stopped"
