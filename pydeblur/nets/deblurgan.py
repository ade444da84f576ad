"""DeblurGAN (Kupyn et al., CVPR 2018): ResNet generator and PatchGAN critic (WGAN-GP)."""

from __future__ import annotations

from ._torch import nn, torch

#: Sizes: 'paper' follows Kupyn et al. (64 base channels, 9 ResBlocks).
DEBLURGAN_SIZES = {
    "paper": {"channels": 64, "n_resblocks": 9},
    "small": {"channels": 24, "n_resblocks": 4},
}


class InstanceNorm(nn.Module):
    """Instance normalisation (no affine parameters) that keeps the input's dtype.

    Under bf16 autocast ``nn.InstanceNorm2d`` runs in fp32 and casts every activation
    map to fp32 and back, which costs more than this network's convolutions. Here the
    activations stay in their dtype: the per-channel mean and variance (two passes, the
    second over centred values) are summed with PyTorch's fp32 accumulator and rounded
    to the input's dtype, and the scale is computed in fp32. In fp32 this equals
    ``nn.InstanceNorm2d(affine=False)``.
    """

    def __init__(self, eps: float = 1e-5):
        super().__init__()
        self.eps = eps

    def forward(self, x):
        n, c, h, w = x.shape
        channels_last = x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
        # a (n, pixels, c) or (n, c, pixels) view: reductions and broadcasts along memory order
        pixels = x.permute(0, 2, 3, 1).reshape(n, h * w, c) if channels_last else x.reshape(n, c, h * w)
        axis = 1 if channels_last else 2
        mean = pixels.mean(dim=axis, keepdim=True)
        centred = pixels - mean.to(x.dtype)
        variance = centred.square().mean(dim=axis, keepdim=True).float()
        out = centred * torch.rsqrt(variance + self.eps).to(x.dtype)
        return out.reshape(n, h, w, c).permute(0, 3, 1, 2) if channels_last else out.reshape(n, c, h, w)


def _norm(channels):
    return InstanceNorm()


class _NormResBlock(nn.Module):
    def __init__(self, channels, dropout):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(channels), nn.ReLU(True),
            nn.Dropout(dropout), nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(channels))

    def forward(self, x):
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """Generator: 7x7 conv, two stride-2 convs, ResBlocks with instance norm, two
    transposed convs, 7x7 conv and tanh, plus a global skip from the input.

    Images are mapped to [-1, 1] inside; input and output are in [0, 1].
    """

    stride = 4

    def __init__(self, channels=64, n_resblocks=9, dropout=0.5):
        super().__init__()
        c = channels
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(3, c, 7), _norm(c), nn.ReLU(True)]
        for mult in (1, 2):
            layers += [nn.Conv2d(c * mult, c * mult * 2, 3, stride=2, padding=1), _norm(c * mult * 2),
                       nn.ReLU(True)]
        layers += [_NormResBlock(4 * c, dropout) for _ in range(n_resblocks)]
        for mult in (4, 2):
            layers += [nn.ConvTranspose2d(c * mult, c * mult // 2, 3, stride=2, padding=1, output_padding=1),
                       _norm(c * mult // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, 3, 7), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, blurry):
        scaled = blurry * 2 - 1
        out = torch.clamp(scaled + self.body(scaled), -1, 1)
        return [(out + 1) / 2]


class PatchCritic(nn.Module):
    """PatchGAN critic (70x70 receptive field for 3 layers); no sigmoid (WGAN)."""

    def __init__(self, channels=64, n_layers=3):
        super().__init__()
        layers = [nn.Conv2d(3, channels, 4, stride=2, padding=2), nn.LeakyReLU(0.2, True)]
        c = channels
        for i in range(1, n_layers + 1):
            out = channels * min(2**i, 8)
            layers += [nn.Conv2d(c, out, 4, stride=2 if i < n_layers else 1, padding=2),
                       _norm(out), nn.LeakyReLU(0.2, True)]
            c = out
        layers += [nn.Conv2d(c, 1, 4, stride=1, padding=2)]
        self.body = nn.Sequential(*layers)

    def forward(self, image):
        return self.body(image * 2 - 1)
