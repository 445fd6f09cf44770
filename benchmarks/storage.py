"""Storage: what a study leaves in S3 (a local moto server) with --storage, and `banditune
analyze` reading the study from S3 against reading it from its folder.

Runs `banditune study --storage s3://studies/banditune` (an embedded Ray), lists the objects
under s3://studies/banditune/NAME, then times reading the study (`analysis.load.load_study`, in
this process) and the whole `banditune analyze` command on the S3 URI and on the local folder,
alternately, `--repeats` times each (medians).

    python benchmarks/storage.py [--trials 20] [--repeats 3] [--out /tmp/storage-bench]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

BANDITUNE = str(Path(sys.executable).with_name("banditune"))
BUCKET = "studies"


def moto(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(3)
    return server


def timed(command: list[str], env: dict) -> tuple[float, str]:
    start = time.monotonic()
    run = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return time.monotonic() - start, run.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="/tmp/storage-bench")
    args = parser.parse_args()
    import boto3

    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    env = dict(os.environ, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1")
    env["AWS_ENDPOINT_URL"] = endpoint
    server = moto(port)
    try:
        # moto's dummy keys, as the environment gives them to the study below
        keys = {k.lower(): env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        client = boto3.client("s3", endpoint_url=endpoint, **keys)
        client.create_bucket(Bucket=BUCKET)
        study = [
            BANDITUNE,
            "study",
            "--results",
            str(out),
            "--name",
            "bench",
            "--storage",
            f"s3://{BUCKET}/banditune",
        ]
        study += ["--n", "10", "30", "--num-seeds", "2", "--sample-budget", "4k", "--reports", "2"]
        seconds, _ = timed([*study, "--trials", str(args.trials)], env)
        keys = [
            item["Key"]
            for page in client.get_paginator("list_objects_v2").paginate(
                Bucket=BUCKET, Prefix="banditune/bench/"
            )
            for item in page.get("Contents", [])
            if not item["Key"].endswith("/")  # folder markers
        ]
        tune = [k for k in keys if k.startswith("banditune/bench/tune/")]
        print(
            f"study: {args.trials} trials in {seconds:.0f} s; {len(keys)} objects under s3://{BUCKET}/banditune/bench/"
        )
        print(f"  Tune's experiment (tune/): {len(tune)}; the study's result files: {len(keys) - len(tune)}")
        for key in sorted(set(keys) - set(tune)):
            print(f"    {key}")
        os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
        from analysis.load import load_study

        places = {"s3": f"s3://{BUCKET}/banditune/bench", "local": str(out / "bench")}
        reads = {kind: [] for kind in places}
        for _ in range(args.repeats):
            for kind, where in places.items():
                start = time.monotonic()
                rows = len(load_study(where).trials)
                reads[kind].append(time.monotonic() - start)
        for kind, values in reads.items():
            print(
                f"load_study from {kind} ({rows} rows): median {statistics.median(values):.3f} s ({values})"
            )
        times = {"s3": [], "local": []}
        first = {}
        for _ in range(args.repeats):
            for kind, where in places.items():
                seconds, printed = timed(
                    [BANDITUNE, "analyze", where, "--out", str(out / f"report-{kind}")], env
                )
                times[kind].append(seconds)
                first[kind] = printed
        for kind, values in times.items():
            print(
                f"analyze from {kind}: median {statistics.median(values):.2f} s of {args.repeats} ({values})"
            )
        print(f"first lines (S3):\n{first['s3']}")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
