"""Inference for any image size: pad to the network's stride, tile with overlap, blend."""

from __future__ import annotations

import numpy as np

from .._validation import check_image
from ._blocks import pad_to_multiple
from ._torch import torch
from .precision import autocast


def _window(length: int, overlap: int, at_start: bool, at_end: bool) -> np.ndarray:
    """1-D blending weights of a tile.

    Towards a neighbouring tile the first ``overlap // 4`` pixels get weight 0 (the
    network saw zero padding there) and the next ones ramp up linearly; towards the
    image border the weight is 1.
    """
    weights = np.ones(length, dtype=np.float32)
    margin = overlap // 4
    ramp = (np.arange(overlap - 2 * margin, dtype=np.float32) + 1) / (overlap - 2 * margin + 1)
    profile = np.concatenate([np.zeros(margin, np.float32), ramp])
    if not at_start:
        weights[: profile.size] = profile
    if not at_end:
        weights[length - profile.size :] = np.minimum(weights[length - profile.size :], profile[::-1])
    return weights


def _tiles(total: int, tile: int, overlap: int) -> tuple[list[int], int]:
    """Starts and common length of the fewest tiles of at most ``tile`` pixels that cover
    ``total`` pixels, neighbours overlapping by at least ``overlap``.

    The tiles are as small as that allows and evenly spread, so little is computed twice:
    1280 px in tiles of at most 512 with 32 overlap gives 3 tiles of 448, not 512.
    """
    if total <= tile:
        return [0], total
    count = -(-(total - overlap) // (tile - overlap))
    length = -(-(total + (count - 1) * overlap) // count)
    return [i * (total - length) // (count - 1) for i in range(count)], length


def _run(model, batch, *, multiple: int, device, precision, channels_last):
    """Forward a (N, 3, h, w) float batch padded (reflect) to a multiple of the stride."""
    h, w = batch.shape[-2:]
    x = pad_to_multiple(batch.to(device), multiple)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    with autocast(device, precision):
        out = model(x)[0]
    return out.float()[..., :h, :w].cpu()


def _window_batch(image, rows, cols):
    """A window of a checked (H, W) or (H, W, 3) image as a (1, 3, h, w) float32 tensor.

    Only the window is copied (and a grey one repeated to three channels), so tiled
    inference never holds a second copy of the whole image.
    """
    window = image[rows, cols]
    window = window[None] if window.ndim == 2 else window.transpose(2, 0, 1)
    window = np.array(np.broadcast_to(window, (3, *window.shape[1:])), dtype=np.float32, order="C")  # a copy
    return torch.from_numpy(window)[None]


def restore_image(model, image, *, multiple: int, device, precision: str, tile, overlap: int,
                  batch_size: int = 1, channels_last: bool = True) -> np.ndarray:
    """Restore one (H, W) or (H, W, 3) float image with ``model`` (finest output first).

    Images larger than ``tile`` are cut into the fewest tiles of at most ``tile`` pixels
    that overlap by at least ``overlap`` pixels (evenly spread); each tile's outer
    quarter-overlap is discarded and the rest blended with linear ramps, so memory
    stays bounded by the tile size. Grey images go through
    the network as three equal channels and come back grey.
    """
    image = check_image(image)
    if image.ndim == 3 and image.shape[2] != 3:
        raise ValueError(f"networks take grey or RGB images; got {image.shape[2]} channels. "
                         "Drop alpha with pydeblur.imread(path, alpha='drop').")
    h, w = image.shape[:2]
    if tile is not None and (tile < 2 * overlap or overlap < 0):
        raise ValueError(f"tile ({tile}) must be at least twice the overlap ({overlap}) and overlap >= 0.")
    model.eval()
    with torch.inference_mode():
        if tile is None or (h <= tile and w <= tile):
            whole = _window_batch(image, slice(None), slice(None))
            out = _run(model, whole, multiple=multiple, device=device, precision=precision,
                       channels_last=channels_last)[0].numpy()
        else:
            out = np.zeros((3, h, w), dtype=np.float32)
            weight = np.zeros((h, w), dtype=np.float32)
            tops, th = _tiles(h, tile, overlap)
            lefts, tw = _tiles(w, tile, overlap)
            boxes = [(top, left) for top in tops for left in lefts]
            for i in range(0, len(boxes), batch_size):
                group = boxes[i : i + batch_size]
                batch = torch.cat([_window_batch(image, slice(t, t + th), slice(x, x + tw))
                                   for t, x in group])
                results = _run(model, batch, multiple=multiple, device=device, precision=precision,
                               channels_last=channels_last).numpy()
                for (t, x), result in zip(group, results, strict=True):
                    window = np.outer(_window(th, overlap, t == 0, t + th == h),
                                      _window(tw, overlap, x == 0, x + tw == w))
                    out[:, t : t + th, x : x + tw] += result * window
                    weight[t : t + th, x : x + tw] += window
            out /= weight
    out = out.transpose(1, 2, 0)
    result = out if image.ndim == 3 else out.mean(axis=2)
    return result.astype(image.dtype, copy=False)
