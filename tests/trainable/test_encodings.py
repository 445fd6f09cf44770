import pytest
import torch

from contract.knobs import ENCODINGS
from trainable.policy import feature_dim, features

FEATURES = [e for e in ENCODINGS if e not in ("onehot", "embedding")]


@pytest.mark.parametrize("encoding", FEATURES)
@pytest.mark.parametrize("n", [2, 10, 100, 1000])
def test_features_have_the_declared_width_and_tell_every_input_apart(encoding, n):
    x = torch.arange(n)
    f = features(x, encoding=encoding, n=n)
    assert f.shape == (n, feature_dim(encoding, n))
    assert torch.unique(f, dim=0).shape[0] == n


def test_scalar_is_the_raw_input_and_scalar01_lies_in_unit_interval():
    x = torch.arange(100)
    assert torch.equal(features(x, encoding="scalar", n=100).squeeze(1), x.float())
    f = features(x, encoding="scalar01", n=100)
    assert f.min() == 0 and f.max() == 1


def test_binary_codes_are_plus_minus_one_bits():
    f = features(torch.tensor([5]), encoding="binary", n=8)
    assert f.tolist() == [[1.0, -1.0, 1.0]]


def test_fourier_features_are_bounded():
    f = features(torch.arange(1000), encoding="fourier", n=1000)
    assert f.abs().max() <= 1.0
