"""A Tune trainable for the GPU-packing test: waits until all trials run, then reports what
device each was given."""

from __future__ import annotations

import os
import time
from pathlib import Path

import ray
from ray import tune

from study.worker import assigned_device


def probe(config: dict, *, settings) -> None:
    folder = Path(config["folder"])
    (folder / f"{config['i']}.started").touch()
    deadline = time.monotonic() + 300  # Ray may take long to start four workers on a loaded machine
    while len(list(folder.glob("*.started"))) < config["expect"] and time.monotonic() < deadline:
        time.sleep(0.05)
    _, label = assigned_device(settings.gpus_per_trial)
    tune.report(
        {
            "together": len(list(folder.glob("*.started"))) >= config["expect"],
            "gpu_ids": [str(g) for g in ray.get_gpu_ids()],
            "device": label,
            "visible": os.environ.get("CUDA_VISIBLE_DEVICES", ""),
        }
    )
