#!/usr/bin/env bash
# A Ray cluster over a Cloud TPU VM pod slice (the head on worker 0, every other worker
# joining it), then one sweep on it from worker 0:
#
#   launch/ray_tpu_pod.sh TPU_NAME ZONE configs/bigwae_celeba.py gs-fuse-or-nfs/sweeps/bigwae
#   DRY_RUN=1 launch/ray_tpu_pod.sh TPU_NAME ZONE CONFIG WORKDIR   # print the commands only
#
# Ray finds each host's TPU chips itself (the "TPU" resource); a trial asks for whole chips
# (space.Resources(tpu=N) in the config's get_sweep) and Ray sets TPU_VISIBLE_CHIPS for it.
# The workdir must be a file system every worker sees (NFS, or a bucket mounted with
# gcsfuse): the trials' checkpoints, the shared compilation cache and the report live there.
# This is for sweeps of many models; one model over the whole slice is launch/tpu_vm_pod.sh.
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: $0 TPU_NAME ZONE CONFIG WORKDIR [--sweep_flag=value ...]" >&2
  exit 2
fi
tpu=$1 zone=$2 config=$3 workdir=$4
shift 4
port=${RAY_PORT:-6379}
repo=$(cd "$(dirname "$0")/.." && pwd)

run() {  # the command, or its text under DRY_RUN
  if [ -n "${DRY_RUN:-}" ]; then echo "$*"; else "$@"; fi
}

if [ -n "${DRY_RUN:-}" ]; then
  head_ip=HEAD_IP
else
  head_ip=$(gcloud compute tpus tpu-vm describe "$tpu" --zone="$zone" \
    --format='value(networkEndpoints[0].ipAddress)')
fi
setup="cd ~/wae_jax_src && pip install -q 'jax[tpu]>=0.10,<0.11' && pip install -q -e '.[sweep]'"
run gcloud compute tpus tpu-vm scp --recurse --zone="$zone" --worker=all "$repo" "$tpu":~/wae_jax_src
run gcloud compute tpus tpu-vm ssh "$tpu" --zone="$zone" --worker=all --command "$setup"
run gcloud compute tpus tpu-vm ssh "$tpu" --zone="$zone" --worker=0 \
  --command "ray start --head --port=$port --include-dashboard=false"
run gcloud compute tpus tpu-vm ssh "$tpu" --zone="$zone" --worker=all \
  --command "[ \"\$(hostname -I | awk '{print \$1}')\" = $head_ip ] || ray start --address=$head_ip:$port"
run gcloud compute tpus tpu-vm ssh "$tpu" --zone="$zone" --worker=0 --command \
  "cd ~/wae_jax_src && python -m wae_jax.sweep --config=$config --workdir=$workdir --address=$head_ip:$port $*"
