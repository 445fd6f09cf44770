"""The names every choice of the trainer allows (no torch: the command line's help reads them).

The modules that implement a choice (baselines.py, schedules.py, encodings.py, actions.py,
policies.py) read
these names; tests/trainable/test_choices.py holds them equal.
"""

ENCODINGS = ("scalar", "scalar01", "onehot", "embedding", "fourier", "binary")
ACTION_ENCODINGS = ("onehot", "fourier")
BASELINES = ("none", "ema", "batch_mean", "rloo", "grpo", "value")
GROUP_BASELINES = ("rloo", "grpo")  # sample several actions per input
REWARD_SCALES = ("raw", "range", "gap", "standardize")
SCHEDULES = ("constant", "linear", "cosine")
INPUTS = ("uniform", "cycle")
DEVICES = ("auto", "cpu", "cuda")
POLICIES = ("mlp", "mlp2")  # built-in networks; also package.module:function or path.py:function
