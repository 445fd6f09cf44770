import pytest
import torch

from trainable.rewards import build_reward_table, resolve_reward

CPU = torch.device("cpu")


def shifted(x, a, n):
    """Optimum at (x + 3) % n: the answer is not x."""
    return -((x + 3) % n - a).abs().float()


def noisy(x, a, n):
    return shifted(x, a, n) + torch.randn(x.shape) * 5


noisy.expected = shifted


def wrong_shape(x, a, n):
    return torch.zeros(3)


def wrong_dtype(x, a, n):
    return (x - a).abs()


def nan_at_corner(x, a, n):
    r = -(x - a).abs().float()
    return torch.where((x == 0) & (a == n - 1), float("nan"), r)


not_a_function = 3


def test_builtin_rewards():
    x, a = torch.tensor([2, 5]), torch.tensor([4, 5])
    assert resolve_reward("abs")(x, a, 10).tolist() == [-2.0, 0.0]
    assert resolve_reward("squared")(x, a, 10).tolist() == [-4.0, 0.0]
    assert resolve_reward("exact")(x, a, 10).tolist() == [0.0, 1.0]


@pytest.mark.parametrize("name", ["abs", "squared", "exact"])
def test_optimal_action_of_builtins_is_x(name):
    table = build_reward_table(name, 7, CPU)
    xs = torch.arange(7)
    assert torch.equal(table.optimal(table.rows(xs), xs), torch.eye(7, dtype=torch.bool))


def test_optimal_actions_come_from_the_reward_not_from_x():
    table = build_reward_table(f"{__name__}:shifted", 10, CPU)
    xs = torch.arange(10)
    assert table.optimal(table.rows(xs), xs).float().argmax(1).tolist() == [(x + 3) % 10 for x in range(10)]
    assert (table.low, table.high) == (-9.0, 0.0)


def test_table_is_built_in_chunks_for_large_n():
    table = build_reward_table("abs", 3000, CPU)  # 9M pairs, swept a chunk of inputs at a time
    assert table.best.shape == (3000,) and table.range == 2999


def test_noisy_reward_states_its_optimum_through_expected():
    table = build_reward_table(f"{__name__}:noisy", 10, CPU)
    assert table.expected is shifted and table.fn is noisy
    assert table.best.tolist() == [0.0] * 10


def within_one(x, a, n):
    """Optimal at x - 1, x and x + 1 (a tie of up to three actions), -1 elsewhere."""
    return -((x - a).abs() > 1).float()


def test_several_optimal_actions_are_all_optimal():
    table = build_reward_table(f"{__name__}:within_one", 5, CPU)
    xs = torch.arange(5)
    optimal = table.optimal(table.rows(xs), xs)
    assert optimal.sum(1).tolist() == [2, 3, 3, 3, 2]
    assert optimal[2].tolist() == [False, True, True, True, False]
    assert table.gap == 1.0  # best minus the best non-optimal reward, not 0 between tied actions


def test_a_policy_on_any_tied_optimum_counts_as_exact():
    from tests.trainable.test_trainer import policy_choosing

    m = policy_choosing(lambda x: min(x + 1, 4), n=5, reward=f"{__name__}:within_one")
    assert m.exact_match[0] == 1.0 and m.stuck[0] == 0 and m.p_correct[0] > 0.99


@pytest.mark.parametrize(
    "name, message",
    [
        ("nope", "expected abs, squared, exact or package.module:function"),
        ("no_such_module_xyz:f", "cannot import 'no_such_module_xyz'"),
        (f"{__name__}:missing", "is not a callable"),
        (f"{__name__}:not_a_function", "is not a callable"),
        (f"{__name__}:wrong_shape", "expected a floating tensor of shape"),
        (f"{__name__}:wrong_dtype", "torch.int64 tensor"),
        (f"{__name__}:nan_at_corner", "returned nan at x=0, a=9"),
    ],
)
def test_bad_rewards_are_refused_with_the_reason(name, message):
    with pytest.raises(ValueError, match="^--reward '") as error:
        build_reward_table(name, 10, CPU)
    assert message in str(error.value)


def tripled_abs(x, a, n):
    return 3.0 * -(x - a).abs().float() + 11.0


@pytest.mark.parametrize(
    "name, n, low, high, gap",
    [
        ("abs", 100, -99.0, 0.0, 1.0),
        ("squared", 100, -9801.0, 0.0, 1.0),
        ("exact", 10, 0.0, 1.0, 1.0),
        (f"{__name__}:tripled_abs", 10, -16.0, 11.0, 3.0),
    ],
)
def test_range_and_gap_follow_the_reward(name, n, low, high, gap):
    table = build_reward_table(name, n, CPU)
    assert (table.low, table.high, table.gap) == (low, high, gap)
