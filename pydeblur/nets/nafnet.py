"""NAFNet (Chen, Chu, Zhang & Sun, ECCV 2022): a U-Net of activation-free blocks.

Each block is LayerNorm -> 1x1 conv -> 3x3 depthwise conv -> SimpleGate (one half of the
channels times the other) -> simplified channel attention -> 1x1 conv, then a gated
feed-forward part; both add to the input through a learned per-channel scale that starts
at zero, so a fresh block is the identity. No ReLU, GELU or sigmoid anywhere.

The channel attention pools over the whole image. A network trained on 256 px crops
then sees other statistics on a 1280 px photo; following Chu et al. ("Improving Image
Restoration by Revisiting Global Information Aggregation", ECCV 2022, TLC) the pool is a
local mean over the window the network was trained on (``pool_window`` pixels at full
resolution, scaled down with each level), computed from an integral image, whenever the
input is larger than that window.
"""

from __future__ import annotations

from ._blocks import encode_decode
from ._torch import F, nn, torch

#: Sizes: 'paper' is the GoPro model of the paper (width 32, 28 blocks at the lowest
#: encoder level); 'small' keeps the four levels with width 16 and a few blocks, for a CPU.
NAFNET_SIZES = {
    "paper": {"width": 32, "encoder_blocks": (1, 1, 1, 28), "middle_blocks": 1,
              "decoder_blocks": (1, 1, 1, 1)},
    "small": {"width": 16, "encoder_blocks": (1, 1, 2, 4), "middle_blocks": 2,
              "decoder_blocks": (1, 1, 1, 1)},
}


class LayerNorm2d(nn.Module):
    """Layer normalisation over the channels of every pixel (a (N, C, H, W) tensor)."""

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.float()
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = (x - mean) * torch.rsqrt(var + self.eps)
        return (x * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)).to(dtype)


def simple_gate(x):
    """Split the channels in two halves and multiply them (NAFNet's replacement for GELU)."""
    a, b = x.chunk(2, dim=1)
    return a * b


def local_mean(x, window: tuple[int, int]):
    """Mean of ``x`` over a ``window`` (h, w) around every pixel, from an integral image.

    Windows are kept inside the image: pixels nearer a border than half a window take the
    mean of the window that touches that border (as TLC does).
    """
    h, w = x.shape[-2:]
    kh, kw = min(window[0], h), min(window[1], w)
    if (kh, kw) == (h, w):
        return x.mean(dim=(-2, -1), keepdim=True)
    s = F.pad(x.float().cumsum(-2).cumsum(-1), (1, 0, 1, 0))
    sums = s[..., kh:, kw:] - s[..., :-kh, kw:] - s[..., kh:, :-kw] + s[..., :-kh, :-kw]
    means = sums / (kh * kw)
    top, left = (kh - 1) // 2, (kw - 1) // 2
    means = F.pad(means, (left, w - means.shape[-1] - left, top, h - means.shape[-2] - top), mode="replicate")
    return means.to(x.dtype)


class ChannelAttention(nn.Module):
    """Simplified channel attention: ``x * conv1x1(mean of x)``; the mean is global, or local
    over ``window`` pixels when the input is larger (set by :class:`NAFNet`)."""

    def __init__(self, channels: int):
        super().__init__()
        self.project = nn.Conv2d(channels, channels, 1)
        self.window: tuple[int, int] | None = None

    def forward(self, x):
        if self.window is None or (x.shape[-2] <= self.window[0] and x.shape[-1] <= self.window[1]):
            pooled = x.mean(dim=(-2, -1), keepdim=True)
        else:
            pooled = local_mean(x, self.window)
        return x * self.project(pooled)


class NAFBlock(nn.Module):
    """Nonlinear-activation-free block: a gated depthwise-conv part and a gated feed-forward part."""

    def __init__(self, channels: int, expansion: int = 2):
        super().__init__()
        hidden = channels * expansion
        self.norm1 = LayerNorm2d(channels)
        self.expand = nn.Conv2d(channels, hidden, 1)
        self.depthwise = nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden)
        self.attention = ChannelAttention(hidden // 2)
        self.project = nn.Conv2d(hidden // 2, channels, 1)
        self.norm2 = LayerNorm2d(channels)
        self.ffn_expand = nn.Conv2d(channels, hidden, 1)
        self.ffn_project = nn.Conv2d(hidden // 2, channels, 1)
        self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x):
        y = simple_gate(self.depthwise(self.expand(self.norm1(x))))
        x = x + self.beta * self.project(self.attention(y))
        y = simple_gate(self.ffn_expand(self.norm2(x)))
        return x + self.gamma * self.ffn_project(y)


class NAFNet(nn.Module):
    """The NAFNet U-Net; returns ``[blurry + residual]`` (a one-scale list, like the others).

    Parameters
    ----------
    width : int
        Channels at full resolution; each encoder level doubles them.
    encoder_blocks, decoder_blocks : sequence of int
        NAFBlocks per level (finest first); one level per entry, each halving the size.
    middle_blocks : int
        NAFBlocks at the lowest resolution.
    pool_window : int, optional
        Full-resolution side of the channel attention's pooling window (see the module
        docstring); None pools globally at every size.
    """

    def __init__(self, width=32, encoder_blocks=(1, 1, 1, 28), middle_blocks=1, decoder_blocks=(1, 1, 1, 1),
                 pool_window=None):
        super().__init__()
        if len(encoder_blocks) != len(decoder_blocks):
            raise ValueError(f"encoder_blocks {encoder_blocks} and decoder_blocks {decoder_blocks} need "
                             "as many levels.")
        self.stride = 2 ** len(encoder_blocks)
        self.intro = nn.Conv2d(3, width, 3, padding=1)
        self.encoders, self.downs = nn.ModuleList(), nn.ModuleList()
        channels = width
        for count in encoder_blocks:
            self.encoders.append(nn.Sequential(*[NAFBlock(channels) for _ in range(count)]))
            self.downs.append(nn.Conv2d(channels, 2 * channels, 2, stride=2))
            channels *= 2
        self.middle = nn.Sequential(*[NAFBlock(channels) for _ in range(middle_blocks)])
        self.ups, self.decoders = nn.ModuleList(), nn.ModuleList()
        for count in decoder_blocks:
            widen = nn.Conv2d(channels, 2 * channels, 1, bias=False)
            self.ups.append(nn.Sequential(widen, nn.PixelShuffle(2)))
            channels //= 2
            self.decoders.append(nn.Sequential(*[NAFBlock(channels) for _ in range(count)]))
        self.ending = nn.Conv2d(width, 3, 3, padding=1)
        self.set_pool_window(pool_window)

    def set_pool_window(self, pool_window) -> None:
        """Pool the channel attention over ``pool_window`` full-resolution pixels (None: globally)."""
        self.pool_window = pool_window
        levels = [*self.encoders, self.middle, *reversed(self.decoders)]
        depths = [*range(len(self.encoders)), len(self.encoders), *range(len(self.decoders))]
        for level, depth in zip(levels, depths, strict=True):
            window = None if pool_window is None else max(1, round(pool_window / 2**depth))
            for block in level:
                block.attention.window = None if window is None else (window, window)

    def forward(self, blurry):
        x = encode_decode(self.intro(blurry), self.encoders, self.downs, self.middle, self.ups, self.decoders)
        return [blurry + self.ending(x)]
