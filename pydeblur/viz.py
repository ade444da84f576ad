"""Figures: before/after panels with captions and a PSF inset, built with numpy and OpenCV.

No plotting library is needed; the command line (``restore --compare``, ``demo``,
``bench``), the examples and the benchmarks draw their figures with :func:`montage`.
"""

from __future__ import annotations

import numpy as np

from .psf import to_image


def _as_rgb(image: np.ndarray) -> np.ndarray:
    image = np.clip(np.asarray(image, dtype=np.float32), 0, 1)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return image[:, :, :3]


def _label(panel: np.ndarray, text: str) -> np.ndarray:
    import cv2

    band = np.full((22, panel.shape[1], 3), 255, dtype=np.uint8)
    cv2.putText(band, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([band.astype(np.float32) / 255, panel], axis=0)


def montage(panels, labels, *, psf=None, gap: int = 4) -> np.ndarray:
    """Panels side by side with a caption above each; an optional PSF inset on the second.

    Parameters
    ----------
    panels : list of numpy.ndarray
        Images of the same height (grey or RGB, float in [0, 1]).
    labels : list of str
        One caption per panel.
    psf : numpy.ndarray, optional
        Kernel drawn, enlarged, in the top-left corner of the second panel.

    Returns
    -------
    numpy.ndarray
        RGB float32 figure.
    """
    if len(panels) != len(labels):
        raise ValueError(f"got {len(panels)} panels but {len(labels)} labels.")
    rgb = [_as_rgb(p) for p in panels]
    height = max(p.shape[0] for p in rgb)
    rgb = [np.pad(p, ((0, height - p.shape[0]), (0, 0), (0, 0)), constant_values=1) for p in rgb]
    if psf is not None and len(rgb) > 1:
        scale = max(1, min(height // 4, 96) // psf.shape[0])
        inset = _as_rgb(np.sqrt(to_image(psf, scale=scale)))
        h, w = min(inset.shape[0], height), min(inset.shape[1], rgb[1].shape[1])
        rgb[1] = rgb[1].copy()
        rgb[1][:h, :w] = inset[:h, :w]
    spacer = np.ones((height + 22, gap, 3), dtype=np.float32)
    columns = []
    for panel, text in zip(rgb, labels, strict=True):
        columns += [_label(panel, text), spacer]
    return np.concatenate(columns[:-1], axis=1)
