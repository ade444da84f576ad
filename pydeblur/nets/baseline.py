"""A three-layer CNN in the manner of SRCNN (Dong et al. 2014): the smallest learned baseline."""

from __future__ import annotations

from ._blocks import conv
from ._torch import nn

#: Sizes: 'small' is SRCNN's 9-5-5 with 64 and 32 channels; 'paper' the same (one size).
BASELINE_SIZES = {
    "small": {"channels": (64, 32), "kernels": (9, 5, 5)},
}


class BaselineNet(nn.Module):
    """conv(9) - ReLU - conv(5) - ReLU - conv(5), added to the blurry input (residual)."""

    stride = 1

    def __init__(self, channels=(64, 32), kernels=(9, 5, 5)):
        super().__init__()
        c1, c2 = channels
        k1, k2, k3 = kernels
        self.body = nn.Sequential(conv(3, c1, k1), nn.ReLU(inplace=True),
                                  conv(c1, c2, k2), nn.ReLU(inplace=True), conv(c2, 3, k3))

    def forward(self, blurry):
        return [blurry + self.body(blurry)]
