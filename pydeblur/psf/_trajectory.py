"""Random camera-shake PSFs (Boracchi & Foi 2012, as used to train DeblurGAN)."""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_number
from ._families import MAX_SIZE
from ._utils import normalize, splat_bilinear


def trajectory(size=None, *, length: float = 30.0, n_steps: int = 2000, anxiety: float = 0.005,
               centripetal: float = 0.35, jitter: float = 5.0, shake_probability: float = 0.1,
               exposure: float = 1.0, angle=None, rng=None) -> np.ndarray:
    """Random camera-shake PSF from a simulated trajectory of the camera.

    The camera's image-plane position follows a random walk of ``n_steps`` equal steps
    and total path ``length``: the velocity persists (inertia), is nudged by Gaussian
    jitter and a pull back towards the start, and occasionally reverses in an
    impulsive shake. The first ``exposure`` fraction of the path is rasterised with
    bilinear (sub-pixel) weights into the kernel.

    Unlike the reference generator, the kernel always sums to 1, its centroid is
    exactly the centre pixel ``size // 2`` (the path is translated before rasterising,
    which bilinear weights preserve), and it is never empty: a path wider than
    ``size`` is shrunk about its centroid to fit.

    Parameters
    ----------
    size : int, optional
        Side of the square kernel. Default: the smallest odd size holding the path.
    length : float
        Total length of the camera path in pixels, > 0.
    n_steps : int
        Number of walk steps (the time resolution), >= 2.
    anxiety : float
        Overall strength of the random perturbations, in [0, 1].
    centripetal : float
        Strength of the pull back towards the starting point, >= 0.
    jitter : float
        Strength of the Gaussian jitter, >= 0.
    shake_probability : float
        Relative frequency of impulsive shakes, in [0, 1]; a step shakes with
        probability ``shake_probability * anxiety``.
    exposure : float
        Fraction of the path inside the exposure, in (0, 1].
    angle : float, optional
        Initial direction in degrees (counter-clockwise from x). Default: drawn from
        ``rng``.
    rng : int or numpy.random.Generator, optional
        Source of randomness; the same seed gives the same kernel.

    Returns
    -------
    numpy.ndarray
        float64 kernel of shape ``(size, size)`` summing to 1.

    References
    ----------
    G. Boracchi and A. Foi, "Modeling the performance of image restoration from
    motion blur", IEEE TIP 21(8), 2012.

    Examples
    --------
    >>> k = trajectory(31, rng=0)
    >>> k.shape, round(float(k.sum()), 12)
    ((31, 31), 1.0)
    """
    from ._trajectory_kernels import camera_path

    length = check_number(length, name="length", low=0, low_inclusive=False)
    n_steps = check_number(n_steps, name="n_steps", low=2, integer=True)
    anxiety = check_number(anxiety, name="anxiety", low=0, high=1)
    centripetal = check_number(centripetal, name="centripetal", low=0)
    jitter = check_number(jitter, name="jitter", low=0)
    shake_probability = check_number(shake_probability, name="shake_probability", low=0, high=1)
    exposure = check_number(exposure, name="exposure", low=0, high=1, low_inclusive=False)
    if size is not None:
        size = check_number(size, name="size", low=1, high=MAX_SIZE, integer=True)
    rng = np.random.default_rng(rng)
    if angle is None:
        angle = rng.uniform(0.0, 360.0)
    angle = check_number(angle, name="angle")

    steps = n_steps - 1
    shake_draws, shake_angles = rng.random(steps), rng.random(steps)
    noise = rng.standard_normal((2, steps))
    x, y = camera_path(length / steps, math.radians(angle), anxiety, centripetal, jitter,
                       shake_probability, shake_draws, shake_angles, noise[0], noise[1])
    used = max(2, math.floor(exposure * steps + 1e-9) + 1)
    cols, rows = x[:used], -y[:used]  # y points up, rows point down
    cols, rows = cols - cols.mean(), rows - rows.mean()
    reach = max(np.abs(cols).max(), np.abs(rows).max())
    if size is None:
        size = 2 * math.ceil(reach - 1e-9) + 1
        if size > MAX_SIZE:
            raise ValueError(f"a trajectory of length {length} needs a {size} px kernel, more than the "
                             f"{MAX_SIZE} px pydeblur builds; check length (in pixels).")
    half = (size - 1) // 2  # room on the short side of an even size
    if reach > half:
        if half == 0:
            shrink = 0.0
        else:
            shrink = half / reach
        cols, rows = cols * shrink, rows * shrink
    c = size // 2
    return normalize(splat_bilinear(c + rows, c + cols, np.ones(used), (size, size)))
