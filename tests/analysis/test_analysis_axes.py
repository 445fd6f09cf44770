"""Axis labels: a numeric axis with few distinct values gets one ordered label per printed value."""

import numpy as np
import pandas as pd

from analysis.axes import axis_labels


def test_values_that_print_alike_share_one_label():
    # 1e-08 stored once as float32 (9.99999994e-09) and once as float64 prints as "1e-08" both times
    eps = pd.Series([1e-8, float(np.float32(1e-8)), 1e-3, 1e-3])
    labels = axis_labels(pd.DataFrame({"adam_eps": eps}), axes=["adam_eps"])["adam_eps"]
    assert list(labels.cat.categories) == ["1e-08", "0.001"]
    assert list(labels) == ["1e-08", "1e-08", "0.001", "0.001"]
