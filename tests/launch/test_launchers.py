"""The launch/ scripts in their dry-run mode (DRY_RUN=1: print the commands, run nothing)."""

import os
import subprocess

import pytest
import yaml

from tests.training.tiny import ROOT

LAUNCH = ROOT / "launch"
SCRIPTS = ("ray_slurm.sbatch", "ray_tpu_pod.sh", "ray_kubernetes.sh", "slurm_gpu.sbatch",
           "tpu_vm_pod.sh")


def _dry_run(script: str, *args: str, **env: str) -> list[str]:
    result = subprocess.run(["bash", str(LAUNCH / script), *args], cwd=ROOT, text=True,
                            capture_output=True, timeout=60,
                            env={**os.environ, "DRY_RUN": "1", **env})
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_parse_and_need_their_arguments(script):
    assert subprocess.run(["bash", "-n", str(LAUNCH / script)]).returncode == 0
    result = subprocess.run(["bash", str(LAUNCH / script)], capture_output=True, text=True,
                            env={**os.environ, "DRY_RUN": "1"}, timeout=60)
    assert result.returncode == 2 and result.stderr.startswith("usage:")


def test_slurm_starts_the_head_then_one_worker_per_node_then_the_sweep():
    lines = _dry_run("ray_slurm.sbatch", "configs/bigwae_celeba.py", "/shared/w", "--dry_run",
                     NODES="gpu1 gpu2 gpu3", SLURM_CPUS_PER_TASK="32", SLURM_GPUS_PER_NODE="8")
    starts = [line for line in lines if " ray start " in line]
    assert starts[0].startswith("srun --nodes=1 --ntasks=1 -w gpu1 ray start --head")
    assert "--num-cpus=32 --num-gpus=8" in starts[0] and starts[0].endswith("&")
    assert [line.split(" -w ")[1].split()[0] for line in starts[1:]] == ["gpu2", "gpu3"]
    assert all("--address=gpu1:6379" in line for line in starts[1:])
    assert lines[-1] == ("python -m wae_jax.sweep --config=configs/bigwae_celeba.py "
                         "--workdir=/shared/w --address=gpu1:6379 --dry_run")


def test_tpu_pod_installs_starts_ray_on_every_worker_and_sweeps_from_worker_0():
    lines = _dry_run("ray_tpu_pod.sh", "my-tpu", "us-central2-b", "configs/bigwae_celeba.py",
                     "/mnt/sweeps/w")
    assert all(line.startswith("gcloud compute tpus tpu-vm ") for line in lines)
    assert "--worker=all" in lines[1] and ".[sweep]" in lines[1]
    assert "--worker=0" in lines[2] and "ray start --head" in lines[2]
    assert "--worker=all" in lines[3] and "ray start --address=HEAD_IP:6379" in lines[3]
    assert "--worker=0" in lines[4] and ("python -m wae_jax.sweep --config=configs/bigwae_celeba.py "
                                         "--workdir=/mnt/sweeps/w --address=HEAD_IP:6379") in lines[4]


def test_kuberay_manifest_is_a_rayjob_running_the_sweep():
    lines = _dry_run("ray_kubernetes.sh", "bigwae", "registry/wae_jax:1", "sweeps-pvc",
                     "configs/bigwae_mnist.py:small", "--num_cpus=4", WORKERS="3", GPUS="4")
    manifest_text, commands = "\n".join(lines).split("\n---\n")
    job = yaml.safe_load(manifest_text)
    assert job["kind"] == "RayJob" and job["metadata"]["name"] == "bigwae"
    assert job["spec"]["entrypoint"] == (
        "python -m wae_jax.sweep --config=configs/bigwae_mnist.py:small "
        "--workdir=/sweeps/bigwae --address=auto --num_cpus=4")
    cluster = job["spec"]["rayClusterSpec"]
    (workers,) = cluster["workerGroupSpecs"]
    assert workers["replicas"] == 3
    container = workers["template"]["spec"]["containers"][0]
    assert container["image"] == "registry/wae_jax:1"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "4"
    for spec in (workers["template"]["spec"], cluster["headGroupSpec"]["template"]["spec"]):
        assert spec["volumes"][0]["persistentVolumeClaim"]["claimName"] == "sweeps-pvc"
    assert "kubectl apply -f -" in commands and "rayjob/bigwae" in commands
