"""Inference for any image size: pad to the network's stride, tile with overlap, blend."""

from __future__ import annotations

import numpy as np

from .._validation import check_image
from ._torch import F, torch
from .precision import autocast


def _ramp(length: int, overlap: int) -> np.ndarray:
    """1-D blending weights: linear ramps over ``overlap`` pixels at both ends, 1 inside."""
    weights = np.ones(length, dtype=np.float32)
    if overlap > 0:
        ramp = (np.arange(overlap, dtype=np.float32) + 1) / (overlap + 1)
        weights[:overlap] = ramp
        weights[-overlap:] = ramp[::-1]
    return weights


def _starts(total: int, tile: int, step: int) -> list[int]:
    if total <= tile:
        return [0]
    starts = list(range(0, total - tile, step))
    return [*starts, total - tile]


def _run(model, batch, *, multiple: int, device, precision, channels_last):
    """Forward a (N, 3, h, w) float batch padded (reflect) to a multiple of the stride."""
    h, w = batch.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    x = batch.to(device)
    if ph or pw:
        mode = "reflect" if ph < h and pw < w else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    with autocast(device, precision):
        out = model(x)[0]
    return out.float()[..., :h, :w].cpu()


def restore_image(model, image, *, multiple: int, device, precision: str, tile, overlap: int,
                  batch_size: int = 1, channels_last: bool = True) -> np.ndarray:
    """Restore one (H, W) or (H, W, 3) float image with ``model`` (finest output first).

    Images larger than ``tile`` are cut into overlapping tiles whose outputs are blended
    with linear ramps, so memory stays bounded by the tile size. Grey images go through
    the network as three equal channels and come back grey.
    """
    image = check_image(image)
    if image.ndim == 3 and image.shape[2] != 3:
        raise ValueError(f"networks take grey or RGB images; got {image.shape[2]} channels. "
                         "Drop alpha with pydeblur.imread(path, alpha='drop').")
    rgb = image if image.ndim == 3 else np.repeat(image[:, :, None], 3, axis=2)
    h, w = rgb.shape[:2]
    tensor = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32))[None]
    model.eval()
    with torch.inference_mode():
        if tile is None or (h <= tile and w <= tile):
            out = _run(model, tensor, multiple=multiple, device=device, precision=precision,
                       channels_last=channels_last)[0].numpy()
        else:
            out = np.zeros((3, h, w), dtype=np.float32)
            weight = np.zeros((h, w), dtype=np.float32)
            th, tw = min(tile, h), min(tile, w)
            boxes = [(top, left) for top in _starts(h, th, th - overlap)
                     for left in _starts(w, tw, tw - overlap)]
            window = np.outer(_ramp(th, min(overlap, th // 2)), _ramp(tw, min(overlap, tw // 2)))
            for i in range(0, len(boxes), batch_size):
                group = boxes[i : i + batch_size]
                batch = torch.cat([tensor[..., t : t + th, x : x + tw] for t, x in group])
                results = _run(model, batch, multiple=multiple, device=device, precision=precision,
                               channels_last=channels_last).numpy()
                for (t, x), result in zip(group, results, strict=True):
                    out[:, t : t + th, x : x + tw] += result * window
                    weight[t : t + th, x : x + tw] += window
            out /= weight
    out = out.transpose(1, 2, 0)
    result = out if image.ndim == 3 else out.mean(axis=2)
    return result.astype(image.dtype, copy=False)
