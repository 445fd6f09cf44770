import pytest
import torch

from trainable import TrainConfig, update


@pytest.fixture
def rewards():
    return torch.randn(3, 24, generator=torch.Generator().manual_seed(0))


def test_rloo_is_reward_minus_mean_of_the_other_samples_of_its_group(rewards):
    k = 4
    adv = update.rloo(rewards, k)
    for s in range(3):
        for i in range(24):
            group = rewards[s, (i // k) * k : (i // k + 1) * k]
            others = torch.cat([group[: i % k], group[i % k + 1 :]])
            assert float(adv[s, i]) == pytest.approx(float(rewards[s, i] - others.mean()), abs=1e-6)


def test_grpo_has_zero_mean_and_unit_std_per_group(rewards):
    groups = update.grpo(rewards, 6).view(3, 4, 6)
    assert torch.allclose(groups.mean(-1), torch.zeros(3, 4), atol=1e-6)
    assert torch.allclose(groups.std(-1, unbiased=False), torch.ones(3, 4), atol=1e-4)


def test_grpo_of_a_group_of_equal_rewards_is_zero():
    assert torch.equal(update.grpo(torch.full((1, 4), -3.0), 4), torch.zeros(1, 4))


def test_batch_mean_centres_each_seed_separately(rewards):
    shifted = rewards + torch.tensor([[0.0], [10.0], [-5.0]])
    adv = update.batch_mean(shifted)
    assert torch.allclose(adv, update.batch_mean(rewards), atol=1e-5)
    assert torch.allclose(adv.mean(1), torch.zeros(3), atol=1e-5)


def test_standardize_is_a_z_score_per_seed(rewards):
    z = update.standardize(rewards * 7 + 3)
    assert torch.allclose(z.mean(1), torch.zeros(3), atol=1e-5)
    assert torch.allclose(z.std(1), torch.ones(3), atol=1e-4)


def test_ema_first_visit_takes_the_batch_mean_then_moves_by_one_minus_decay():
    table = torch.full((1, 3), float("nan"))
    x = torch.tensor([[0, 0, 2]])
    table = update.ema_update(table, x, torch.tensor([[1.0, 3.0, 5.0]]), 0.9)
    assert table[0, 0] == 2.0 and table[0, 2] == 5.0 and torch.isnan(table[0, 1])
    table = update.ema_update(table, torch.tensor([[0]]), torch.tensor([[12.0]]), 0.9)
    assert table[0, 0] == pytest.approx(0.9 * 2.0 + 0.1 * 12.0)
    assert table[0, 2] == 5.0


def test_discounted_returns_sum_later_rewards_of_the_batch():
    r = torch.tensor([[1.0, 2.0, 4.0]])
    g = update.discounted_returns(r, 0.5)
    assert torch.allclose(g, torch.tensor([[1 + 1 + 1.0, 2 + 2.0, 4.0]]))


def test_a_baseline_returns_the_new_ema_table_and_changes_nothing_it_is_given():
    """`ema` subtracts the table as it was before the batch and returns the updated table; the
    others return the table they were given; no baseline writes into its inputs."""
    config = TrainConfig(n=3, baseline="ema", ema_decay=0.9)
    table = torch.tensor([[1.0, float("nan"), 4.0]])
    x, r = torch.tensor([[0, 1, 1]]), torch.tensor([[3.0, 5.0, 7.0]])
    before = table.clone()
    adv, target, new = update.BASELINES["ema"](r, x=x, value=None, ema=table, config=config)
    assert torch.equal(adv, torch.tensor([[2.0, 5.0, 7.0]])) and target is None
    assert new[0, 0] == pytest.approx(0.9 * 1.0 + 0.1 * 3.0) and new[0, 1] == 6.0 and new[0, 2] == 4.0
    assert torch.allclose(table, before, equal_nan=True)
    for name in ("none", "batch_mean", "value"):
        value = torch.zeros_like(r)
        *_, same = update.BASELINES[name](r, x=x, value=value, ema=table, config=config)
        assert same is table
