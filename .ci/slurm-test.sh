#!/usr/bin/env bash
# `octopus sweep --slurm` on a real Slurm: a single-node cluster on this machine (Debian's munge,
# slurmctld and slurmd, with their files in a temporary directory and their own ports) runs
# examples/sweep_small.ron as a job array of 3 shards; `octopus sweep merge` of the shards' files
# must be byte-identical to a one-machine run. The daemons it starts are stopped by their pids.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

missing=0
for tool in munged slurmctld slurmd sbatch scontrol; do
    command -v "$tool" >/dev/null || missing=1
done
if [ "$missing" = 1 ]; then
    echo "slurm-test: installing Debian's munge, slurmctld and slurmd"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq munge slurmctld slurmd slurm-client >/dev/null
fi

cargo build --quiet --bin octopus
octopus="$PWD/target/debug/octopus"
work=$(mktemp -d /tmp/octopus-slurm.XXXXXX)
host=$(hostname -s)
cpus=$(nproc)

stop() {
    for pidfile in "$work/slurmd.pid" "$work/slurmctld.pid" "$work/munged.pid"; do
        if [ -s "$pidfile" ]; then
            kill "$(cat "$pidfile")" 2>/dev/null || true
        fi
    done
    sleep 1
}
fail() {
    echo "slurm-test: $*"
    for log in slurmctld slurmd munged; do
        [ -f "$work/$log.log" ] && { echo "--- $log.log"; tail -n 30 "$work/$log.log"; }
    done
    for log in "$work"/*.shard-*.log; do
        [ -f "$log" ] && { echo "--- $log"; tail -n 30 "$log"; }
    done
    exit 1
}
trap 'stop; rm -rf "$work"' EXIT

# munge: its own key, socket and files.
dd if=/dev/urandom of="$work/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge.key"
munged --force --key-file="$work/munge.key" --socket="$work/munge.sock" --pid-file="$work/munged.pid" \
    --log-file="$work/munged.log" --seed-file="$work/munged.seed" || fail "munged did not start"

mkdir -p "$work/state" "$work/spool"
cat >"$work/slurm.conf" <<CONF
ClusterName=octopusci
SlurmctldHost=$host
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge.sock
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$work/slurm.conf"
slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
for _ in $(seq 60); do
    scontrol show node "$host" 2>/dev/null | grep -qE "State=IDLE" && break
    sleep 1
done
scontrol show node "$host" | grep -qE "State=IDLE" || fail "the node did not come up"
echo "slurm-test: single-node Slurm up on $host ($cpus CPUs) after $((SECONDS - started)) s"

spec=examples/sweep_small.ron
"$octopus" sweep "$spec" --slurm --shards 3 --script "$work/sweep.sbatch" -o "$work/results.jsonl" \
    --sbatch=--time=00:05:00
timeout 240 sbatch --wait --quiet "$work/sweep.sbatch" || fail "the job array failed or timed out"
"$octopus" sweep merge "$spec" "$work"/results.shard-*-of-3.jsonl -o "$work/merged.jsonl"

"$octopus" sweep "$spec" -o "$work/one.jsonl" 2>/dev/null
cmp "$work/merged.jsonl" "$work/one.jsonl" || fail "the merged shards differ from a one-machine run"
echo "slurm-test: ok, $(wc -l <"$work/merged.jsonl") points merged from 3 array tasks, byte-identical to one run, in $((SECONDS - started)) s"
