"""Policy functions that `--policy` must refuse before training, one per check."""

from torch import nn

NOT_CALLABLE = 3


def fails_to_build(feature_dim, num_actions):  # no `hidden` keyword: TypeError when built
    return nn.Linear(feature_dim, num_actions)


def not_a_module(*, feature_dim, num_actions, hidden):
    return lambda features: features


class _Identity(nn.Module):
    def forward(self, features):
        return features


def no_parameters(*, feature_dim, num_actions, hidden):
    return _Identity()


def wrong_shape(*, feature_dim, num_actions, hidden):
    return nn.Linear(feature_dim, num_actions + 1)


class _Double(nn.Linear):
    def forward(self, features):
        return super().forward(features).double()


def wrong_dtype(*, feature_dim, num_actions, hidden):
    return _Double(feature_dim, num_actions)


class _Infinite(nn.Linear):
    def forward(self, features):
        return super().forward(features) / 0.0


def infinite(*, feature_dim, num_actions, hidden):
    return _Infinite(feature_dim, num_actions)


class _Fails(nn.Linear):
    def forward(self, features):
        raise RuntimeError("this network is broken")


def raises(*, feature_dim, num_actions, hidden):
    return _Fails(feature_dim, num_actions)
