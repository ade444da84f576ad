"""Training losses: multi-scale content loss, WGAN-GP gradient penalty, perceptual loss."""

from __future__ import annotations

import typing
from pathlib import Path

from ._blocks import resize
from ._torch import F, nn, torch


def charbonnier_loss(output, target, eps: float = 1e-3):
    """Mean of ``sqrt((output - target)^2 + eps^2)``: a differentiable L1 (Charbonnier)."""
    return torch.sqrt((output - target) ** 2 + eps**2).mean()


def frequency_loss(output, target):
    """Mean absolute difference of the orthonormal 2-D spectra (real and imaginary parts);
    it weighs the fine detail a blur removes as much as the coarse content (Cho et al. 2021)."""
    difference = torch.fft.rfft2(output - target, norm="ortho")
    return torch.view_as_real(difference).abs().mean()


CONTENT_LOSSES = {"mse": F.mse_loss, "l1": F.l1_loss, "charbonnier": charbonnier_loss}


def multiscale_content_loss(outputs, sharp, *, kind: str = "mse", frequency_weight: float = 0.0):
    """Mean over scales of the content loss between each output and the resized target,
    plus ``frequency_weight`` times the :func:`frequency_loss`.

    ``outputs`` are finest first; the loss is computed in fp32.
    """
    loss_fn = CONTENT_LOSSES[kind]
    total = 0.0
    for out in outputs:
        target = sharp if out.shape[-2:] == sharp.shape[-2:] else resize(sharp, out.shape[-2:])
        out, target = out.float(), target.float()
        total = total + loss_fn(out, target)
        if frequency_weight:
            total = total + frequency_weight * frequency_loss(out, target)
    return total / len(outputs)


def gradient_penalty(critic, real, fake):
    """WGAN-GP penalty ``(||grad critic(x_hat)|| - 1)^2`` on random interpolates (Gulrajani 2017)."""
    alpha = torch.rand(real.shape[0], 1, 1, 1, device=real.device)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = critic(mixed).float()
    grads, = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    return ((grads.flatten(1).norm(dim=1) - 1) ** 2).mean()


class PerceptualLoss(nn.Module):
    """MSE between VGG19 conv3_3 features (DeblurGAN's content loss).

    The VGG19 weights are not shipped or downloaded: pass the path of a torchvision
    ``vgg19`` state dict (``features.*`` keys) that you have.
    """

    # Indices of torchvision's vgg19.features up to conv3_3 and its ReLU.
    _LAYERS: typing.ClassVar[list] = [64, "R", 64, "R", "M", 128, "R", 128, "R", "M", 256, "R", 256, "R", 256]

    def __init__(self, weights_path):
        super().__init__()
        path = Path(weights_path)
        if not path.is_file():
            raise FileNotFoundError(f"VGG19 weights file {path} not found; pass an existing file.")
        layers, c = [], 3
        for item in self._LAYERS:
            if item == "R":
                layers.append(nn.ReLU(inplace=False))
            elif item == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers.append(nn.Conv2d(c, item, 3, padding=1))
                c = item
        self.features = nn.Sequential(*layers)
        state = torch.load(path, map_location="cpu", weights_only=True)
        wanted = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
        missing = [k for k in self.features.state_dict() if k not in wanted]
        if missing:
            raise ValueError(f"{path} lacks VGG19 feature weights {missing[:3]}...; expected a "
                             "torchvision vgg19 state dict.")
        self.features.load_state_dict({k: wanted[k] for k in self.features.state_dict()})
        self.features.requires_grad_(False).eval()
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, output, target):
        f_out = self.features((output.float() - self.mean) / self.std)
        f_target = self.features((target.float() - self.mean) / self.std)
        return F.mse_loss(f_out, f_target)
