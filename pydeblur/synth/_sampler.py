"""Random PSFs from every family, with their parameters recorded."""

from __future__ import annotations

import numpy as np

from .. import psf as psf_module
from .._validation import check_number

FAMILIES = ("gaussian", "defocus", "motion", "trajectory")


class PSFSampler:
    """Draw random PSFs of the chosen families, no larger than ``max_size``.

    Parameter ranges (``m = max_size``): Gaussian sigma in [0.5, (m - 1) / 6] along and
    up to that across, any angle; defocus radius in [1, (m - 1) / 2]; motion length in
    [3, m], any angle; camera-shake trajectory path length in [m / 4, 1.5 m] with
    DeblurGAN-like random anxiety, centripetal pull, jitter and shakes (paths wider
    than ``m`` are shrunk to fit).

    Parameters
    ----------
    families : sequence of str
        Any of 'gaussian', 'defocus', 'motion', 'trajectory'.
    max_size : int
        Largest kernel side, odd, >= 5.
    weights : sequence of float, optional
        Relative probability of each family; uniform by default.

    Examples
    --------
    >>> k, info = PSFSampler(max_size=15)(rng=0)
    >>> k.shape[0] <= 15, info["family"] in FAMILIES
    (True, True)
    """

    def __init__(self, families=FAMILIES, *, max_size: int = 31, weights=None):
        self.families = families
        self.max_size = max_size
        self.weights = weights

    def _checked(self):
        families = tuple(self.families)
        unknown = [f for f in families if f not in FAMILIES]
        if not families or unknown:
            raise ValueError(f"families must be chosen from {FAMILIES}, got {families!r}.")
        max_size = check_number(self.max_size, name="max_size", low=5, integer=True)
        if max_size % 2 == 0:
            raise ValueError(f"max_size must be odd (a centred kernel), got {max_size}.")
        if self.weights is None:
            weights = np.full(len(families), 1.0 / len(families))
        else:
            weights = np.asarray(self.weights, dtype=float)
            if weights.shape != (len(families),) or (weights < 0).any() or weights.sum() <= 0:
                raise ValueError(
                    f"weights must be {len(families)} non-negative numbers with a positive sum, "
                    f"got {self.weights!r}."
                )
            weights = weights / weights.sum()
        return families, max_size, weights

    def __call__(self, rng=None) -> tuple[np.ndarray, dict]:
        """Draw one PSF; returns ``(psf, {"family": name, "params": {...}})``."""
        families, m, weights = self._checked()
        rng = np.random.default_rng(rng)
        family = families[rng.choice(len(families), p=weights)]
        if family == "gaussian":
            along = rng.uniform(0.5, (m - 1) / 6)
            params = {"sigma": [along, rng.uniform(0.5, along)], "angle": rng.uniform(0, 180)}
            kernel = psf_module.gaussian(params["sigma"], angle=params["angle"])
        elif family == "defocus":
            params = {"radius": rng.uniform(1.0, (m - 1) / 2)}
            kernel = psf_module.defocus(**params)
        elif family == "motion":
            params = {"length": rng.uniform(3.0, m), "angle": rng.uniform(0, 180)}
            kernel = psf_module.motion(**params)
        else:
            params = {
                "length": rng.uniform(m / 4, 1.5 * m),
                "anxiety": rng.uniform(0.001, 0.008),
                "centripetal": rng.uniform(0.0, 0.7),
                "jitter": rng.uniform(0.0, 10.0),
                "shake_probability": rng.uniform(0.0, 0.2),
                "exposure": rng.uniform(0.5, 1.0),
                "angle": rng.uniform(0, 360),
            }
            seed = int(rng.integers(2**63))
            kernel = psf_module.trajectory(rng=seed, **params)
            if kernel.shape[0] > m:
                kernel = psf_module.trajectory(m, rng=seed, **params)
            params["seed"] = seed
        return kernel, {"family": family, "params": params}
