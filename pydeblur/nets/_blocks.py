"""Building blocks shared by the architectures."""

from __future__ import annotations

from ._torch import F, nn, torch


def conv(in_channels: int, out_channels: int, kernel: int, stride: int = 1) -> nn.Conv2d:
    """Convolution with 'same' padding (for odd kernels) and bias."""
    return nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=kernel // 2)


class ResBlock(nn.Module):
    """``x + conv(relu(conv(x)))`` without normalisation (Nah et al. 2017; Tao et al. 2018)."""

    def __init__(self, channels: int, kernel: int = 5):
        super().__init__()
        self.body = nn.Sequential(conv(channels, channels, kernel), nn.ReLU(inplace=True),
                                  conv(channels, channels, kernel))

    def forward(self, x):
        return x + self.body(x)


class BiasFreeResBlock(nn.Module):
    """``x + conv(relu(conv(x)))`` with 3x3 convolutions and no biases (the denoiser's U-Net, as DRUNet)."""

    def __init__(self, channels: int):
        super().__init__()
        self.first = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.second = nn.Conv2d(channels, channels, 3, padding=1, bias=False)

    def forward(self, x):
        return x + self.second(F.relu(self.first(x)))


class ConvLSTMCell(nn.Module):
    """Convolutional LSTM cell (Shi et al. 2015): the gates are convolutions of [x, h]."""

    def __init__(self, channels: int, kernel: int = 5):
        super().__init__()
        self.channels = channels
        self.gates = conv(2 * channels, 4 * channels, kernel)

    def forward(self, x, state):
        if state is None:
            zeros = torch.zeros_like(x)
            state = (zeros, zeros)
        hidden, cell = state
        i, f, o, g = torch.chunk(self.gates(torch.cat([x, hidden], dim=1)), 4, dim=1)
        cell = torch.sigmoid(f) * cell + torch.sigmoid(i) * torch.tanh(g)
        hidden = torch.sigmoid(o) * torch.tanh(cell)
        return hidden, (hidden, cell)


def pad_to_multiple(x, multiple: int):
    """``x`` (N, C, H, W) padded at the bottom and right to sides that are multiples of ``multiple``:
    reflected where the image is large enough for that, replicated otherwise."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if not (ph or pw):
        return x
    return F.pad(x, (0, pw, 0, ph), mode="reflect" if ph < h and pw < w else "replicate")


def encode_decode(x, encoders, downs, middle, ups, decoders):
    """The U-Net pass: each encoder then its downsampling (keeping the encoder's output as a
    skip), the middle, then each upsampling plus its skip into its decoder. ``ups`` and
    ``decoders`` run coarsest first."""
    skips = []
    for encoder, down in zip(encoders, downs, strict=True):
        x = encoder(x)
        skips.append(x)
        x = down(x)
    x = middle(x)
    for up, decoder, skip in zip(ups, decoders, reversed(skips), strict=True):
        x = decoder(up(x) + skip)
    return x


def resize(x, size):
    """Bilinear resize to ``size`` (H, W), as the multi-scale networks use between scales."""
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def pyramid(x, n_scales: int):
    """Images at scales 1, 1/2, 1/4, ... (finest first)."""
    levels = [x]
    for _ in range(n_scales - 1):
        h, w = levels[-1].shape[-2:]
        levels.append(resize(levels[-1], (h // 2, w // 2)))
    return levels


def deepen(source: nn.Module, target: nn.Module) -> None:
    """Load ``source``'s weights into ``target``: the same network with more ResBlocks per run.

    Layers are matched in order; the ResBlocks of each run of ``source`` fill the first
    ResBlocks of that run in ``target``, and ``target``'s extra ResBlocks start as
    identities (their last convolution zero), so ``target`` computes what ``source``
    did and training continues from there.

    Raises
    ------
    ValueError
        When the layers differ in anything but the number of ResBlocks (e.g. widths).
    """
    with torch.no_grad():
        _deepen(source, target, type(target).__name__)


def _deepen(source, target, where):
    if type(source) is not type(target):
        raise ValueError(f"{where}: {type(source).__name__} cannot become {type(target).__name__}; "
                         "only the number of ResBlocks may change.")
    if isinstance(target, nn.Sequential):
        sources = list(source)
        used = 0
        for index, layer in enumerate(target):
            if used < len(sources) and type(sources[used]) is type(layer):
                _deepen(sources[used], layer, f"{where}.{index}")
                used += 1
            elif isinstance(layer, ResBlock):
                nn.init.zeros_(layer.body[-1].weight)
                nn.init.zeros_(layer.body[-1].bias)
            else:
                raise ValueError(f"{where}.{index}: no {type(layer).__name__} to take its weights from.")
        if used != len(sources):
            raise ValueError(f"{where}: {len(sources) - used} layer(s) of the source have no place; "
                             "a network can only gain ResBlocks.")
        return
    for name, param in target.named_parameters(recurse=False):
        weights = getattr(source, name)
        if weights.shape != param.shape:
            raise ValueError(f"{where}.{name} is {tuple(weights.shape)} in the source and "
                             f"{tuple(param.shape)} here; only the number of ResBlocks may change.")
        param.copy_(weights)
    for name, child in target.named_children():
        _deepen(getattr(source, name), child, f"{where}.{name}")
