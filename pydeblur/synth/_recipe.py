"""The training blur of the networks: wide enough to cover what real photos show."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import ndimage, signal

from .. import psf as psf_module
from ._pipeline import DegradedPair, degrade
from ._sampler import PSFSampler

#: Kernel kinds of :class:`BlurRecipe` and their default probabilities.
RECIPE_KINDS = {"trajectory": 0.45, "motion": 0.15, "defocus": 0.1, "gaussian": 0.1, "shake+defocus": 0.15,
                "none": 0.05}


def _rotated(kernel: np.ndarray, angle: float) -> np.ndarray:
    """``kernel`` rotated by ``angle`` degrees about its centre, non-negative, summing to 1."""
    turned = np.clip(ndimage.rotate(kernel, angle, reshape=False, order=1), 0, None)
    return turned / turned.sum() if turned.sum() > 0 else kernel


@dataclasses.dataclass
class BlurRecipe:
    """A random degradation for training pairs: kernel, non-uniform blur, camera and noise.

    Every draw picks a kernel side (log-uniform in ``kernel_sizes``), a kernel kind
    (``kinds``: camera-shake trajectory, linear motion, defocus, Gaussian, shake blurred
    by a little defocus, or none: a sharp photo that must stay as it is), a random
    90-degree turn and flip of the kernel, and with ``nonuniform_probability`` a smoothly
    varying blur (a 2x2 or 3x3 grid of the kernel turned by up to ``max_rotation`` degrees
    across the frame, as a camera rotating about its axis makes). The photo then goes
    through :func:`degrade` with 'valid' blur: a random camera response, saturation,
    Gaussian and Poisson noise and JPEG, each within the ranges below.

    Parameters
    ----------
    kernel_sizes : (int, int)
        Smallest and largest kernel side (odd, largest <= 99).
    kinds : dict, optional
        Kernel kind -> probability (see :data:`RECIPE_KINDS`, the default).
    nonuniform_probability, max_rotation : float
        How often the blur varies across the frame, and by how much.
    noise_sigma : (float, float)
        Range of the Gaussian noise sigma (uniform).
    poisson_probability, poisson_peak : float, (float, float)
        How often shot noise is added, and the range of photons at value 1 (log-uniform).
    gamma_probability, gamma : float, (float, float)
        How often the blur happens in linear light behind a camera response ``x ** (1/gamma)``.
    saturation_probability, exposure : float, (float, float)
        How often highlights saturate, and the gain that makes them.
    jpeg_probability, jpeg_quality : float, (int, int)
        How often the result is JPEG-compressed, and the quality range.

    Examples
    --------
    >>> recipe = BlurRecipe(kernel_sizes=(3, 15))
    >>> photo = np.random.default_rng(0).random((64, 64, 3))
    >>> blurry, sharp, meta = recipe(photo, rng=1)
    >>> blurry.shape == sharp.shape and blurry.shape[0] <= 64
    True
    """

    kernel_sizes: tuple = (3, 45)
    kinds: dict = dataclasses.field(default_factory=lambda: dict(RECIPE_KINDS))
    nonuniform_probability: float = 0.2
    max_rotation: float = 10.0
    noise_sigma: tuple = (0.0, 0.03)
    poisson_probability: float = 0.3
    poisson_peak: tuple = (100.0, 3000.0)
    gamma_probability: float = 0.5
    gamma: tuple = (1.8, 2.4)
    saturation_probability: float = 0.1
    exposure: tuple = (1.0, 1.6)
    jpeg_probability: float = 0.3
    jpeg_quality: tuple = (60, 95)

    def __post_init__(self):
        low, high = self.kernel_sizes
        if not (isinstance(low, int) and isinstance(high, int) and 1 <= low <= high <= 99 and high % 2):
            raise ValueError(f"kernel_sizes must be two ints 1 <= low <= high <= 99 with high odd, "
                             f"got {self.kernel_sizes!r}.")
        unknown = sorted(set(self.kinds) - set(RECIPE_KINDS))
        weights = np.array(list(self.kinds.values()), dtype=float)
        if unknown or not self.kinds or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"kinds must map names from {sorted(RECIPE_KINDS)} to non-negative "
                             f"probabilities with a positive sum, got {self.kinds!r}.")
        for name in ("nonuniform_probability", "poisson_probability", "gamma_probability",
                     "saturation_probability", "jpeg_probability"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)!r}.")

    @property
    def max_kernel_size(self) -> int:
        """The largest kernel side a draw can have (a turned grid pads the kernel by up to 3)."""
        return self.kernel_sizes[1] + 3

    def kernel(self, rng) -> tuple[np.ndarray, dict]:
        """Draw one kernel (odd side <= ``max_kernel_size``) and what it is."""
        rng = np.random.default_rng(rng)
        names = list(self.kinds)
        weights = np.array([self.kinds[n] for n in names], dtype=float)
        kind = names[rng.choice(len(names), p=weights / weights.sum())]
        low, high = self.kernel_sizes
        side = int(np.exp(rng.uniform(np.log(max(low, 3)), np.log(high))))
        side = max(5, side | 1)
        if kind == "none":
            kernel = np.ones((1, 1))
        elif kind == "shake+defocus":
            shake, _ = PSFSampler(("trajectory",), max_size=side)(rng)
            kernel = signal.convolve2d(shake, psf_module.gaussian(rng.uniform(0.5, 1.5)))
        else:
            kernel, _ = PSFSampler((kind,), max_size=side)(rng)
        kernel = np.rot90(kernel, int(rng.integers(4)))
        kernel = kernel[:, ::-1] if rng.integers(2) else kernel
        if max(kernel.shape) > high:
            kernel = psf_module.crop(kernel, tuple(min(n, high) for n in kernel.shape))
        return np.ascontiguousarray(kernel), {"kind": kind, "side": side}

    def _grid(self, kernel, rng) -> np.ndarray:
        """A (g, g, h, w) grid of ``kernel`` turned progressively across the frame."""
        g = int(rng.integers(2, 4))
        side = max(kernel.shape) + 2
        base = psf_module.pad_to(kernel, (side | 1, side | 1))
        spread = rng.uniform(-self.max_rotation, self.max_rotation, size=2)
        grid = np.empty((g, g, *base.shape))
        for i in range(g):
            for j in range(g):
                angle = spread[0] * (i / (g - 1) - 0.5) + spread[1] * (j / (g - 1) - 0.5)
                grid[i, j] = _rotated(base, angle)
        return grid

    def draw(self, rng=None) -> tuple[np.ndarray, dict, dict]:
        """One random degradation: ``(psf, options, info)``.

        ``psf`` is a kernel or a (g, g, h, w) grid; ``options`` are :func:`degrade`'s
        keyword arguments (noise, camera response, exposure, JPEG); ``info`` says which
        kind of kernel it is. A caller that crops can cut the photo to the crop plus
        the kernel side minus one before degrading it.
        """
        rng = np.random.default_rng(rng)
        kernel, info = self.kernel(rng)
        info["nonuniform"] = bool(info["kind"] != "none" and rng.random() < self.nonuniform_probability)
        if info["nonuniform"]:
            kernel = self._grid(kernel, rng)
        options = {"noise_sigma": float(rng.uniform(*self.noise_sigma))}
        if rng.random() < self.poisson_probability:
            options["poisson_peak"] = float(np.exp(rng.uniform(*np.log(self.poisson_peak))))
        if rng.random() < self.gamma_probability:
            options["gamma"] = float(rng.uniform(*self.gamma))
        if rng.random() < self.saturation_probability:
            options["exposure"] = float(rng.uniform(*self.exposure))
        if rng.random() < self.jpeg_probability:
            options["jpeg_quality"] = int(rng.integers(self.jpeg_quality[0], self.jpeg_quality[1] + 1))
        return kernel, options, info

    def __call__(self, photo, rng=None) -> DegradedPair:
        """Degrade ``photo`` (float in [0, 1]); the result is smaller by the kernel side minus one."""
        rng = np.random.default_rng(rng)
        kernel, options, info = self.draw(rng)
        blurry, sharp, meta = degrade(photo, psf=kernel, boundary="valid", rng=rng, **options)
        meta.update(recipe_kind=info["kind"], nonuniform=info["nonuniform"])
        return DegradedPair(blurry, sharp, meta)
