"""The blur classifier behind the learned prior of blind deconvolution (Li et al. CVPR 2018).

A small fully convolutional classifier scores how blurry a grey image is: a map of
logits, reduced by global max pooling, through a sigmoid (0 sharp, 1 blurry). It is
trained on sharp photo crops against the same crops blurred by random kernels, and
used in the latent-image step through its gradient: the score is the regulariser.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..blind._estimate import LUMA
from ._torch import F, nn, torch
from .precision import autocast, resolve_device, resolve_precision
from .weights import load_model, save_weights

ARCHITECTURE = "blur-classifier"
SHIPPED_NAME = "blur-classifier"


class BlurClassifier(nn.Module):
    """Conv stack (three stride-2 stages) -> one logit map -> global max pool -> logit."""

    def __init__(self, width: int = 32):
        super().__init__()
        layers, channels = [], 1
        for out, stride in ((width // 2, 1), (width // 2, 2), (width, 1), (width, 2), (2 * width, 1),
                            (2 * width, 2)):
            layers += [nn.Conv2d(channels, out, 3, stride=stride, padding=1), nn.LeakyReLU(0.2)]
            channels = out
        layers.append(nn.Conv2d(channels, 1, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, x):  # (N, 1, H, W) -> (N,) logits
        return self.body(x).amax(dim=(1, 2, 3))


def load_classifier(name_or_path=SHIPPED_NAME, device=None) -> BlurClassifier:
    """The trained classifier from a shipped name or a weights file (never random weights)."""
    return load_model(name_or_path, architecture=ARCHITECTURE, what="a blur classifier",
                      build=lambda config: BlurClassifier(config["width"]), device=device)


def prior_gradient(model: BlurClassifier, image: np.ndarray) -> tuple[float, np.ndarray]:
    """The blur score of a grey float image and its gradient with respect to the image."""
    device = next(model.parameters()).device
    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None, None].to(device)
    x.requires_grad_(True)
    score = torch.sigmoid(model(x)).sum()
    (gradient,) = torch.autograd.grad(score, x)
    return float(score.detach()), gradient[0, 0].double().cpu().numpy()


def _grey_batch(tensors):
    weights = torch.tensor(LUMA, dtype=tensors.dtype).view(1, 3, 1, 1)
    return (tensors * weights).sum(dim=1, keepdim=True)


def train_classifier(sharp_dirs, output, *, steps: int = 3000, batch_size: int = 32, crop: int = 64,
                     width: int = 32, lr: float = 1e-3, max_size: int = 25, precision: str = "auto",
                     seed: int = 0, log_every: int = 100, command: str = "", overwrite: bool = False,
                     callback=None) -> dict:
    """Train the blur classifier on sharp crops vs the same crops blurred; writes safetensors.

    Blurry examples use trajectory, motion, Gaussian and defocus kernels up to
    ``max_size`` px (the pyramid's coarse levels see small kernels) and 0-2 % noise.
    Returns the training record (also stored in the file, with ``command``). An
    existing ``output`` is refused before training unless ``overwrite`` is True.
    ``callback(entry)``, when given, receives every ``log_every`` steps the history entry
    (``step``, ``loss``, ``accuracy``, ``seconds``).
    """
    if Path(output).exists() and not overwrite:
        raise FileExistsError(f"{output} already exists; pass overwrite=True (--overwrite) to replace it.")
    from ..synth import PSFSampler
    from .data import SyntheticBlurDataset

    torch.manual_seed(seed)
    device = resolve_device(None)
    precision = resolve_precision(precision, device)
    sampler = PSFSampler(("trajectory", "motion", "gaussian", "defocus"), max_size=max_size)
    data = SyntheticBlurDataset(sharp_dirs, crop=crop, length=steps * batch_size // 2, sampler=sampler,
                                noise_sigma=(0.0, 0.02), seed=seed)
    loader = torch.utils.data.DataLoader(data, batch_size=batch_size // 2, shuffle=False)
    model = BlurClassifier(width).to(device).to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    history, start, running = [], time.perf_counter(), []
    for step, (blurry, sharp) in enumerate(loader, start=1):
        images = _grey_batch(torch.cat([sharp, blurry])).to(device, memory_format=torch.channels_last)
        labels = torch.cat([torch.zeros(len(sharp)), torch.ones(len(blurry))]).to(device)
        with autocast(device, precision):
            logits = model(images)
        loss = F.binary_cross_entropy_with_logits(logits.float(), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        running.append(((logits.float() > 0) == labels.bool()).float().mean().item())
        if step % log_every == 0 or step == steps:
            history.append({"step": step, "loss": round(loss.item(), 4),
                            "accuracy": round(float(np.mean(running)), 4),
                            "seconds": round(time.perf_counter() - start, 1)})
            running = []
            if callback is not None:
                callback(history[-1])
    record = {"command": command, "history": history, "steps": steps, "batch_size": batch_size, "crop": crop,
              "lr": lr,
              "max_size": max_size, "precision": precision, "torch": torch.__version__,
              "wall_seconds": round(time.perf_counter() - start, 1)}
    save_weights(output, model.to(memory_format=torch.contiguous_format).cpu(),
                 config={"architecture": ARCHITECTURE, "width": width}, record=record, overwrite=overwrite)
    return record
