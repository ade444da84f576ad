"""Blur detection: a per-pixel blur map, a whole-photo blur score and the kind of blur.

A small fully convolutional network (three stride-2 stages, then dilated convolutions; a
receptive field of about 100 px) reads a photo's luminance, normalised to zero mean and
unit contrast, and predicts at 1/8 of its size two maps: the blur degree (0 sharp, 1 a
blur of 10 px or more) and whether the blur is motion (camera shake, moving objects) or
defocus. Photos larger than ``working_size`` are looked at reduced so that their long side
is ``working_size`` px: the blur a person sees at screen size, and a cost that does not grow
with the megapixels. The map is upsampled back to the photo's size.

It is trained here (:func:`train_blur_map`, ``pydeblur train-blur-map``) on BSDS500-style
sharp photos in which random regions (half-planes, ellipses, or the whole crop) are
blurred by camera-shake trajectories, linear motion, defocus disks or Gaussians of 3-31
px, with noise, contrast changes and JPEG.

The whole-photo score is a low quantile of the map, the blur of the sharpest tenth of the
photo: camera shake blurs every part, while a sharp photo has sharp detail somewhere even
when its background is out of focus or featureless.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .._validation import check_image, check_number
from ..blind._estimate import LUMA
from ._torch import F, nn, torch
from .precision import autocast, resolve_device, resolve_precision
from .weights import load_model, save_weights

ARCHITECTURE = "blur-map"
SHIPPED_NAME = "blur-map"
STRIDE = 8
#: Smallest side the network can read (its receptive field needs some context).
MIN_SIDE = 32
#: Blur degree 1 is reached at this blur extent (px, at the working size).
FULL_BLUR_EXTENT = 10.0
#: Photos with a longer side are judged reduced to this many pixels.
WORKING_SIZE = 2048
#: A photo is 'blurred' from this score, and its blur 'motion' from this degree-weighted mean
#: motion probability: both fitted on synthetic blur of BSDS500 train photos
#: (benchmarks/calibrate_blur_detect.py: 0.253 and 0.259).
BLURRED_THRESHOLD = 0.25
MOTION_THRESHOLD = 0.26
#: The whole-photo score is this quantile of the blur map.
SCORE_QUANTILE = 0.1


class BlurMapNet(nn.Module):
    """Conv stack on a normalised grey image -> (N, 2, H/8, W/8) logits: degree and motion."""

    def __init__(self, width: int = 32):
        super().__init__()
        plan = [(width // 2, 1, 1), (width, 2, 1), (width, 1, 1), (width * 3 // 2, 2, 1),
                (width * 3 // 2, 1, 2), (2 * width, 2, 1), (2 * width, 1, 2), (2 * width, 1, 4)]
        layers, channels = [], 1
        for out, stride, dilation in plan:
            layers += [nn.Conv2d(channels, out, 3, stride=stride, padding=dilation, dilation=dilation),
                       nn.ReLU(inplace=True)]
            channels = out
        layers.append(nn.Conv2d(channels, 2, 1))
        self.body = nn.Sequential(*layers)

    def forward(self, grey):
        return self.body(grey)


def load_blur_map_model(name_or_path=SHIPPED_NAME, device=None) -> BlurMapNet:
    """The trained blur-map network from a shipped name or a weights file (never random weights)."""
    return load_model(name_or_path, architecture=ARCHITECTURE, what="a blur-map network",
                      build=lambda config: BlurMapNet(config["width"]), device=device)


def _luma(image: np.ndarray) -> np.ndarray:
    """The luminance the network reads (Rec. 601, as blind estimation uses), in the image's dtype."""
    return image if image.ndim == 2 else image[..., :3] @ np.asarray(LUMA, dtype=image.dtype)


def _normalised(grey: np.ndarray) -> np.ndarray:
    """Zero mean, unit contrast: what the network reads, in training and inference alike."""
    return (grey - grey.mean()) / (grey.std() + 0.02)


def _normalised_grey(image: np.ndarray) -> np.ndarray:
    return _normalised(_luma(image).astype(np.float32))


def _check_photo(image, working_size) -> tuple[np.ndarray, int]:
    image = check_image(image)
    if image.ndim == 3 and image.shape[2] not in (1, 3):
        raise ValueError(f"blur detection takes grey or RGB images; got {image.shape[2]} channels. "
                         "Drop alpha with pydeblur.imread(path, alpha='drop').")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    working_size = check_number(working_size, name="working_size", low=MIN_SIDE, integer=True)
    if min(image.shape[:2]) < MIN_SIDE:
        raise ValueError(f"blur detection needs at least {MIN_SIDE}x{MIN_SIDE} pixels (the network reads "
                         f"context around each pixel), got {image.shape[0]}x{image.shape[1]}.")
    return image, working_size


def _predict(image, *, model, working_size, device, precision):
    """Degree and motion probability maps at the image's size (float32)."""
    import cv2

    h, w = image.shape[:2]
    scale = min(1.0, working_size / max(h, w))
    grey = _normalised_grey(image)
    if scale < 1:
        size = (max(MIN_SIDE, round(w * scale)), max(MIN_SIDE, round(h * scale)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    gh, gw = grey.shape
    ph, pw = (-gh) % STRIDE, (-gw) % STRIDE
    x = torch.from_numpy(np.ascontiguousarray(grey))[None, None].to(device)
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="reflect")
    with torch.inference_mode(), autocast(device, precision):
        logits = model(x).float()
    logits = F.interpolate(logits, scale_factor=STRIDE, mode="bilinear", align_corners=False)[..., :gh, :gw]
    maps = torch.sigmoid(logits)[0].cpu().numpy()
    if (gh, gw) != (h, w):
        maps = np.stack([cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR) for m in maps])
    return np.clip(maps[0], 0, 1), np.clip(maps[1], 0, 1)


class BlurDetector:
    """A loaded blur-map network: ``detector.map(image)``, ``detector.score(image)``.

    Parameters
    ----------
    weights : str or os.PathLike
        Shipped name (``'blur-map'``) or a file written by :func:`train_blur_map`.
    working_size : int
        Photos whose long side is larger are read at that size (see the module docstring).
    device, precision
        As for the networks: CUDA when available, bf16 where native.
    """

    def __init__(self, weights=SHIPPED_NAME, *, working_size: int = WORKING_SIZE, device=None,
                 precision: str = "auto"):
        self.model = load_blur_map_model(weights, device)
        self.device = next(self.model.parameters()).device
        self.precision = resolve_precision(precision, self.device)
        self.working_size = working_size

    def maps(self, image) -> tuple[np.ndarray, np.ndarray]:
        """``(degree, motion)``: the blur map and the probability that the blur is motion."""
        image, working_size = _check_photo(image, self.working_size)
        return _predict(image, model=self.model, working_size=working_size, device=self.device,
                        precision=self.precision)

    def map(self, image) -> np.ndarray:
        return self.maps(image)[0]

    def judge(self, image, *, threshold: float = BLURRED_THRESHOLD) -> dict:
        """``{"score", "kind", "blurred"}`` for a whole photo (see :func:`blur_score`)."""
        return self.judge_maps(*self.maps(image), threshold=threshold)

    @staticmethod
    def judge_maps(degree, motion, *, threshold: float = BLURRED_THRESHOLD) -> dict:
        """The whole-photo judgement from the maps :meth:`maps` returned."""
        threshold = check_number(threshold, name="threshold", low=0, high=1)
        score = float(np.quantile(degree, SCORE_QUANTILE))
        if score < threshold:
            kind = "none"
        else:
            weights = degree + 1e-6
            motion_share = float((motion * weights).sum() / weights.sum())
            kind = "motion" if motion_share >= MOTION_THRESHOLD else "defocus"
        return {"score": score, "kind": kind, "blurred": score >= threshold}


def blur_map(image, *, weights=SHIPPED_NAME, working_size: int = WORKING_SIZE, device=None,
             precision: str = "auto") -> np.ndarray:
    """Per-pixel blur degree of a photo: (H, W) float32 in [0, 1], 0 sharp, 1 strongly blurred.

    Parameters
    ----------
    image : numpy.ndarray
        Float image in [0, 1], (H, W) or (H, W, 3), at least 32 px on each side.
    weights : str or os.PathLike
        Shipped name or a weights file of :func:`train_blur_map`.
    working_size : int
        Photos with a longer side are judged at that size (blur as seen at screen size).
    device, precision
        As for the networks.

    Returns
    -------
    numpy.ndarray
        The map at the image's size. Degree 1 means a blur extent of 10 px or more at the
        working size. Featureless regions (a clear sky, a constant image) carry no
        evidence either way; the network gives them intermediate values.

    Examples
    --------
    >>> from pydeblur import sample_image
    >>> blur_map(sample_image("camera")).shape
    (512, 512)
    """
    return BlurDetector(weights, working_size=working_size, device=device, precision=precision).map(image)


def blur_score(image, *, threshold: float = BLURRED_THRESHOLD, weights=SHIPPED_NAME,
               working_size: int = WORKING_SIZE, device=None, precision: str = "auto") -> dict:
    """Whether a whole photo is blurred: ``{"score": float in [0, 1], "kind": str, "blurred": bool}``.

    ``score`` is the blur degree of the sharpest tenth of the photo (a low quantile of
    :func:`blur_map`): high when every part is blurred (camera shake), low when some detail
    is sharp, even with an out-of-focus background. ``kind`` is ``'motion'`` or
    ``'defocus'`` (the map's motion probability, weighted by the degree, against
    :data:`MOTION_THRESHOLD`) when ``score`` is at least ``threshold`` (default
    :data:`BLURRED_THRESHOLD`, fitted on synthetic blur), else ``'none'``; ``blurred`` is
    ``score >= threshold``.
    """
    detector = BlurDetector(weights, working_size=working_size, device=device, precision=precision)
    return detector.judge(image, threshold=threshold)


# -- training -------------------------------------------------------------------------------

MOTION_FAMILIES = ("trajectory", "motion")
DEFOCUS_FAMILIES = ("defocus", "gaussian")


def blur_extent(kernel: np.ndarray) -> float:
    """Length of a kernel's longest spread: ``2 sqrt(3)`` times its largest standard deviation
    (the length of a motion line; 0.87 x a defocus disk's diameter)."""
    rows, cols = np.indices(kernel.shape, dtype=np.float64)
    total = kernel.sum()
    mr, mc = (kernel * rows).sum() / total, (kernel * cols).sum() / total
    cov = np.array([[(kernel * (rows - mr) ** 2).sum(), (kernel * (rows - mr) * (cols - mc)).sum()],
                    [(kernel * (rows - mr) * (cols - mc)).sum(), (kernel * (cols - mc) ** 2).sum()]]) / total
    return float(2 * np.sqrt(3 * max(np.linalg.eigvalsh(cov)[-1], 0.0)))


def _region_mask(size: int, rng) -> np.ndarray:
    """A soft mask: a random half-plane or ellipse, edges softened by a few pixels."""
    from scipy import ndimage

    rows, cols = np.indices((size, size), dtype=np.float64) - size / 2
    if rng.random() < 0.5:
        angle = rng.uniform(0, 2 * np.pi)
        mask = (rows * np.cos(angle) + cols * np.sin(angle)) > rng.uniform(-0.3, 0.3) * size
    else:
        cy, cx = rng.uniform(-0.3, 0.3, 2) * size
        ry, rx = rng.uniform(0.15, 0.45, 2) * size
        mask = ((rows - cy) / ry) ** 2 + ((cols - cx) / rx) ** 2 < 1
        mask = ~mask if rng.random() < 0.5 else mask
    return ndimage.gaussian_filter(mask.astype(np.float64), rng.uniform(0.5, 3.0))


def blur_map_example(photo: np.ndarray, crop: int, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One training example from a grey photo: ``(image, degree target, motion target)``.

    A fifth of the crops stay sharp, a third are blurred whole, the rest in a random region.
    """
    from ..operators import convolve
    from ..synth import PSFSampler, add_noise, jpeg

    margin = 20
    size = crop + 2 * margin
    top, left = rng.integers(photo.shape[0] - size + 1), rng.integers(photo.shape[1] - size + 1)
    patch = photo[top : top + size, left : left + size].astype(np.float64) / 255
    patch = np.rot90(patch, rng.integers(4))
    patch = patch[:, ::-1] if rng.integers(2) else patch
    patch = np.clip(patch * rng.uniform(0.3, 1.2) + rng.uniform(-0.1, 0.2), 0, 1)  # contrast and exposure
    case = rng.random()
    if case < 0.2:
        mask, degree, motion = np.zeros((size, size)), 0.0, 0.0
        image = patch
    else:
        motion = float(rng.random() < 0.6)
        families = MOTION_FAMILIES if motion else DEFOCUS_FAMILIES
        max_size = max(5, int(np.exp(rng.uniform(np.log(5), np.log(31)))) | 1)
        kernel, _ = PSFSampler(families, max_size=max_size)(rng)
        degree = min(1.0, max(0.0, (blur_extent(kernel) - 1) / (FULL_BLUR_EXTENT - 1)))
        mask = np.ones((size, size)) if case < 0.5 else _region_mask(size, rng)
        image = mask * convolve(patch, kernel, boundary="reflect") + (1 - mask) * patch
    image = np.clip(add_noise(image, sigma=rng.uniform(0, 0.02), rng=rng), 0, 1)
    if rng.random() < 0.3:
        image = jpeg(image, quality=int(rng.integers(50, 96)))
    window = (slice(margin, margin + crop), slice(margin, margin + crop))
    claimed = (mask[window] > 0.5) & (degree > 0)
    return image[window], (mask * degree)[window], np.full((crop, crop), motion) * claimed


def train_blur_map(sharp_dirs, output, *, steps: int = 3000, batch_size: int = 16, crop: int = 128,
                   width: int = 32, lr: float = 1e-3, precision: str = "auto", device=None, seed: int = 0,
                   log_every: int = 100, command: str = "", overwrite: bool = False, callback=None) -> dict:
    """Train the blur-map network on sharp photos with synthetic blur in random regions.

    Adam with a cosine decay over ``steps``; the loss is the binary cross-entropy of the
    degree map against the (soft) blur degree of every 8x8 cell, plus that of the motion
    map on the cells that are mostly blurred. ``callback(entry)`` receives every
    ``log_every`` steps the history entry (step, loss, seconds, steps per second). Writes
    float16 safetensors with the training record (returned). An existing ``output`` is
    refused before training unless ``overwrite``.
    """
    from ..io import imread, list_images

    if Path(output).exists() and not overwrite:
        raise FileExistsError(f"{output} already exists; pass overwrite=True (--overwrite) to replace it.")
    steps = check_number(steps, name="steps", low=1, integer=True)
    batch_size = check_number(batch_size, name="batch_size", low=1, integer=True)
    crop = check_number(crop, name="crop", low=MIN_SIDE, integer=True)
    if crop % STRIDE:
        raise ValueError(f"crop must be a multiple of {STRIDE}, got {crop}.")
    dirs = [sharp_dirs] if isinstance(sharp_dirs, (str, Path)) else list(sharp_dirs)
    paths = [p for d in dirs for p in list_images(d)]
    if not paths:
        raise ValueError(f"no images found in {dirs}.")
    photos = [_grey(imread(p, alpha="drop")) for p in paths]
    photos = [p for p in photos if min(p.shape) >= crop + 40]
    device = resolve_device(device)
    precision = resolve_precision(precision, device)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = BlurMapNet(width).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps, eta_min=lr / 20)
    history, losses, start = [], [], time.perf_counter()
    window = start
    for step in range(1, steps + 1):
        examples = [blur_map_example(photos[rng.integers(len(photos))], crop, rng) for _ in range(batch_size)]
        images = np.stack([_normalised(e[0]) for e in examples])[:, None]
        x = torch.from_numpy(images.astype(np.float32)).to(device)
        degree = F.avg_pool2d(torch.from_numpy(np.stack([e[1] for e in examples])[:, None]).float(), STRIDE)
        motion = F.avg_pool2d(torch.from_numpy(np.stack([e[2] for e in examples])[:, None]).float(), STRIDE)
        degree, motion = degree.to(device), motion.to(device)
        with autocast(device, precision):
            logits = model(x).float()
        loss = F.binary_cross_entropy_with_logits(logits[:, :1], degree)
        blurred = (degree > 0.3).float()
        if blurred.sum() > 0:
            motion_loss = F.binary_cross_entropy_with_logits(
                logits[:, 1:], (motion > 0.5).float(), weight=blurred, reduction="sum") / blurred.sum()
            loss = loss + 0.5 * motion_loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(float(loss.detach()))
        if step % log_every == 0 or step == steps:
            now = time.perf_counter()
            entry = {"step": step, "loss": round(float(np.mean(losses)), 4), "seconds": round(now - start, 1),
                     "steps_per_second": round(len(losses) / (now - window), 3)}
            history.append(entry)
            losses, window = [], now
            if callback is not None:
                callback(entry)
    record = {"command": command, "history": history, "steps": steps, "batch_size": batch_size, "crop": crop,
              "lr": lr, "precision": precision, "images": len(photos), "torch": torch.__version__,
              "wall_seconds": round(time.perf_counter() - start, 1)}
    save_weights(output, model.cpu(), config={"architecture": ARCHITECTURE, "width": width}, record=record,
                 overwrite=overwrite, dtype="float16")
    return record


def _grey(image: np.ndarray) -> np.ndarray:
    """A training photo's luminance as uint8 (compact in memory)."""
    return (np.clip(_luma(image), 0, 1) * 255).round().astype(np.uint8)
