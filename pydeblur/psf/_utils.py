"""Kernel utilities: normalise, centre, pad, crop, rescale, OTF conversion, display.

Convention (stated once, used everywhere): a PSF's centre is the pixel at index
``(h // 2, w // 2)``. :func:`psf_to_otf` pads the PSF to the image size and rolls that
pixel to the origin, so a real FFT of the result is the transfer function of
*convolution* with the PSF.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
from scipy import ndimage

from .._validation import check_number


def _as_kernel(psf, name="psf") -> np.ndarray:
    psf = np.asarray(psf, dtype=np.float64)
    if psf.ndim != 2 or psf.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {psf.shape}.")
    if not np.isfinite(psf).all():
        raise ValueError(f"{name} contains NaN or inf values.")
    return psf


def normalize(psf) -> np.ndarray:
    """Return ``psf`` as float64 scaled to sum to 1 (negative values are refused).

    Parameters
    ----------
    psf : array_like
        Non-negative 2-D array with a positive sum.

    Returns
    -------
    numpy.ndarray
        A new float64 array.

    Examples
    --------
    >>> normalize([[1, 1], [1, 1]])
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    psf = _as_kernel(psf)
    if (psf < 0).any():
        raise ValueError(
            f"psf has negative values (min {psf.min():.3g}); clip them first with numpy.clip."
        )
    total = psf.sum()
    if total <= 0:
        raise ValueError("psf sums to zero and cannot be normalised; it needs a positive value.")
    return psf / total


def centroid(psf) -> tuple[float, float]:
    """Centre of mass ``(row, col)`` of a non-negative kernel."""
    psf = _as_kernel(psf)
    total = psf.sum()
    if total <= 0:
        raise ValueError("psf sums to zero; its centroid is undefined.")
    rows = np.arange(psf.shape[0]) @ psf.sum(axis=1) / total
    cols = np.arange(psf.shape[1]) @ psf.sum(axis=0) / total
    return float(rows), float(cols)


def center(psf, *, subpixel: bool = False) -> np.ndarray:
    """Shift a kernel so its centroid lies on the centre pixel ``(h // 2, w // 2)``.

    Parameters
    ----------
    psf : array_like
        Non-negative 2-D kernel.
    subpixel : bool
        ``False`` shifts by whole pixels (the kernel's values are kept exactly);
        ``True`` also removes the fractional offset with bilinear interpolation, which
        slightly smooths the kernel.

    Returns
    -------
    numpy.ndarray
        Centred kernel, same shape, summing to 1. Mass shifted past the border is lost
        before the renormalisation; pad the kernel first if that matters.
    """
    psf = normalize(psf)
    cy, cx = centroid(psf)
    dy, dx = psf.shape[0] // 2 - cy, psf.shape[1] // 2 - cx
    if not subpixel:
        dy, dx = round(dy), round(dx)
    if dy == 0 and dx == 0:
        return psf
    shifted = ndimage.shift(psf, (dy, dx), order=1 if subpixel else 0, mode="constant", cval=0.0)
    shifted = np.clip(shifted, 0, None)
    return normalize(shifted)


def _centred_slices(old: int, new: int) -> tuple[slice, slice]:
    """Slices (into old, into new) that keep index ``size // 2`` aligned."""
    offset = new // 2 - old // 2
    src_start, dst_start = max(0, -offset), max(0, offset)
    length = min(old - src_start, new - dst_start)
    return slice(src_start, src_start + length), slice(dst_start, dst_start + length)


def pad_to(psf, shape) -> np.ndarray:
    """Zero-pad a kernel to ``shape`` keeping its centre pixel the centre pixel.

    Parameters
    ----------
    psf : array_like
        2-D kernel.
    shape : tuple of int
        Target ``(h, w)``, each at least the kernel's size.
    """
    psf = _as_kernel(psf)
    shape = tuple(int(s) for s in shape)
    if len(shape) != 2 or shape[0] < psf.shape[0] or shape[1] < psf.shape[1]:
        raise ValueError(
            f"shape must be (h, w) no smaller than the kernel {psf.shape}, got {shape}; "
            "use pydeblur.psf.crop to shrink a kernel."
        )
    out = np.zeros(shape)
    (sy, dy), (sx, dx) = _centred_slices(psf.shape[0], shape[0]), _centred_slices(psf.shape[1], shape[1])
    out[dy, dx] = psf[sy, sx]
    return out


def crop(psf, shape) -> np.ndarray:
    """Crop a kernel to ``shape`` around its centre pixel and renormalise it to sum to 1.

    Parameters
    ----------
    psf : array_like
        Non-negative 2-D kernel.
    shape : tuple of int
        Target ``(h, w)``, each at most the kernel's size.
    """
    psf = _as_kernel(psf)
    shape = tuple(int(s) for s in shape)
    if len(shape) != 2 or not (0 < shape[0] <= psf.shape[0] and 0 < shape[1] <= psf.shape[1]):
        raise ValueError(
            f"shape must be (h, w) between 1 and the kernel's size {psf.shape}, got {shape}; "
            "use pydeblur.psf.pad_to to enlarge a kernel."
        )
    (sy, _), (sx, _) = _centred_slices(psf.shape[0], shape[0]), _centred_slices(psf.shape[1], shape[1])
    return normalize(psf[sy, sx])


def rescale(psf, factor: float) -> np.ndarray:
    """Resample a kernel by ``factor`` about its centre (coarse-to-fine pyramids).

    Each side becomes the odd number nearest ``factor`` times its length (at least 1);
    values are interpolated bilinearly about the centre pixel, clipped at 0 and
    renormalised. No anti-aliasing prefilter is applied, as in the usual pyramids.

    Parameters
    ----------
    psf : array_like
        Non-negative 2-D kernel.
    factor : float
        Scale factor, > 0; below 1 shrinks the kernel (a coarser pyramid level).
    """
    psf = _as_kernel(psf)
    factor = check_number(factor, name="factor", low=0, low_inclusive=False)
    new_shape = [max(1, 2 * round((n * factor - 1) / 2) + 1) for n in psf.shape]
    centre_in = np.array([n // 2 for n in psf.shape], dtype=float)
    centre_out = np.array([n // 2 for n in new_shape], dtype=float)
    grid = np.indices(new_shape, dtype=float)
    coords = (grid - centre_out[:, None, None]) / factor + centre_in[:, None, None]
    out = ndimage.map_coordinates(psf, coords, order=1, mode="constant", cval=0.0)
    out = np.clip(out, 0, None)
    if out.sum() <= 0:  # a kernel shrunk below one pixel
        out = np.zeros(new_shape)
        out[new_shape[0] // 2, new_shape[1] // 2] = 1.0
    return normalize(out)


def psf_to_otf(psf, shape, *, dtype=np.float64, workers=None) -> np.ndarray:
    """Optical transfer function of ``psf`` for images of ``shape``, as a half spectrum.

    Parameters
    ----------
    psf : array_like
        2-D kernel, at most ``shape`` in size.
    shape : tuple of int
        Spatial ``(H, W)`` of the (possibly padded) image the OTF applies to.
    dtype : {numpy.float32, numpy.float64}
        Real dtype of the computation; the OTF is complex64 or complex128.
    workers : int, optional
        scipy.fft threads; None uses one.

    Returns
    -------
    numpy.ndarray
        ``scipy.fft.rfft2`` of the kernel zero-padded to ``shape`` with its centre
        pixel rolled to the origin, shaped ``(H, W // 2 + 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> otf = psf_to_otf(np.ones((3, 3)) / 9, (8, 8))
    >>> otf.shape, round(float(abs(otf[0, 0])), 6)
    ((8, 5), 1.0)
    """
    psf = np.asarray(psf)
    shape = tuple(int(s) for s in shape[:2])
    if psf.ndim != 2 or psf.shape[0] > shape[0] or psf.shape[1] > shape[1]:
        raise ValueError(f"psf of shape {psf.shape} does not fit in an image of shape {shape}.")
    kh, kw = psf.shape
    # A pruned 2-D FFT: only the kernel's kh rows are non-zero, so the row transforms
    # run on kh rows instead of H; the column transforms then fill the half spectrum.
    rows = np.zeros((kh, shape[1]), dtype=dtype)
    rows[:, (np.arange(kw) - kw // 2) % shape[1]] = psf
    half = np.zeros((shape[0], shape[1] // 2 + 1), dtype=np.result_type(dtype, np.complex64))
    half[(np.arange(kh) - kh // 2) % shape[0]] = scipy.fft.rfft(rows, axis=1, workers=workers)
    return scipy.fft.fft(half, axis=0, overwrite_x=True, workers=workers)


def otf_to_psf(otf, shape, psf_shape) -> np.ndarray:
    """Inverse of :func:`psf_to_otf`: the ``psf_shape`` kernel whose OTF is ``otf``.

    Parameters
    ----------
    otf : numpy.ndarray
        Half spectrum shaped ``(H, W // 2 + 1)``.
    shape : tuple of int
        The full spatial ``(H, W)`` the OTF was computed for.
    psf_shape : tuple of int
        Size of the kernel to cut out.
    """
    shape = tuple(int(s) for s in shape[:2])
    full = scipy.fft.irfft2(otf, s=shape)
    full = np.roll(full, (psf_shape[0] // 2, psf_shape[1] // 2), axis=(0, 1))
    return full[: psf_shape[0], : psf_shape[1]]


def to_image(psf, *, scale: int = 1) -> np.ndarray:
    """Render a kernel as a viewable float32 image in [0, 1] (peak = 1).

    Parameters
    ----------
    psf : array_like
        Non-negative 2-D kernel.
    scale : int
        Integer upscaling (nearest neighbour) so small kernels stay visible.
    """
    psf = _as_kernel(psf)
    scale = check_number(scale, name="scale", low=1, integer=True)
    if max(psf.shape) * scale > 16384:
        side = max(psf.shape) * scale
        raise ValueError(f"scale={scale} would draw an image {side} px wide; keep the side under 16384 px.")
    peak = psf.max()
    image = psf / peak if peak > 0 else np.zeros_like(psf)
    image = np.clip(image, 0, 1).astype(np.float32)
    return np.kron(image, np.ones((scale, scale), dtype=np.float32)) if scale > 1 else image


def splat_bilinear(rows, cols, weights, shape) -> np.ndarray:
    """Accumulate weighted points into a grid with bilinear weights.

    Each point spreads its weight over its four neighbouring pixels, so the grid's
    total is the weights' total and its centroid is the points' weighted centroid.
    Points must lie in ``[0, h - 1] x [0, w - 1]``.
    """
    h, w = shape
    r0 = np.clip(np.floor(rows).astype(np.intp), 0, h - 2) if h > 1 else np.zeros(len(rows), np.intp)
    c0 = np.clip(np.floor(cols).astype(np.intp), 0, w - 2) if w > 1 else np.zeros(len(cols), np.intp)
    fr, fc = rows - r0, cols - c0
    flat = np.zeros(h * w + w + 2)
    for dr, dc, wgt in (
        (0, 0, (1 - fr) * (1 - fc)),
        (0, 1, (1 - fr) * fc),
        (1, 0, fr * (1 - fc)),
        (1, 1, fr * fc),
    ):
        flat += np.bincount((r0 + dr) * w + (c0 + dc), weights * wgt, minlength=flat.size)
    return flat[: h * w].reshape(h, w)
