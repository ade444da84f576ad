"""Noise-level-conditioned CNN denoisers: the learned prior of plug-and-play deconvolution.

Both networks take a colour image and a constant map of the noise sigma as a fourth
channel (conditioned like FFDNet) and predict the noise, which is subtracted:
``x = y - f([y, sigma])``. Grey images go through them as three equal channels.

- ``denoiser-ircnn`` (Zhang et al., CVPR 2017): seven 3x3 convolutions with dilations
  1, 2, 3, 4, 3, 2, 1; it sees a 33x33 window.
- ``denoiser-unet`` (a small DRUNet, Zhang et al., TPAMI 2021): four scales joined by
  strided and transposed convolutions, residual blocks at each, no biases; it sees
  about 200 px, so the low-frequency artefacts a deconvolution leaves are in view.

They are trained here on sharp photos with Gaussian noise of sigma drawn uniformly
from ``[0, max_sigma]`` (50/255 by default), so one network serves every strength an
annealed plug-and-play schedule asks for.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np

from .._validation import check_image, check_number
from ._blocks import BiasFreeResBlock, encode_decode, pad_to_multiple
from ._torch import F, nn, torch
from .checkpoint import load_checkpoint, save_checkpoint
from .precision import autocast, resolve_device, resolve_precision
from .weights import load_model, save_weights

SHIPPED_NAME = "denoiser"
DILATIONS = (1, 2, 3, 4, 3, 2, 1)
MAX_SIGMA = 50 / 255
#: Scales of the U-Net; each halves the size and doubles the width.
UNET_SCALES = 4


class DenoiserNet(nn.Module):
    """Dilated conv stack on ``[image (3), sigma map (1)]`` that predicts the noise (3 channels)."""

    def __init__(self, width: int = 64):
        super().__init__()
        layers, channels = [], 4
        for index, dilation in enumerate(DILATIONS):
            last = index == len(DILATIONS) - 1
            layers.append(nn.Conv2d(channels, 3 if last else width, 3, padding=dilation, dilation=dilation))
            if not last:
                layers.append(nn.ReLU(inplace=True))
            channels = width
        self.body = nn.Sequential(*layers)

    def forward(self, noisy, sigma):
        """``noisy``: (N, 3, H, W); ``sigma``: (N,) noise levels. Returns the denoised images."""
        level = sigma.view(-1, 1, 1, 1).to(noisy.dtype).expand(-1, 1, *noisy.shape[2:])
        return noisy - self.body(torch.cat([noisy, level], dim=1))


class DenoiserUNet(nn.Module):
    """A bias-free U-Net on ``[image (3), sigma map (1)]`` that predicts the noise (3 channels).

    ``width`` channels at full size, doubled at each of the ``UNET_SCALES - 1`` halvings;
    ``blocks`` residual blocks per scale on the way down and on the way up. Any image
    size is accepted: the input is padded (reflect) to a multiple of 8 and the output
    cropped back.
    """

    def __init__(self, width: int = 32, blocks: int = 1):
        super().__init__()
        widths = [width * 2**i for i in range(UNET_SCALES)]
        self.head = nn.Conv2d(4, width, 3, padding=1, bias=False)
        self.down_blocks, self.downs, self.ups, self.up_blocks = (nn.ModuleList() for _ in range(4))
        for fine, coarse in itertools.pairwise(widths):
            self.down_blocks.append(nn.Sequential(*(BiasFreeResBlock(fine) for _ in range(blocks))))
            self.downs.append(nn.Conv2d(fine, coarse, 2, stride=2, bias=False))
            self.ups.append(nn.ConvTranspose2d(coarse, fine, 2, stride=2, bias=False))
            self.up_blocks.append(nn.Sequential(*(BiasFreeResBlock(fine) for _ in range(blocks))))
        self.middle = nn.Sequential(*(BiasFreeResBlock(widths[-1]) for _ in range(blocks)))
        self.tail = nn.Conv2d(width, 3, 3, padding=1, bias=False)

    def forward(self, noisy, sigma):
        """``noisy``: (N, 3, H, W); ``sigma``: (N,) noise levels. Returns the denoised images."""
        h, w = noisy.shape[2:]
        padded = pad_to_multiple(noisy, 2 ** (UNET_SCALES - 1))
        level = sigma.view(-1, 1, 1, 1).to(noisy.dtype).expand(-1, 1, *padded.shape[2:])
        x = self.head(torch.cat([padded, level], dim=1))
        x = encode_decode(x, self.down_blocks, self.downs, self.middle, reversed(self.ups),
                          reversed(self.up_blocks))
        return noisy - self.tail(x)[:, :, :h, :w]


#: Architecture name in a weights file -> the untrained network its config describes.
ARCHITECTURES = {
    "denoiser-ircnn": lambda config: DenoiserNet(config["width"]),
    "denoiser-unet": lambda config: DenoiserUNet(config["width"], config["blocks"]),
}


def build_denoiser(architecture: str, width: int, blocks: int | None = None):
    """An untrained denoiser and its config: ``architecture`` 'ircnn' or 'unet'.

    ``blocks`` (residual blocks per scale) is the U-Net's alone: 1 when None.
    """
    if architecture not in ("ircnn", "unet"):
        raise ValueError(f"architecture must be 'ircnn' or 'unet', got {architecture!r}.")
    width = check_number(width, name="width", low=1, integer=True)
    config = {"architecture": f"denoiser-{architecture}", "width": width}
    if architecture == "unet":
        config["blocks"] = 1 if blocks is None else check_number(blocks, name="blocks", low=1, integer=True)
    elif blocks is not None:
        raise ValueError("blocks is the U-Net's; the IRCNN has none. Drop --blocks or pass "
                         "--architecture unet.")
    return ARCHITECTURES[config["architecture"]](config), config


def load_denoiser(name_or_path=SHIPPED_NAME, device=None):
    """The trained denoiser from a shipped name or a weights file (never random weights)."""
    return load_model(name_or_path, architecture=tuple(ARCHITECTURES), what="a denoiser",
                      build=lambda config: ARCHITECTURES[config["architecture"]](config), device=device)


class _AtLevel(nn.Module):
    """The denoiser at one noise level, shaped like the deblurring networks for tiled inference."""

    def __init__(self, model: DenoiserNet, sigma: float):
        super().__init__()
        self.model = model
        self.sigma = float(sigma)

    def forward(self, noisy):
        level = torch.full((noisy.shape[0],), self.sigma, device=noisy.device)
        return (self.model(noisy, level),)


class DenoiserRunner:
    """A loaded denoiser as a function ``runner(image, sigma)`` on checked float arrays.

    On a CPU it runs a copy with fused convolutions (:mod:`pydeblur.nets.fusion`) when
    oneDNN has them for the precision, like the deblurring networks.
    """

    def __init__(self, name_or_path=SHIPPED_NAME, *, device=None, precision: str = "auto", tile=1024):
        from .fusion import fuse_for_inference, fused_convolutions_available

        self.model = load_denoiser(name_or_path, device)
        self.device = next(self.model.parameters()).device
        self.precision = resolve_precision(precision, self.device)
        self.tile = tile
        self.overlap = 32 if isinstance(self.model, DenoiserNet) else 128
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float32
        if fused_convolutions_available(self.device, dtype):
            self.model = fuse_for_inference(self.model, dtype)

    def __call__(self, image: np.ndarray, sigma: float) -> np.ndarray:
        """Denoise a checked float image (H, W) or (H, W, 3) at ``sigma``; same shape and dtype.

        Large images run in tiles of at most ``tile`` px, blended, so memory stays
        bounded; tiles overlap by 32 px for the IRCNN (it sees 16 px each way) and 128 px
        for the U-Net.
        """
        from .inference import restore_image

        return restore_image(_AtLevel(self.model, sigma), image, multiple=1, device=self.device,
                             precision=self.precision, tile=self.tile, overlap=self.overlap)


def denoise(image, sigma, *, denoiser=SHIPPED_NAME, device=None, precision: str = "auto",
            tile: int | None = 1024) -> np.ndarray:
    """Remove Gaussian noise of standard deviation ``sigma`` with the trained CNN denoiser.

    Parameters
    ----------
    image : numpy.ndarray
        Float image in [0, 1], (H, W) or (H, W, 3).
    sigma : float
        Noise standard deviation in image units (0.02 = 5/255), in [0, 50/255]; the
        network was trained on that range.
    denoiser : str or os.PathLike
        Shipped weights name or a file written by :func:`train_denoiser`.
    device, precision, tile
        As for the networks: CUDA when available, bf16 where native, tiles of at most
        ``tile`` px (None: whole image).

    Returns
    -------
    numpy.ndarray
        The denoised image, same shape and dtype.
    """
    image = check_image(image)  # restore_image refuses channel counts other than 1 and 3
    sigma = check_number(sigma, name="sigma", low=0, high=MAX_SIGMA * (1 + 1e-6))
    return DenoiserRunner(denoiser, device=device, precision=precision, tile=tile)(image, sigma)


#: Share of training crops made grey. A grey image goes through the network as three equal
#: channels carrying the *same* noise, so grey crops get one noise field for all three.
GREY_FRACTION = 1 / 3


def _crops(images, crop, batch, rng):
    """A batch of clean crops (N, 3, crop, crop) and which of them are grey."""
    out = np.empty((batch, 3, crop, crop), dtype=np.float32)
    grey = np.zeros(batch, dtype=bool)
    for b in range(batch):
        image = images[rng.integers(len(images))]
        top = rng.integers(image.shape[0] - crop + 1)
        left = rng.integers(image.shape[1] - crop + 1)
        patch = image[top : top + crop, left : left + crop]
        patch = np.rot90(patch, rng.integers(4))
        if rng.integers(2):
            patch = patch[:, ::-1]
        grey[b] = rng.random() < GREY_FRACTION
        if grey[b]:
            patch = np.repeat(patch.mean(axis=2, keepdims=True), 3, axis=2)
        out[b] = patch.transpose(2, 0, 1)
    return out, grey


def _noise(shape, grey, rng):
    """Unit Gaussian noise for a batch; a grey crop's three channels share one field."""
    noise = rng.standard_normal(shape).astype(np.float32)
    noise[grey] = noise[grey, :1]
    return noise


def train_denoiser(sharp_dirs, output, *, steps: int = 20000, batch_size: int = 16, crop: int = 48,
                   width: int = 64, architecture: str = "ircnn", blocks: int | None = None,
                   lr: float = 1e-3, max_sigma: float = MAX_SIGMA, precision: str = "auto",
                   device=None, seed: int = 0, checkpoint_dir=None, checkpoint_every: int = 500,
                   log_every: int = 100, command: str = "", overwrite: bool = False, callback=None,
                   init_weights=None, stop_at: int | None = None) -> dict:
    """Train the denoiser on crops of sharp photos with random Gaussian noise; writes safetensors.

    Adam with a cosine decay to lr/20 over ``steps``, L1 loss on the denoised image,
    flips, rotations and a third of the crops grey (one noise field in all three
    channels, as a grey image has when it goes through the network). With
    ``checkpoint_dir`` a checkpoint (weights, optimiser, schedule, random state, history;
    safetensors + JSON) is written every ``checkpoint_every`` steps and a rerun resumes
    from it. ``stop_at`` ends this run after that step of the ``steps``-step schedule and
    writes the weights reached (its checkpoint lets a later run with a larger ``stop_at``,
    or none, go on): a long schedule trained in session-sized parts. ``callback(entry)``
    receives every ``log_every`` steps the history entry (step, loss, PSNR gain on the
    batch, seconds, steps per second). Returns the training record, also stored in the
    file with ``command``. An existing ``output`` is refused before training unless
    ``overwrite``. ``init_weights`` (a shipped name or a file of the same ``width``) starts
    from trained weights with a fresh optimiser and schedule: a longer run continues a
    shipped denoiser instead of starting afresh. ``architecture`` is 'ircnn' (``width``
    hidden channels) or 'unet' (``width`` channels at full size, ``blocks`` residual
    blocks per scale).
    """
    from ..io import imread, list_images

    if Path(output).exists() and not overwrite:
        raise FileExistsError(f"{output} already exists; pass overwrite=True (--overwrite) to replace it.")
    steps = check_number(steps, name="steps", low=1, integer=True)
    batch_size = check_number(batch_size, name="batch_size", low=1, integer=True)
    crop = check_number(crop, name="crop", low=16, integer=True)
    last = steps if stop_at is None else check_number(stop_at, name="stop_at", low=1, high=steps,
                                                      integer=True)
    if last < steps and checkpoint_dir is None:
        raise ValueError("stop_at before the last step needs checkpoint_dir, or the rest of the schedule "
                         "could never be trained; pass --checkpoint-dir.")
    dirs = [sharp_dirs] if isinstance(sharp_dirs, (str, Path)) else list(sharp_dirs)
    paths = [p for d in dirs for p in list_images(d)]
    if not paths:
        raise ValueError(f"no images found in {dirs}.")
    images = [imread(p, alpha="drop") for p in paths]
    images = [i if i.ndim == 3 else np.repeat(i[:, :, None], 3, axis=2) for i in images
              if min(i.shape[:2]) >= crop]
    device = resolve_device(device)
    precision = resolve_precision(precision, device)
    torch.manual_seed(seed)
    model, config = build_denoiser(architecture, width, blocks)
    if init_weights is not None:
        from .weights import load_weights, resolve_weights_path

        state, start_config, _ = load_weights(resolve_weights_path(init_weights))
        if start_config != config:
            raise ValueError(f"init_weights {init_weights!r} is {start_config}, not {config}; pass the "
                             "matching --architecture, --width and --blocks.")
        model.load_state_dict(state)
    model = model.to(device).to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: 0.05 + 0.475 * (1 + np.cos(np.pi * min(s, steps) / steps)))
    rng = np.random.default_rng(seed)
    history, start_step, elapsed = [], 0, 0.0
    checkpoint = Path(checkpoint_dir) / "denoiser-checkpoint.safetensors" if checkpoint_dir else None
    if checkpoint is not None and checkpoint.exists():
        state = load_checkpoint(checkpoint, device=device)
        if state["config"] != config or state["steps"] != steps:
            raise ValueError(f"{checkpoint} was written for {state['config']} and {state['steps']} steps; "
                             "use another checkpoint_dir.")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        rng.bit_generator.state = state["rng"]
        history, start_step, elapsed = state["history"], state["step"], state["seconds"]
    start, losses, gains = time.perf_counter() - elapsed, [], []
    window = time.perf_counter()
    if start_step > last:
        raise ValueError(f"{checkpoint} is already at step {start_step}, past stop_at={last}.")
    for step in range(start_step + 1, last + 1):
        crops, grey = _crops(images, crop, batch_size, rng)
        clean = torch.from_numpy(crops).to(device)
        sigma = torch.from_numpy(rng.uniform(0, max_sigma, batch_size).astype(np.float32)).to(device)
        noise = torch.from_numpy(_noise(crops.shape, grey, rng)).to(device)
        noisy = (clean + sigma.view(-1, 1, 1, 1) * noise).contiguous(memory_format=torch.channels_last)
        with autocast(device, precision):
            out = model(noisy, sigma)
        loss = F.l1_loss(out.float(), clean)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(float(loss.detach()))
        with torch.no_grad():
            mse_in = ((noisy.float() - clean) ** 2).mean(dim=(1, 2, 3)).clamp_min(1e-10)
            mse_out = ((out.float() - clean) ** 2).mean(dim=(1, 2, 3)).clamp_min(1e-10)
            gains.append(float((10 * torch.log10(mse_in / mse_out)).mean()))
        if step % log_every == 0 or step == last:
            now = time.perf_counter()
            entry = {"step": step, "loss": round(float(np.mean(losses)), 5),
                     "psnr_gain": round(float(np.mean(gains)), 3), "seconds": round(now - start, 1),
                     "steps_per_second": round(len(losses) / (now - window), 3)}
            history.append(entry)
            losses, gains, window = [], [], now
            if callback is not None:
                callback(entry)
        if checkpoint is not None and (step % checkpoint_every == 0 or step == last):
            save_checkpoint(checkpoint, {
                "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(), "rng": rng.bit_generator.state, "history": history,
                "step": step, "steps": steps, "config": config, "seconds": time.perf_counter() - start})
    record = {"command": command, "history": history, "steps": steps, "steps_done": last,
              "batch_size": batch_size, "crop": crop,
              "lr": lr, "max_sigma": max_sigma, "precision": precision, "images": len(images),
              "init_weights": None if init_weights is None else str(init_weights),
              "torch": torch.__version__, "wall_seconds": round(time.perf_counter() - start, 1)}
    save_weights(output, model.to(memory_format=torch.contiguous_format).cpu(), config=config, record=record,
                 overwrite=overwrite, dtype="float16")
    return record
