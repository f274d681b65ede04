#!/usr/bin/env bash
# Runs one wae_jax training job on every worker of a Cloud TPU VM pod slice.
#
#   launch/tpu_vm_pod.sh TPU_NAME ZONE configs/celeba_mmd.py gs://BUCKET/workdirs/celeba_mmd [--config.field=value ...]
#
# Every worker runs the same command; --distributed lets jax.distributed.initialize find the
# pod's coordinator itself. The repo is copied to each worker and installed there first.
# The workdir must be reachable by every worker (a GCS path or a shared file system).
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: $0 TPU_NAME ZONE CONFIG WORKDIR [--config.field=value ...]" >&2
  exit 2
fi
tpu=$1 zone=$2 config=$3 workdir=$4
shift 4
repo=$(cd "$(dirname "$0")/.." && pwd)
gcloud compute tpus tpu-vm scp --recurse --zone="$zone" --worker=all "$repo" "$tpu":~/wae_jax_src
gcloud compute tpus tpu-vm ssh "$tpu" --zone="$zone" --worker=all --command "
  cd ~/wae_jax_src && pip install -q 'jax[tpu]>=0.10,<0.11' && pip install -q -e . &&
  python -m wae_jax.main --distributed --config=$config --workdir=$workdir $*"
