#!/usr/bin/env bash
# One sweep on Kubernetes with KubeRay (the operator must be installed): fills in
# launch/kuberay/rayjob.yaml, applies it and follows the job's log.
#
#   launch/ray_kubernetes.sh NAME IMAGE CLAIM CONFIG [--sweep_flag=value ...]
#   DRY_RUN=1 launch/ray_kubernetes.sh bigwae my-registry/wae_jax:sweep sweeps-pvc \
#     configs/bigwae_celeba.py   # print the manifest and the commands only
#
# NAME names the RayJob and the workdir /sweeps/NAME on the volume claim CLAIM (ReadWriteMany,
# mounted by every pod). WORKERS (default 2) GPU workers of GPUS (default 8) GPUs each.
# Applying the same NAME again resumes the sweep from the volume.
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: $0 NAME IMAGE CLAIM CONFIG [--sweep_flag=value ...]" >&2
  exit 2
fi
name=$1 image=$2 claim=$3 config=$4
shift 4
manifest=$(sed -e "s|@NAME@|$name|g" -e "s|@IMAGE@|$image|g" -e "s|@CLAIM@|$claim|g" \
  -e "s|@CONFIG@|$config|g" -e "s|@FLAGS@|$*|g" -e "s|@WORKERS@|${WORKERS:-2}|g" \
  -e "s|@GPUS@|${GPUS:-8}|g" "$(dirname "$0")/kuberay/rayjob.yaml")
if [ -n "${DRY_RUN:-}" ]; then
  echo "$manifest"
  echo "---"
  echo "# kubectl apply -f - (the manifest above)"
  echo "# kubectl wait --for=jsonpath='{.status.jobDeploymentStatus}'=Running rayjob/$name --timeout=30m"
  echo "# kubectl logs -f -l job-name=$name"
  exit 0
fi
echo "$manifest" | kubectl apply -f -
kubectl wait --for=jsonpath='{.status.jobDeploymentStatus}'=Running "rayjob/$name" --timeout=30m
kubectl logs -f -l "job-name=$name"
