#!/usr/bin/env bash
# Starts (or keeps) a one-node Slurm cluster on this machine, for the Slurm executor's tests and for
# developers who want to try `--executor slurm` without a real cluster. Needs root and Debian's
# `slurm-wlm` and `munge` (installed when missing and apt is available).
#
#   ci/slurm/start.sh      # idempotent: a healthy cluster is left alone, a stale one restarted
#   ci/slurm/stop.sh       # stops it again
#
# Everything it writes lives in $PIPELINE_SLURM_DIR (default /var/tmp/pipeline-slurm): slurm.conf,
# state, spool, logs and pid files. Slurm's client commands find the configuration through
# /etc/slurm/slurm.conf, which is made a symlink to that file when no other slurm.conf is there;
# otherwise export SLURM_CONF=$PIPELINE_SLURM_DIR/slurm.conf (the last line printed says which).
set -euo pipefail

dir=${PIPELINE_SLURM_DIR:-/var/tmp/pipeline-slurm}
conf=$dir/slurm.conf
system_conf=/etc/slurm/slurm.conf

die() { echo "ci/slurm/start.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (it starts munged, slurmctld and slurmd)"

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  command -v apt-get >/dev/null || die "slurmctld/munged missing and no apt-get: install slurm-wlm and munge"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

# --- munge: the key, then the daemon (only when no munged answers yet) ---------------------------
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  mungekey --create --keyfile=/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
fi
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  install -d -o munge -g munge -m 0755 /run/munge
  runuser -u munge -- munged
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n | unmunge >/dev/null || die "munged does not answer (see /var/log/munge/munged.log)"
fi

# --- slurm.conf, from this machine's real CPUs and memory ------------------------------------
# `slurmd -C` prints the node line exactly as slurmd will register it (CPUs, sockets, cores,
# threads, RealMemory in MB); a node declared bigger than it is would be drained.
node_line=$(slurmd -C | head -n 1)
node=$(sed -E 's/^NodeName=([^ ]+).*/\1/' <<<"$node_line")
cpus=$(sed -E 's/.* CPUs=([0-9]+).*/\1/' <<<"$node_line")
mkdir -p "$dir/state" "$dir/spool" "$dir/log"
new_conf=$(cat <<CONF
# Written by ci/slurm/start.sh: a one-node cluster on 127.0.0.1 for the pipeline's Slurm executor.
ClusterName=pipeline
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
# Start a job as soon as resources free up (the default waits up to 3 s to batch job starts).
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
# Cores and memory are the consumable resources: --mem is checked against RealMemory.
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
# Finished jobs stay visible to squeue for an hour (status works without accounting).
MinJobAge=3600
# Time limits are enforced as soon as they pass, and the kill does not linger.
OverTimeLimit=0
KillWait=2
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
MpiDefault=none
$(sed -E "s/^NodeName=[^ ]+/NodeName=$node NodeAddr=127.0.0.1/" <<<"$node_line") State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=1-00:00:00 State=UP
CONF
)

link_system_conf() {
  mkdir -p /etc/slurm
  if [ ! -e "$system_conf" ] || [ "$(readlink "$system_conf" || true)" = "$conf" ]; then
    ln -sfn "$conf" "$system_conf"
    echo "slurm: $node up ($cpus CPUs); client commands use $system_conf -> $conf"
  else
    echo "slurm: $node up ($cpus CPUs); $system_conf is someone else's: export SLURM_CONF=$conf"
  fi
}

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
answers() { SLURM_CONF=$conf timeout 5 sinfo -h -n "$node" -o %T 2>/dev/null; }

# --- idempotence: same configuration, both daemons alive and the node usable => nothing to do ---
if [ -f "$conf" ] && [ "$(cat "$conf")" = "$new_conf" ] \
  && alive "$dir/slurmctld.pid" && alive "$dir/slurmd.pid" \
  && grep -Eq '^(idle|mixed|allocated|completing)' <<<"$(answers)"; then
  link_system_conf
  exit 0
fi

# --- (re)start: stop what a previous start left behind, then both daemons --------------------
for daemon in slurmd slurmctld; do
  if alive "$dir/$daemon.pid"; then
    pid=$(cat "$dir/$daemon.pid")
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$dir/$daemon.pid"
done
printf '%s\n' "$new_conf" >"$conf"
slurmctld -f "$conf"
slurmd -f "$conf"

# The node registers within a few seconds; a node left DOWN/DRAIN by an earlier run is resumed.
state=""
for i in $(seq 150); do
  state=$(answers || true)
  case "$state" in
    idle*|mixed*|allocated*) break ;;
    down*|drain*) [ $((i % 10)) = 0 ] && SLURM_CONF=$conf scontrol update NodeName="$node" State=RESUME 2>/dev/null || true ;;
  esac
  sleep 0.2
done
case "$state" in
  idle*|mixed*|allocated*) ;;
  *) die "node $node is '${state:-not answering}' after 30 s; see $dir/log/slurmctld.log and $dir/log/slurmd.log" ;;
esac
link_system_conf
