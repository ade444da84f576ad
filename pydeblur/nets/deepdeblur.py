"""DeepDeblur (Nah et al., CVPR 2017): a multi-scale coarse-to-fine CNN."""

from __future__ import annotations

from ._blocks import ResBlock, conv, pyramid
from ._torch import nn, torch

#: Sizes: 'paper' follows Nah et al. (64 channels, 19 ResBlocks per scale, 5x5 kernels).
DEEPDEBLUR_SIZES = {
    "paper": {"channels": 64, "n_resblocks": 19},
    "small": {"channels": 24, "n_resblocks": 3},
}


class _ScaleNet(nn.Module):
    def __init__(self, in_channels, channels, n_resblocks):
        super().__init__()
        self.body = nn.Sequential(conv(in_channels, channels, 5),
                                  *[ResBlock(channels) for _ in range(n_resblocks)],
                                  conv(channels, 3, 5))

    def forward(self, x):
        return self.body(x)


class DeepDeblurNet(nn.Module):
    """Three-scale network: each scale refines the coarser scale's up-convolved output.

    The coarsest scale sees the blurry image alone; every finer scale sees the blurry
    image concatenated with the coarser output passed through an up-convolution (a 5x5
    convolution and a 2x pixel shuffle). ResBlocks have no batch normalisation. Every
    scale's output is returned (finest first) for the multi-scale content loss; the
    outputs are residuals on the blurry input.
    """

    stride = 4  # two halvings

    def __init__(self, channels=64, n_resblocks=19, n_scales=3):
        super().__init__()
        self.n_scales = n_scales
        self.scales = nn.ModuleList(
            [_ScaleNet(3 if i == n_scales - 1 else 6, channels, n_resblocks) for i in range(n_scales)])
        self.upconv = nn.ModuleList(
            [nn.Sequential(conv(3, 12, 5), nn.PixelShuffle(2)) for _ in range(n_scales - 1)])

    def forward(self, blurry):
        levels = pyramid(blurry, self.n_scales)
        outputs = [None] * self.n_scales
        coarsest = self.n_scales - 1
        outputs[coarsest] = levels[coarsest] + self.scales[coarsest](levels[coarsest])
        for i in range(coarsest - 1, -1, -1):
            up = self.upconv[i](outputs[i + 1])
            up = up[..., : levels[i].shape[-2], : levels[i].shape[-1]]
            outputs[i] = levels[i] + self.scales[i](torch.cat([levels[i], up], dim=1))
        return outputs
