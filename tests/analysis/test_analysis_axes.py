"""Axis labels: a numeric axis with few distinct values gets one ordered label per printed value."""

import pandas as pd

from analysis.axes import axis_labels


def test_values_that_print_alike_share_one_label():
    # two entropy bonuses a random search drew in one study: both print as 0.745
    bonus = pd.Series([0.0416, 0.7448830, 0.7453901, 0.0416])
    labels = axis_labels(pd.DataFrame({"entropy_coef": bonus}), axes=["entropy_coef"])["entropy_coef"]
    assert list(labels.cat.categories) == ["0.0416", "0.745"]
    assert list(labels) == ["0.0416", "0.745", "0.745", "0.0416"]
