"""The output layer's initial scale: PyTorch's default draw times `output_init`.

1 keeps nn.Linear's uniform(+-1/sqrt(hidden)); 0 starts every input at the uniform policy (all
logits 0), so no action starts out favoured and exploration begins at its widest.
"""

from __future__ import annotations

import torch


def scale_output(params: dict[str, torch.Tensor], scale: float) -> dict[str, torch.Tensor]:
    """`params` with the output layer (w2, b2) multiplied by `scale`."""
    if scale == 1.0:
        return params
    return {**params, "w2": params["w2"] * scale, "b2": params["b2"] * scale}
