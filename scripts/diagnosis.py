"""Publish a diagnose.parquet: docs/diagnosis/diagnosis.json (per variant and task: the seeds' mean
exact match, p_correct and stuck inputs) and docs/diagnosis/diagnosis.png (the report's bar chart).

    python scripts/diagnosis.py results/diagnose.parquet --out docs/diagnosis --command "banditune ..."
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from analysis.breakdown import diagnosis_table
from analysis.figures import diagnosis_bars
from contract.schema import THRESHOLD


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("parquet")
    p.add_argument("--out", required=True)
    p.add_argument("--command", required=True, help="the diagnose command that wrote the file")
    args = p.parse_args()
    rows = pd.read_parquet(args.parquet)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tasks = list(dict.fromkeys(rows["task"]))
    variants = {}
    for variant, group in rows.groupby("variant", sort=False):
        variants[variant] = {
            task: {
                "exact_match": round(float(g["exact_match"].mean()), 3),
                "p_correct": round(float(g["p_correct"].mean()), 3),
                "stuck": round(float(g["stuck"].mean()), 1),
                "exact_match_per_seed": [round(float(x), 3) for x in g["exact_match"]],
            }
            for task, g in group.groupby("task", sort=False)
        }
    first = rows.drop_duplicates("task").set_index("task")
    summary = {
        "command": args.command,
        "seeds": sorted(int(s) for s in rows["seed"].unique()),
        "sample_budget": {t: int(first.at[t, "sample_budget"]) for t in tasks},
        "git_commit": str(rows["git_commit"].iloc[0]),
        "variants": variants,
    }
    (out / "diagnosis.json").write_text(json.dumps(summary, indent=1) + "\n")
    diagnosis_bars(diagnosis_table(rows), tasks=tasks, threshold=THRESHOLD, path=out / "diagnosis.png")


if __name__ == "__main__":
    main()
