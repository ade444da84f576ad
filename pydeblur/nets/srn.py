"""SRN-DeblurNet (Tao et al., CVPR 2018): a scale-recurrent encoder-decoder."""

from __future__ import annotations

from ._blocks import ConvLSTMCell, ResBlock, conv, pyramid, resize
from ._torch import nn, torch

#: Sizes: 'paper' follows Tao et al. (32 / 64 / 128 channels, 3 ResBlocks per block);
#: 'medium' has the small widths at the paper's depth.
SRN_SIZES = {
    "paper": {"channels": (32, 64, 128), "n_resblocks": 3},
    "small": {"channels": (16, 32, 64), "n_resblocks": 1},
    "medium": {"channels": (16, 32, 64), "n_resblocks": 3},
}


class SRNNet(nn.Module):
    """Scale-recurrent network: one encoder-decoder shared by every scale.

    At each scale (coarse to fine) the input is the blurry image at that scale
    concatenated with the previous scale's output upsampled; a ConvLSTM at the
    bottleneck carries a hidden state across scales. Every scale's output is
    returned (finest first) for the multi-scale loss. Unlike the paper the output
    is added to the blurry input (residual learning), which trains faster.

    Parameters
    ----------
    channels : tuple of int
        Channels of the in-block, first and second encoder.
    n_resblocks : int
        ResBlocks per block.
    n_scales : int
        Number of scales (3 in the paper).
    """

    stride = 4  # two stride-2 encoders

    def __init__(self, channels=(32, 64, 128), n_resblocks=3, n_scales=3):
        super().__init__()
        c1, c2, c3 = channels
        self.n_scales = n_scales

        def blocks(c):
            return [ResBlock(c) for _ in range(n_resblocks)]

        self.in_block = nn.Sequential(conv(6, c1, 5), nn.ReLU(inplace=True), *blocks(c1))
        self.encoder1 = nn.Sequential(conv(c1, c2, 5, stride=2), nn.ReLU(inplace=True), *blocks(c2))
        self.encoder2 = nn.Sequential(conv(c2, c3, 5, stride=2), nn.ReLU(inplace=True), *blocks(c3))
        self.lstm = ConvLSTMCell(c3)
        self.decoder2 = nn.Sequential(*blocks(c3), nn.ConvTranspose2d(c3, c2, 4, stride=2, padding=1),
                                      nn.ReLU(inplace=True))
        self.decoder1 = nn.Sequential(*blocks(c2), nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1),
                                      nn.ReLU(inplace=True))
        self.out_block = nn.Sequential(*blocks(c1), conv(c1, 3, 5))

    def forward(self, blurry):
        levels = pyramid(blurry, self.n_scales)
        outputs, state, previous = [], None, levels[-1]
        for level in reversed(levels):
            size = level.shape[-2:]
            previous = resize(previous, size) if previous.shape[-2:] != size else previous
            if state is not None:
                state = tuple(resize(s, (size[0] // 4, size[1] // 4)) for s in state)
            f1 = self.in_block(torch.cat([level, previous], dim=1))
            f2 = self.encoder1(f1)
            f3, state = self.lstm(self.encoder2(f2), state)
            d2 = self.decoder2(f3) + f2
            d1 = self.decoder1(d2) + f1
            previous = level + self.out_block(d1)
            outputs.append(previous)
        return outputs[::-1]
