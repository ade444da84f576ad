"""Camera effects: response curve (gamma), sensor noise, JPEG compression."""

from __future__ import annotations

import numpy as np

from .._validation import check_image, check_number


def crf(linear, *, gamma: float = 2.2) -> np.ndarray:
    """Camera response: linear irradiance in [0, 1] to display values, ``x ** (1 / gamma)``.

    Negative inputs are treated as 0 (a response curve is defined on [0, inf)).
    """
    linear = check_image(linear, name="linear")
    gamma = check_number(gamma, name="gamma", low=0, low_inclusive=False)
    return np.power(np.clip(linear, 0, None), 1.0 / gamma).astype(linear.dtype, copy=False)


def inverse_crf(display, *, gamma: float = 2.2) -> np.ndarray:
    """Inverse camera response: display values to linear irradiance, ``x ** gamma``."""
    display = check_image(display, name="display")
    gamma = check_number(gamma, name="gamma", low=0, low_inclusive=False)
    return np.power(np.clip(display, 0, None), gamma).astype(display.dtype, copy=False)


def add_noise(image, *, sigma: float = 0.0, poisson_peak=None, rng=None) -> np.ndarray:
    """Sensor noise: Poisson shot noise at ``poisson_peak`` photons for value 1, then Gaussian.

    Parameters
    ----------
    image : numpy.ndarray
        Float image (non-negative where Poisson noise is asked for).
    sigma : float
        Standard deviation of additive Gaussian noise, >= 0.
    poisson_peak : float, optional
        Photon count of a pixel of value 1; ``None`` adds no shot noise.
    rng : int or numpy.random.Generator, optional
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        A new noisy image, same dtype, not clipped.
    """
    image = check_image(image)
    sigma = check_number(sigma, name="sigma", low=0)
    rng = np.random.default_rng(rng)
    noisy = image.astype(np.float64)
    if poisson_peak is not None:
        peak = check_number(poisson_peak, name="poisson_peak", low=0, low_inclusive=False)
        if (noisy < 0).any():
            raise ValueError("Poisson noise needs a non-negative image; clip it first.")
        noisy = rng.poisson(noisy * peak) / peak
    if sigma > 0:
        noisy = noisy + rng.normal(0.0, sigma, size=noisy.shape)
    return noisy.astype(image.dtype)


def jpeg(image, *, quality: int) -> np.ndarray:
    """Round-trip an image in [0, 1] through 8-bit JPEG compression at ``quality``."""
    import cv2

    image = check_image(image)
    quality = check_number(quality, name="quality", low=1, high=100, integer=True)
    if image.min() < 0 or image.max() > 1:
        raise ValueError("jpeg needs values in [0, 1]; clip the image first.")
    if image.ndim == 3 and image.shape[2] not in (1, 3):
        raise ValueError(f"JPEG holds grey or RGB images, got {image.shape[2]} channels.")
    samples = np.rint(image * 255).astype(np.uint8)
    ok, buffer = cv2.imencode(".jpg", samples, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("OpenCV could not encode the image as JPEG.")
    decoded = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
    return (decoded.reshape(image.shape) / 255.0).astype(image.dtype)
