"""Parametric PSF families: Gaussian, defocus disk, linear motion.

Geometry used by every family: ``x`` points right (columns), ``y`` points up (towards
row 0), angles are in degrees counter-clockwise from the ``x`` axis, and the kernel's
centre is the pixel ``(size // 2, size // 2)``.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_number
from ._utils import normalize, splat_bilinear

_SUPERSAMPLE = 8  # sub-samples per pixel side for pixel-integrated kernels


#: Largest kernel side a PSF family builds (a 1025 x 1025 kernel is 8 MB; larger ones are a typo).
MAX_SIZE = 1025


def _check_size(size, minimum: int, *, what: str) -> int:
    if minimum > MAX_SIZE:
        raise ValueError(f"{what} needs a {minimum} px kernel, more than the {MAX_SIZE} px pydeblur builds; "
                         "check the parameter (pixels, not a fraction of the image).")
    if size is None:
        return minimum
    size = check_number(size, name="size", low=1, high=MAX_SIZE, integer=True)
    if size < minimum:
        raise ValueError(
            f"size={size} is too small for {what}: it needs at least {minimum} pixels. "
            "Pass a larger size or leave size=None to choose it automatically."
        )
    return size


def _subpixel_grid(size: int):
    """Sub-pixel sample coordinates ``(x, y)`` relative to the centre pixel, y up."""
    offsets = (np.arange(size * _SUPERSAMPLE) + 0.5) / _SUPERSAMPLE - 0.5 - size // 2
    x = offsets[None, :]
    y = -offsets[:, None]
    return x, y


def _pixel_average(samples: np.ndarray, size: int) -> np.ndarray:
    return samples.reshape(size, _SUPERSAMPLE, size, _SUPERSAMPLE).mean(axis=(1, 3))


def gaussian(sigma, *, size=None, angle: float = 0.0) -> np.ndarray:
    """Gaussian PSF, isotropic or anisotropic, integrated over each pixel.

    Parameters
    ----------
    sigma : float or (float, float)
        Standard deviation in pixels; a pair gives ``(sigma_along, sigma_across)``
        the direction ``angle``.
    size : int, optional
        Side of the square kernel. Default: ``2 * ceil(3 * max(sigma)) + 1``; a
        smaller size truncates the Gaussian (then renormalised).
    angle : float
        Direction of the first sigma, degrees counter-clockwise from the x axis.

    Returns
    -------
    numpy.ndarray
        float64 kernel of shape ``(size, size)`` summing to 1.

    Examples
    --------
    >>> k = gaussian(1.5)
    >>> k.shape, round(float(k.sum()), 12)
    ((11, 11), 1.0)
    """
    sigmas = np.atleast_1d(np.asarray(sigma, dtype=float))
    if sigmas.shape not in ((1,), (2,)):
        raise ValueError(f"sigma must be a number or a pair of numbers, got {sigma!r}.")
    for s in sigmas:
        check_number(float(s), name="sigma", low=0)
    s_along, s_across = (sigmas[0], sigmas[0]) if sigmas.size == 1 else sigmas
    angle = check_number(angle, name="angle")
    if size is None:  # +-3 sigma; a smaller explicit size truncates the Gaussian
        size = 2 * math.ceil(3 * max(s_along, s_across)) + 1
    size = _check_size(size, 1, what="a Gaussian")
    x, y = _subpixel_grid(size)
    theta = math.radians(angle)
    u = x * math.cos(theta) + y * math.sin(theta)
    v = -x * math.sin(theta) + y * math.cos(theta)
    # A zero sigma is the limit of a very narrow Gaussian: a line or a point.
    tiny = 0.5 / _SUPERSAMPLE
    quad = (u / max(s_along, tiny)) ** 2 + (v / max(s_across, tiny)) ** 2
    return normalize(_pixel_average(np.exp(-0.5 * quad), size))


def defocus(radius: float, *, size=None) -> np.ndarray:
    """Out-of-focus disk PSF with anti-aliased edges (pixel coverage of the disk).

    Parameters
    ----------
    radius : float
        Disk radius in pixels, >= 0; 0 gives a delta.
    size : int, optional
        Side of the square kernel. Default: ``2 * ceil(radius) + 1``.

    Returns
    -------
    numpy.ndarray
        float64 kernel of shape ``(size, size)`` summing to 1.
    """
    radius = check_number(radius, name="radius", low=0)
    size = _check_size(size, 2 * math.ceil(radius) + 1, what=f"a disk of radius {radius}")
    x, y = _subpixel_grid(size)
    inside = (x**2 + y**2 <= radius**2).astype(float)
    kernel = _pixel_average(inside, size)
    if kernel.sum() == 0:  # radius smaller than the sub-pixel grid: a point
        kernel[size // 2, size // 2] = 1.0
    return normalize(kernel)


def motion(length: float, angle: float = 0.0, *, size=None) -> np.ndarray:
    """Linear motion PSF: a straight streak ``length`` pixels long, sub-pixel anti-aliased.

    The camera is displaced by ``length - 1`` pixels during the exposure; the segment
    it traces is centred on the centre pixel and integrated with a bilinear (tent)
    footprint, so a horizontal ``length=21`` streak covers exactly 21 pixels (like
    MATLAB's ``fspecial('motion')``), its centroid is exactly the centre, and any angle
    or fractional length renders smoothly.

    Parameters
    ----------
    length : float
        Number of pixels the streak covers along its direction, >= 0; up to 1 gives
        a delta.
    angle : float
        Direction of motion, degrees counter-clockwise from the x axis.
    size : int, optional
        Side of the square kernel. Default: the smallest odd size holding the segment.

    Returns
    -------
    numpy.ndarray
        float64 kernel of shape ``(size, size)`` summing to 1.

    Examples
    --------
    >>> k = motion(5, 0)
    >>> k.shape, k[2].round(3).tolist()
    ((5, 5), [0.125, 0.25, 0.25, 0.25, 0.125])
    """
    length = check_number(length, name="length", low=0)
    angle = check_number(angle, name="angle")
    theta = math.radians(angle)
    dx, dy = math.cos(theta), -math.sin(theta)  # column and row steps (rows point down)
    displacement = max(length - 1.0, 0.0)
    half_extent = 0.5 * displacement * max(abs(dx), abs(dy))
    size = _check_size(size, 2 * math.ceil(half_extent - 1e-9) + 1, what=f"a motion of length {length}")
    n = max(2, math.ceil(displacement * 16) + 1)
    t = np.linspace(-0.5, 0.5, n) * displacement
    weights = np.ones(n)
    weights[[0, -1]] = 0.5  # trapezoid rule: the line integral of the segment
    c = size // 2
    return normalize(splat_bilinear(c + t * dy, c + t * dx, weights, (size, size)))
