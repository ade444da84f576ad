"""Input checks and the float-dtype policy shared by every public entry point.

Every public function that takes an image or a PSF runs it through :func:`check_image`
or :func:`check_psf` first, so the rules below hold everywhere:

* images are float arrays shaped (H, W) or (H, W, C); float32 and float64 are kept,
  float16 becomes float32, integers are refused (use :func:`img_as_float`);
* NaN and inf are refused, empty arrays are refused;
* float values beyond ``LIKELY_0_255`` in magnitude (8) give a UserWarning: the data is
  almost surely 0..255 or 0..65535, which the [0, 1] defaults ('auto' weights, clipping)
  would silently get wrong; float radiance a little above 1 passes quietly;
* PSFs are 2-D (or (h, w, C) for one PSF per channel where allowed), finite,
  non-negative, and sum to 1.

The checked array is never the caller's array when a conversion was needed, and no
check writes to its input.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

#: Relative tolerance on ``psf.sum() == 1``.
PSF_SUM_RTOL = 1e-4
#: Float images with larger magnitudes are warned about as likely 0..255 / 0..65535 data.
LIKELY_0_255 = 8.0


def float_dtype(dtype) -> np.dtype:
    """The float dtype an array of ``dtype`` is computed in: float32 or float64."""
    dtype = np.dtype(dtype)
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


def img_as_float(image, *, dtype=np.float32) -> np.ndarray:
    """Convert an integer or boolean image to float in [0, 1], explicitly.

    pydeblur never rescales integers on its own; call this to say that uint8 data
    means 0..255 and uint16 data 0..65535.

    Parameters
    ----------
    image : array_like
        Unsigned or signed integer, boolean or float image.
    dtype : {numpy.float32, numpy.float64}
        Output dtype.

    Returns
    -------
    numpy.ndarray
        A new float array. Unsigned integers are divided by their type's maximum,
        signed integers map [min, max] to [-1, 1] like scikit-image; floats are copied.

    Examples
    --------
    >>> import numpy as np
    >>> img_as_float(np.array([[0, 255]], dtype=np.uint8))
    array([[0., 1.]], dtype=float32)
    """
    image = np.asarray(image)
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}.")
    if image.dtype == bool:
        return image.astype(dtype)
    if np.issubdtype(image.dtype, np.unsignedinteger):
        return (image / np.iinfo(image.dtype).max).astype(dtype)
    if np.issubdtype(image.dtype, np.signedinteger):
        info = np.iinfo(image.dtype)
        return ((image.astype(np.float64) - info.min) / (info.max - info.min) * 2 - 1).astype(dtype)
    if np.issubdtype(image.dtype, np.floating):
        return image.astype(dtype, copy=True)
    raise TypeError(f"cannot convert an image of dtype {image.dtype} to float.")


def check_image(image, *, name: str = "image", allow_color: bool = True) -> np.ndarray:
    """Validate an image and return it as float32 or float64 (never a view that aliases a copy).

    Parameters
    ----------
    image : array_like
        The candidate image.
    name : str
        Parameter name used in error messages.
    allow_color : bool
        Whether (H, W, C) input is accepted.

    Returns
    -------
    numpy.ndarray
        The image itself when it already is float32/float64 (callers must not write to
        it), otherwise a float32 copy of a float16 image.

    Raises
    ------
    TypeError
        Integer, boolean, complex or object data.
    ValueError
        Wrong number of dimensions, empty array, NaN or inf.
    """
    if not isinstance(image, np.ndarray):
        if isinstance(image, (str, bytes)) or image is None:
            raise TypeError(
                f"{name} must be a numpy array, got {type(image).__name__}; "
                "read files with pydeblur.imread(path)."
            )
        image = np.asarray(image)
    if image.dtype == bool or np.issubdtype(image.dtype, np.integer):
        raise TypeError(
            f"{name} has integer dtype {image.dtype}; pydeblur works on float images in [0, 1]. "
            f"Convert explicitly with pydeblur.img_as_float({name})."
        )
    if not np.issubdtype(image.dtype, np.floating):
        raise TypeError(f"{name} must be a real float array, got dtype {image.dtype}.")
    expected = "(H, W) or (H, W, C)" if allow_color else "(H, W)"
    if image.ndim not in ((2, 3) if allow_color else (2,)):
        raise ValueError(f"{name} must be shaped {expected}, got an array of shape {image.shape}.")
    if image.size == 0:
        raise ValueError(f"{name} is empty (shape {image.shape}); pass an image with pixels.")
    if image.ndim == 3 and not 1 <= image.shape[2] <= 16:
        raise ValueError(
            f"{name} has shape {image.shape}: {image.shape[2]} channels. Images are channels "
            "last, (H, W, C); move the channel axis with numpy.moveaxis(image, 0, -1)."
        )
    if not np.isfinite(image).all():
        raise ValueError(
            f"{name} contains NaN or inf values; replace them first, "
            "e.g. numpy.nan_to_num(image) or inpainting."
        )
    peak = max(float(image.max()), -float(image.min()))  # the largest magnitude, without a temporary copy
    if peak > LIKELY_0_255:
        warnings.warn(
            f"{name} has values up to {peak:.4g}, but pydeblur works on images in [0, 1] (float radiance "
            "may exceed 1 a little). If this is 0..255 or 0..65535 data, scale it: pydeblur.img_as_float "
            "on the integer original, or image / 255.", UserWarning, stacklevel=3)
    if image.dtype == np.float16 or image.dtype.itemsize > 8:
        image = image.astype(float_dtype(image.dtype))
    return image


def check_psf(psf, *, name: str = "psf", image_shape=None, per_channel: bool = False) -> np.ndarray:
    """Validate a PSF: finite, non-negative, 2-D (or (h, w, C)), summing to 1.

    Parameters
    ----------
    psf : array_like
        The candidate PSF.
    name : str
        Parameter name used in error messages.
    image_shape : tuple, optional
        When given, the PSF must not be larger than the image in either axis, and a
        per-channel PSF must have as many channels as the image.
    per_channel : bool
        Whether a stack of PSFs shaped (h, w, C), one per colour channel, is accepted.

    Returns
    -------
    numpy.ndarray
        The PSF as float64 (a new array when a conversion was needed).
    """
    psf = np.asarray(psf)
    if not (np.issubdtype(psf.dtype, np.floating) or np.issubdtype(psf.dtype, np.integer)):
        raise TypeError(f"{name} must be a real numeric array, got dtype {psf.dtype}.")
    expected = "(h, w) or (h, w, C)" if per_channel else "(h, w)"
    if psf.ndim not in ((2, 3) if per_channel else (2,)):
        raise ValueError(f"{name} must be shaped {expected}, got an array of shape {psf.shape}.")
    if psf.size == 0:
        raise ValueError(f"{name} is empty (shape {psf.shape}).")
    psf = psf.astype(np.float64, copy=False)
    if not np.isfinite(psf).all():
        raise ValueError(f"{name} contains NaN or inf values.")
    if (psf < 0).any():
        raise ValueError(
            f"{name} has negative values (min {psf.min():.3g}); a PSF is a non-negative "
            "weighting. Clip it with numpy.clip(psf, 0, None) and renormalise with "
            "pydeblur.psf.normalize."
        )
    sums = psf.sum(axis=(0, 1))
    if np.any(sums <= 0):
        raise ValueError(f"{name} sums to zero; a PSF needs at least one positive value.")
    if np.any(np.abs(sums - 1) > PSF_SUM_RTOL):
        raise ValueError(
            f"{name} sums to {np.round(sums, 6)}, expected 1 (a PSF preserves brightness). "
            f"Normalise it with pydeblur.psf.normalize({name})."
        )
    if image_shape is not None:
        if psf.shape[0] > image_shape[0] or psf.shape[1] > image_shape[1]:
            raise ValueError(
                f"{name} of shape {psf.shape[:2]} is larger than the image "
                f"{tuple(image_shape[:2])}; crop the PSF (pydeblur.psf.crop) or use a larger image."
            )
        if psf.ndim == 3:
            channels = image_shape[2] if len(image_shape) == 3 else 1
            if psf.shape[2] != channels:
                raise ValueError(
                    f"{name} has {psf.shape[2]} per-channel PSFs but the image has {channels} "
                    "channel(s); pass one 2-D PSF for all channels or one per channel."
                )
    return psf


def check_choice(value, choices, *, name: str):
    """Raise a ValueError naming ``name`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}.")
    return value


def check_number(value, *, name: str, low=None, high=None, low_inclusive=True,
                 high_inclusive=True, integer=False):
    """Validate a real scalar in an interval and return it as float (or int)."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "an integer" if integer else "a real number"
        raise TypeError(f"{name} must be {what}, got {value!r} ({type(value).__name__}).")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    too_low = low is not None and (value < low if low_inclusive else value <= low)
    too_high = high is not None and (value > high if high_inclusive else value >= high)
    if too_low or too_high:
        left = "[" if low_inclusive else "("
        right = "]" if high_inclusive else ")"
        interval = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
        raise ValueError(f"{name} must lie in {interval}, got {value!r}.")
    return int(value) if integer else float(value)
