"""GoPro-style blur from a burst of sharp frames."""

from __future__ import annotations

import numpy as np

from .._validation import check_image, check_number
from ._camera import crf, inverse_crf


def average_frames(frames, *, gamma: float = 2.2) -> np.ndarray:
    """Blur by averaging consecutive sharp frames in linear light: ``g(mean(g^-1(f)))``.

    This is how the GoPro dataset (Nah et al. 2017) made its blurry images from
    240 fps video: the camera response ``g`` is undone, the frames are averaged (the
    sensor integrating over a longer exposure), and the response is reapplied.

    Parameters
    ----------
    frames : sequence of numpy.ndarray or numpy.ndarray
        At least two float images of the same shape, or an (N, H, W[, C]) array.
    gamma : float
        Exponent of the camera response ``g(x) = x ** (1 / gamma)``; 1 averages directly.

    Returns
    -------
    numpy.ndarray
        The blurry frame, dtype of the first frame.
    """
    frames = list(frames)
    if len(frames) < 2:
        raise ValueError(f"average_frames needs at least 2 frames, got {len(frames)}.")
    checked = [check_image(f, name=f"frames[{i}]") for i, f in enumerate(frames)]
    if any(f.shape != checked[0].shape for f in checked):
        shapes = sorted({f.shape for f in checked})
        raise ValueError(f"all frames must have the same shape, got {shapes}.")
    gamma = check_number(gamma, name="gamma", low=0, low_inclusive=False)
    linear = np.mean([inverse_crf(f, gamma=gamma) for f in checked], axis=0)
    return crf(linear.astype(checked[0].dtype), gamma=gamma)
