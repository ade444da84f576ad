"""Point-spread functions: parametric families, random camera shake, kernel utilities.

Every generator returns a float64, non-negative kernel that sums to 1 with its centre
at index ``size // 2``.
"""

from ._families import defocus, gaussian, motion
from ._read import read
from ._trajectory import trajectory
from ._utils import (
    center,
    centroid,
    crop,
    normalize,
    otf_to_psf,
    pad_to,
    psf_to_otf,
    rescale,
    to_image,
)

__all__ = [
    "center",
    "centroid",
    "crop",
    "defocus",
    "gaussian",
    "motion",
    "normalize",
    "otf_to_psf",
    "pad_to",
    "psf_to_otf",
    "read",
    "rescale",
    "to_image",
    "trajectory",
]
