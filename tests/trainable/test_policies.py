"""`--policy`: any nn.Module trained for every seed at once, mlp unchanged, bad networks refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from cli.main import build_parser, main
from trainable import TrainConfig, Trainer
from trainable.policy import BatchedPolicy

EXAMPLE = "examples/my_policy.py"
BAD = "tests.trainable.bad_policies"
ATOL = 1e-5  # a seed alone vs beside others: batched kernels may round differently


def test_mlp_is_the_hand_batched_default_and_mlp2_a_batched_module():
    assert TrainConfig().policy == "mlp"
    assert type(Trainer(TrainConfig(n=10)).policy) is BatchedPolicy
    policy = Trainer(TrainConfig(n=10, seeds=(0, 1, 2), policy="mlp2", hidden=16)).policy
    # two hidden layers: (w, b) of three Linear layers, each with a leading seed dimension
    assert [tuple(p.shape) for p in policy.weights] == [
        (3, 16, 10),
        (3, 16),
        (3, 16, 16),
        (3, 16),
        (3, 10, 16),
        (3, 10),
    ]


@pytest.mark.parametrize("policy", ["mlp2", f"{EXAMPLE}:layernorm_mlp", f"{EXAMPLE}:bilinear"])
@pytest.mark.parametrize(
    ("encoding", "baseline"), [("onehot", "grpo"), ("embedding", "value"), ("binary", "ema")]
)
def test_a_seed_trained_alone_equals_the_same_seed_beside_others(policy, encoding, baseline):
    common = dict(
        n=10, policy=policy, encoding=encoding, baseline=baseline, batch_size=64, sample_budget=1920
    )
    alone = Trainer(TrainConfig(seeds=(1,), **common))
    beside = Trainer(TrainConfig(seeds=(0, 1, 2), **common))
    initial = [p[0].clone() for p in alone.policy.parameters()]
    for a, b in zip(alone.policy.parameters(), beside.policy.parameters(), strict=True):
        assert torch.equal(a[0], b[1])  # each seed's weights drawn from its own generator
    metrics_alone, metrics_beside = alone.run(1920), beside.run(1920)
    trained = list(alone.policy.parameters())
    assert any(not torch.equal(p[0], q) for p, q in zip(trained, initial, strict=True))
    for a, b in zip(trained, beside.policy.parameters(), strict=True):
        torch.testing.assert_close(a[0], b[1], atol=ATOL, rtol=0)
    assert metrics_alone.exact_match[0] == pytest.approx(metrics_beside.exact_match[1], abs=0.1)


@pytest.mark.parametrize(
    ("policy", "budget", "floor"), [("mlp2", 20_000, 1.0), (f"{EXAMPLE}:bilinear", 40_000, 0.9)]
)
def test_a_module_policy_learns_n10_with_the_defaults(policy, budget, floor):
    trainer = Trainer(TrainConfig(n=10, policy=policy, seeds=(0, 1, 2), sample_budget=budget))
    final = list(trainer.run_to_budget())[-1]
    assert final.exact_match.mean() >= floor


REFUSALS = [
    ("no_such_module:net", "--policy 'no_such_module:net': cannot import 'no_such_module'"),
    (f"{BAD}:NOT_CALLABLE", f"{BAD}.NOT_CALLABLE is not a callable"),
    (f"{BAD}:fails_to_build", f"--policy '{BAD}:fails_to_build': raised TypeError: "),
    (f"{BAD}:not_a_module", "returned a function; expected a torch.nn.Module"),
    (f"{BAD}:no_parameters", "returned a module with no parameters; expected a trainable nn.Module"),
    (
        f"{BAD}:wrong_shape",
        "returned torch.float32 logits of shape (4, 11); expected float32 logits of shape (4, 10)",
    ),
    (f"{BAD}:wrong_dtype", "returned torch.float64 logits of shape (4, 10); expected float32 logits"),
    (f"{BAD}:infinite", "returned non-finite logits at initialisation; expected finite logits"),
    (f"{BAD}:raises", "failed its forward pass (RuntimeError: this network is broken)"),
    ("mlp3", "--policy 'mlp3' is not allowed; expected mlp, mlp2, package.module:function"),
]


@pytest.mark.parametrize(("policy", "line"), REFUSALS, ids=[p.rpartition(":")[2] for p, _ in REFUSALS])
def test_a_bad_policy_exits_2_with_one_line_before_training(capsys, policy, line):
    assert main(["train", "--n", "10", "--policy", policy, "--sample-budget", "512"]) == 2
    out, err = capsys.readouterr()
    assert line in err and len(err.strip().splitlines()) == 1 and not out


@pytest.mark.parametrize(("option", "value"), [("--output-init", "0"), ("--action-encoding", "fourier")])
def test_knobs_of_mlps_output_layer_are_refused_for_other_policies(capsys, option, value):
    assert main(["train", "--n", "10", "--policy", "mlp2", option, value]) == 2
    err = capsys.readouterr().err
    assert f"{option} " in err and "with policy='mlp2' (it shapes the built-in mlp's output layer)" in err


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["--policy", "mlp", f"{BAD}:wrong_shape"],
            f"--policy '{BAD}:wrong_shape': returned torch.float32 logits",
        ),
        (["--policy", "mlp", "mlp3"], "--policy 'mlp3' is not allowed; expected one of mlp, mlp2"),
        (
            ["--policy", "mlp2", "--output-inits", "0", "1"],
            "--output-init '0.0 1.0' is not allowed; expected only 1.0",
        ),
    ],
)
def test_a_study_checks_its_policies_before_ray_starts(argv, line):
    from cli.study import spec_from_args

    with pytest.raises(ValueError, match=re.escape(line)):
        spec_from_args(build_parser().parse_args(["study", *argv]))


def test_a_study_ships_a_policy_file_to_a_clusters_nodes():
    from study.shipping import user_code
    from study.tasks import check_policy

    check_policy([f"{EXAMPLE}:bilinear"], tasks=("10",), encodings=("onehot",), holdout=0.25)
    shipped = user_code(reward="abs", contexts=(), policies=("mlp", f"{EXAMPLE}:bilinear"))
    assert shipped == (str(Path(EXAMPLE).resolve()),)


def test_diagnose_trains_every_variant_with_the_policy_given(tmp_path):
    from cli.diagnose import plan_from_args

    args = build_parser().parse_args(
        ["diagnose", "--n", "10", "--results", str(tmp_path), "--policy", "mlp2"]
    )
    variants = plan_from_args(args)["train"]["variants"]
    assert variants[0].name == "forum" and {v.settings["policy"] for v in variants} == {"mlp2"}
    assert not any(v.changed == "policy" for v in variants)
