"""DeblurGAN (Kupyn et al., CVPR 2018): ResNet generator and PatchGAN critic (WGAN-GP)."""

from __future__ import annotations

from ._torch import F, nn, torch

#: Sizes: 'paper' follows Kupyn et al. (64 base channels, 9 ResBlocks).
DEBLURGAN_SIZES = {
    "paper": {"channels": 64, "n_resblocks": 9},
    "small": {"channels": 24, "n_resblocks": 4},
}


class InstanceNorm(nn.Module):
    """Instance normalisation (no affine parameters) that keeps the input's dtype and layout.

    ``nn.InstanceNorm2d`` under bf16 autocast casts every activation map to fp32 and back
    and returns a channels-first tensor, which costs more than this network's convolutions.
    Inference runs PyTorch's group norm with one channel per group (bf16 channels-last in
    and out, statistics accumulated in fp32; 3-5x faster here). Its backward pass is slow
    on bf16 channels-last, so training takes an autograd-friendly path instead: per-channel
    mean and variance (two passes, the second over centred values) with fp32 accumulation.
    In fp32 both paths equal ``nn.InstanceNorm2d(affine=False)``.
    """

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.channels = channels
        self.eps = eps

    def forward(self, x):
        if not (torch.is_grad_enabled() and x.requires_grad):
            return F.group_norm(x, self.channels, eps=self.eps)
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


class Dropout(nn.Dropout):
    """``nn.Dropout`` with the mask drawn by ``torch.rand_like``: the same operation, but
    ``bernoulli_`` took a sixth of a DeblurGAN training step on this CPU."""

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        if self.p == 1:  # as nn.Dropout: everything dropped
            return torch.zeros_like(x)
        keep = torch.rand_like(x, dtype=torch.float32) >= self.p
        return x * keep.to(x.dtype) * (1.0 / (1.0 - self.p))


class ReflectionPad(nn.ReflectionPad2d):
    """``nn.ReflectionPad2d`` that keeps the input's dtype: CPU autocast would pad in fp32,
    casting a bf16 activation map up and the padded copy back down for the next conv."""

    def forward(self, x):
        with torch.autocast(x.device.type, enabled=False):
            return super().forward(x)


def _norm(channels):
    return InstanceNorm(channels)


class _NormResBlock(nn.Module):
    def __init__(self, channels, dropout):
        super().__init__()
        self.body = nn.Sequential(
            ReflectionPad(1), nn.Conv2d(channels, channels, 3), _norm(channels), nn.ReLU(True),
            Dropout(dropout), ReflectionPad(1), nn.Conv2d(channels, channels, 3), _norm(channels))

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
        layers = [ReflectionPad(3), nn.Conv2d(3, c, 7), _norm(c), nn.ReLU(True)]
        for mult in (1, 2):
            layers += [nn.Conv2d(c * mult, c * mult * 2, 3, stride=2, padding=1), _norm(c * mult * 2),
                       nn.ReLU(True)]
        layers += [_NormResBlock(4 * c, dropout) for _ in range(n_resblocks)]
        for mult in (4, 2):
            layers += [nn.ConvTranspose2d(c * mult, c * mult // 2, 3, stride=2, padding=1, output_padding=1),
                       _norm(c * mult // 2), nn.ReLU(True)]
        layers += [ReflectionPad(3), nn.Conv2d(c, 3, 7), nn.Tanh()]
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
