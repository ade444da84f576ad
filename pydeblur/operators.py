"""The forward model: convolution with a PSF, its adjoint, and boundary extension.

Model
-----
Every blur here is *convolution* (not correlation) with a PSF whose centre pixel is
``(h // 2, w // 2)``. An image that is blurred "with boundary B" is first extended
beyond its edges by rule B, convolved, and cut back:

* ``"periodic"``: the image wraps around (circular convolution);
* ``"reflect"``: mirrored about the edge, edge pixel repeated (numpy's ``symmetric``);
* ``"zero"``: zeros outside;
* ``"valid"``: no extension; only the pixels whose whole footprint lies inside the
  image are returned, so the output is smaller by the PSF size minus one. This is
  how a real camera sees a scene that continues past the frame.

Written as ``A = V P`` (``P`` pads, ``V`` is the valid convolution), the adjoint
``A^T = P^T V^T`` is exact for every boundary, which the tests check with dot-tests.

:func:`pad_boundary` extends an image for the FFT-based solvers, including the smooth
periodic extension of Liu & Jia (2008) that removes wrap-around ringing.

Solvers
-------
Every FFT-based solver (Wiener, Richardson-Lucy, hyper-Laplacian, TV, the latent and
kernel steps of blind deconvolution) works on one padded grid through a
:class:`BlurOperator`: circular convolution ``A x = k * x`` on that grid, its adjoint,
the data term ``lam A^T y`` in Fourier, the closed-form solve of
``(lam A^T A + beta R^T R) x = rhs`` for a regulariser given by its spectrum, and the
re-estimation of the unseen border. Periodic forward differences, the regulariser of
most solvers, have the spectrum :func:`gradient_energy`.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

from ._validation import check_choice, check_image, check_number, check_psf
from .psf._utils import psf_to_otf

CONVOLVE_BOUNDARIES = ("periodic", "reflect", "zero", "valid")
SOLVER_BOUNDARIES = ("periodic", "reflect", "smooth")
_NUMPY_PAD_MODE = {"periodic": "wrap", "reflect": "symmetric", "zero": "constant"}
#: PSFs with at most this many taps are applied directly (OpenCV) under method="auto".
_DIRECT_MAX_TAPS = 11 * 11


def _psf_stack(psf, channels: int) -> np.ndarray:
    """PSF as an (h, w, C) stack so one code path handles shared and per-channel PSFs."""
    return np.repeat(psf[:, :, None], channels, axis=2) if psf.ndim == 2 else psf


def _channels_first(image: np.ndarray) -> np.ndarray:
    """(H, W) -> (1, H, W); (H, W, C) -> (C, H, W), contiguous for fast FFTs."""
    if image.ndim == 2:
        return image[None]
    return np.ascontiguousarray(np.moveaxis(image, -1, 0))


def _channels_last(stack: np.ndarray, ndim: int) -> np.ndarray:
    return stack[0] if ndim == 2 else np.moveaxis(stack, 0, -1)


def _pad_before_after(psf_shape) -> tuple[tuple[int, int], tuple[int, int]]:
    """Padding that makes a valid convolution return the input's size, aligned."""
    return tuple((k - 1 - k // 2, k // 2) for k in psf_shape[:2])


def _valid_convolve(stack: np.ndarray, psfs: np.ndarray, *, method: str, workers) -> np.ndarray:
    """Valid convolution of a (C, H, W) stack with (h, w, C) PSFs -> (C, H-h+1, W-w+1)."""
    kh, kw = psfs.shape[:2]
    out_h, out_w = stack.shape[1] - kh + 1, stack.shape[2] - kw + 1
    dtype = stack.dtype
    if method == "direct":
        import cv2

        out = np.empty((stack.shape[0], out_h, out_w), dtype=dtype)
        for c in range(stack.shape[0]):
            flipped = np.ascontiguousarray(psfs[::-1, ::-1, c], dtype=dtype)
            full = cv2.filter2D(stack[c], -1, flipped, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
            out[c] = full[:out_h, :out_w]
        return out
    shape = (scipy.fft.next_fast_len(stack.shape[1], real=True),
             scipy.fft.next_fast_len(stack.shape[2], real=True))
    spectrum = scipy.fft.rfft2(stack, s=shape, workers=workers)
    if np.all(psfs == psfs[:, :, :1]):  # one PSF for every channel: one kernel FFT
        spectrum *= scipy.fft.rfft2(psfs[:, :, 0].astype(dtype), s=shape, workers=workers)
    else:
        spectrum *= scipy.fft.rfft2(np.moveaxis(psfs, -1, 0).astype(dtype), s=shape, workers=workers)
    full = scipy.fft.irfft2(spectrum, s=shape, workers=workers)
    # Entries from index (kh-1, kw-1) to the stack's end never see the wrap-around.
    return full[:, kh - 1 : stack.shape[1], kw - 1 : stack.shape[2]]


def _pad_adjoint(padded: np.ndarray, pads, mode: str) -> np.ndarray:
    """Adjoint of ``numpy.pad(x, pads, mode)`` on a (C, H', W') stack, axes 1 and 2."""
    out = padded
    for axis, (before, after) in zip((1, 2), pads, strict=True):
        n = out.shape[axis] - before - after
        index = np.pad(np.arange(n), (before, after), mode=mode if mode != "constant" else "edge")
        core = np.take(out, np.arange(before, before + n), axis=axis).copy()
        if mode != "constant":
            # Each padded strip maps to distinct source indices (pads never exceed n),
            # so plain fancy-index accumulation is exact.
            for strip in (np.arange(before), np.arange(before + n, before + n + after)):
                if strip.size:
                    target = [slice(None)] * 3
                    target[axis] = index[strip]
                    core[tuple(target)] += np.take(out, strip, axis=axis)
        out = core
    return out


def _choose_method(method: str, psf_shape) -> str:
    method = check_choice(method, ("auto", "fft", "direct"), name="method")
    if method == "auto":
        return "direct" if psf_shape[0] * psf_shape[1] <= _DIRECT_MAX_TAPS else "fft"
    return method


def check_workers(workers) -> int:
    """scipy.fft workers: None means every core (-1); -k means all but k - 1 cores; 0 is refused."""
    import os

    if workers is None:
        return -1
    check_number(workers, name="workers", integer=True)
    cores = os.cpu_count() or 1
    if workers == 0 or workers < -cores:
        raise ValueError(f"workers must be a positive thread count, or -1 .. -{cores} (-1: every core, -k: "
                         f"all but k - 1 of the {cores} cores); got {workers}.")
    return workers


def convolve(image, psf, *, boundary: str = "reflect", method: str = "auto", workers=None) -> np.ndarray:
    """Blur an image: convolve it with a PSF under a boundary rule.

    Parameters
    ----------
    image : numpy.ndarray
        Float image, (H, W) or (H, W, C).
    psf : numpy.ndarray
        2-D PSF shared by all channels, or (h, w, C) with one PSF per channel;
        non-negative, summing to 1, no larger than the image.
    boundary : {'reflect', 'periodic', 'zero', 'valid'}
        How the image continues past its edges (see the module notes). 'valid'
        returns only the fully supported pixels: shape ``(H - h + 1, W - w + 1)``.
    method : {'auto', 'fft', 'direct'}
        'fft' uses real FFTs of padded sizes; 'direct' uses OpenCV's spatial filter;
        'auto' takes 'direct' for PSFs of at most 11x11 = 121 taps.
    workers : int, optional
        Threads for scipy.fft on the 'fft' path; None uses every core (OpenCV's
        direct path manages its own threads).

    Returns
    -------
    numpy.ndarray
        The blurred image in the input's dtype (float16 becomes float32).

    Examples
    --------
    >>> import numpy as np
    >>> from pydeblur import psf
    >>> y = convolve(np.ones((32, 32)), psf.gaussian(1.0))
    >>> bool(np.allclose(y, 1.0))
    True
    """
    image = check_image(image)
    psf = check_psf(psf, image_shape=image.shape, per_channel=True)
    check_choice(boundary, CONVOLVE_BOUNDARIES, name="boundary")
    method = _choose_method(method, psf.shape)
    workers = check_workers(workers)
    stack = _channels_first(image)
    psfs = _psf_stack(psf, stack.shape[0])
    if boundary == "periodic" and method == "fft":
        otf = _otf_stack(psfs, stack.shape[1:], stack.dtype)
        blurred = scipy.fft.irfft2(scipy.fft.rfft2(stack, workers=workers) * otf,
                                   s=stack.shape[1:], workers=workers)
    else:
        if boundary != "valid":
            pads = _pad_before_after(psf.shape)
            stack = np.pad(stack, ((0, 0), *pads), mode=_NUMPY_PAD_MODE[boundary])
        blurred = _valid_convolve(stack, psfs, method=method, workers=workers)
    return _channels_last(blurred.astype(image.dtype, copy=False), image.ndim)


def convolve_adjoint(image, psf, *, boundary: str = "reflect", method: str = "auto",
                     workers=None) -> np.ndarray:
    """Adjoint (transpose) of :func:`convolve` with the same PSF and boundary.

    For every boundary, ``<convolve(x), y> == <x, convolve_adjoint(y)>``. Away from the
    edges it is correlation with the PSF; at the edges it folds the padding back.
    With ``boundary='valid'`` the input is the small (valid) image and the output has
    the full size ``(H + h - 1, W + w - 1)``.

    Parameters
    ----------
    image, psf, boundary, method, workers
        As in :func:`convolve`.

    Returns
    -------
    numpy.ndarray
        Same dtype as ``image``.
    """
    image = check_image(image)
    psf = check_psf(psf, per_channel=True)
    check_choice(boundary, CONVOLVE_BOUNDARIES, name="boundary")
    if boundary != "valid":
        check_psf(psf, image_shape=image.shape, per_channel=True)
    elif psf.ndim == 3:
        check_psf(psf, image_shape=image.shape[:2] + psf.shape[2:], per_channel=True)
    method = _choose_method(method, psf.shape)
    workers = check_workers(workers)
    stack = _channels_first(image)
    psfs = _psf_stack(psf, stack.shape[0])
    flipped = psfs[::-1, ::-1]
    kh, kw = psf.shape[:2]
    if boundary == "periodic" and method == "fft":
        otf = np.conj(_otf_stack(psfs, stack.shape[1:], stack.dtype))
        out = scipy.fft.irfft2(scipy.fft.rfft2(stack, workers=workers) * otf,
                               s=stack.shape[1:], workers=workers)
    else:
        zero_padded = np.pad(stack, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
        out = _valid_convolve(zero_padded, flipped, method=method, workers=workers)
        if boundary != "valid":
            out = _pad_adjoint(out, _pad_before_after(psf.shape), _NUMPY_PAD_MODE[boundary])
    return _channels_last(out.astype(image.dtype, copy=False), image.ndim)


def _otf_stack(psfs: np.ndarray, shape, dtype) -> np.ndarray:
    """OTFs of (h, w, C) PSFs for (C, H, W) stacks; a single OTF when all are equal."""
    if np.all(psfs == psfs[:, :, :1]):
        return psf_to_otf(psfs[:, :, 0], shape, dtype=dtype)[None]
    return np.stack([psf_to_otf(psfs[:, :, c], shape, dtype=dtype) for c in range(psfs.shape[2])])


def _laplace_strip(first: np.ndarray, last: np.ndarray, length: int, *, periodic_across: bool):
    """Harmonic fill between two boundary lines, along axis 1 of (C, n, ...) arrays.

    ``first`` and ``last`` are (C, m) lines; returns (C, length, m) values solving the
    discrete Laplace equation with those lines as Dirichlet data at both ends. Across
    the strip (axis m) the boundary is periodic when ``periodic_across`` else Neumann.
    """
    channels, m = first.shape
    dtype = first.dtype
    rhs = np.zeros((channels, length, m), dtype=dtype)
    rhs[:, 0] -= first
    rhs[:, -1] -= last
    k = np.arange(1, length + 1)
    along = -4 * np.sin(np.pi * k / (2 * (length + 1))) ** 2
    if periodic_across:
        spectrum = scipy.fft.rfft(scipy.fft.dst(rhs, type=1, axis=1), axis=2)
        across = -4 * np.sin(np.pi * np.arange(m // 2 + 1) / m) ** 2
        spectrum /= along[:, None] + across[None, :]
        return scipy.fft.idst(scipy.fft.irfft(spectrum, n=m, axis=2), type=1, axis=1).astype(dtype)
    spectrum = scipy.fft.dct(scipy.fft.dst(rhs, type=1, axis=1), type=2, axis=2)
    across = -4 * np.sin(np.pi * np.arange(m) / (2 * m)) ** 2
    spectrum /= along[:, None] + across[None, :]
    return scipy.fft.idst(scipy.fft.idct(spectrum, type=2, axis=2), type=1, axis=1).astype(dtype)


def _smooth_extension(image: np.ndarray, full_h: int, full_w: int) -> np.ndarray:
    """Extend a 2-D image to (full_h, full_w) after its end, smoothly periodic.

    The right strip is the harmonic fill from the last column back round to the first;
    the bottom strip, spanning the widened image, the harmonic fill from the last row
    back round to the first. The result is continuous across every wrap-around.
    """
    h, w = image.shape
    padded = np.empty((full_h, full_w), dtype=image.dtype)
    padded[:h, :w] = image
    if full_w > w:
        right = _laplace_strip(image[None, :, -1], image[None, :, 0], full_w - w, periodic_across=False)
        padded[:h, w:] = right[0].T
    if full_h > h:
        bottom = _laplace_strip(padded[None, h - 1], padded[None, 0], full_h - h, periodic_across=True)
        padded[h:] = bottom[0]
    return padded


def padding_plan(image_shape, psf_shape, boundary: str, *, narrow: bool = False):
    """``(full_h, full_w, top, left)`` of the FFT grid :func:`pad_boundary` builds.

    The grid is the image plus twice the kernel (rounded up to a fast FFT size). With
    ``narrow`` it is the image plus the kernel less one: the least padding in which no
    image pixel sees another through the wrap-around, enough for a solver that fits the
    seen pixels only (:meth:`BlurOperator.solve_seen`).
    """
    check_choice(boundary, SOLVER_BOUNDARIES, name="boundary")
    h, w = image_shape[:2]
    kh, kw = (int(s) for s in psf_shape[:2])
    if boundary == "periodic":
        return h, w, 0, 0
    pad_h, pad_w = (kh - 1, kw - 1) if narrow else (2 * kh, 2 * kw)
    full_h = scipy.fft.next_fast_len(h + pad_h, real=True)
    full_w = scipy.fft.next_fast_len(w + pad_w, real=True)
    return (full_h, full_w, pad_h // 2, pad_w // 2) if boundary == "reflect" else (full_h, full_w, 0, 0)


#: Image values at or above this are clipped: the sensor saturated there (255 and 254 of 8 bits).
SATURATION_LEVEL = 0.995


def clipped_highlights(image: np.ndarray) -> np.ndarray:
    """(H, W) boolean: the clipped highlights of an image in [0, 1], which the seen-pixel solvers
    leave out of their data term (the blurry value there is not the blur of the scene; Cho, Wang
    & Lee 2011 treat such pixels as outliers).

    They are the pixels at ``SATURATION_LEVEL`` or above in any channel that fill a 3x3
    square with others (a morphological opening): a light source or a bright sky blurred past
    the ceiling leaves such plateaus, while a scene just at the ceiling, whose noise clips
    every other pixel, leaves scattered ones, and those still measure the blur. (A brightened
    BSDS crop's plateaus: plug-and-play 23.55 -> 24.76 dB with them left out, as with every
    pixel at 0.99 or more; a BSDS photo with a sky at the ceiling, benchmarks/blind_large.py
    case 4: 32.10 dB fitting every pixel, 31.43 leaving out every pixel at 0.99 or more,
    32.01 with the opening at 0.995.) An image whose values go above 1 (linear HDR, a
    transformed channel) was not clipped there and has none.
    """
    from scipy import ndimage

    if float(image.max()) > 1.0 + 1e-6:
        return np.zeros(image.shape[:2], dtype=bool)
    clipped = image >= SATURATION_LEVEL
    clipped = clipped.any(axis=2) if clipped.ndim == 3 else clipped
    return ndimage.binary_opening(clipped, structure=np.ones((3, 3), dtype=bool))


def seen_mask(grid_shape, crop, unseen=None) -> np.ndarray:
    """The mask ``M`` of :meth:`BlurOperator.solve_seen`: True on the image (``crop``), False on the
    padding and, if given, on the image pixels ``unseen`` (boolean, the image's shape: clipped
    highlights, whose values the blur model does not explain). Boolean: a quarter of a float32
    grid's memory."""
    seen = np.zeros(grid_shape[:2], dtype=bool)
    seen[crop] = True if unseen is None else ~unseen
    return seen


def pad_channel(image2d: np.ndarray, plan, boundary: str) -> np.ndarray:
    """One 2-D channel extended by a :func:`padding_plan` (always a new array)."""
    full_h, full_w, top, left = plan
    h, w = image2d.shape
    if boundary == "periodic":
        return np.array(image2d, order="C", copy=True)
    if boundary == "reflect":
        return np.pad(image2d, ((top, full_h - h - top), (left, full_w - w - left)), mode="symmetric")
    return _smooth_extension(image2d, full_h, full_w)


def pad_boundary(image, psf_shape, *, boundary: str = "smooth") -> tuple[np.ndarray, tuple[slice, slice]]:
    """Extend an image so that circular (FFT) deconvolution behaves at its edges.

    Parameters
    ----------
    image : numpy.ndarray
        Float image, (H, W) or (H, W, C).
    psf_shape : tuple of int
        Shape of the PSF the image will be deconvolved with.
    boundary : {'smooth', 'reflect', 'periodic'}
        'smooth' (Liu & Jia 2008) appends a harmonic fill at the bottom and right that
        joins each edge smoothly to the opposite one, so the extended image is smooth
        across the wrap-around; 'reflect' mirrors the image by the PSF's size on every
        side; 'periodic' adds nothing.

    Returns
    -------
    padded : numpy.ndarray
        Extended image (a new array, same dtype, channels last), sized for fast FFTs
        when padded.
    crop : tuple of slice
        ``padded[crop]`` is the original image region.

    References
    ----------
    R. Liu and J. Jia, "Reducing boundary artifacts in image deconvolution", ICIP 2008.
    """
    image = check_image(image)
    plan = padding_plan(image.shape, psf_shape, boundary)
    h, w = image.shape[:2]
    crop = (slice(plan[2], plan[2] + h), slice(plan[3], plan[3] + w))
    if image.ndim == 2:
        return pad_channel(image, plan, boundary), crop
    channels = [pad_channel(image[:, :, c], plan, boundary) for c in range(image.shape[2])]
    return np.stack(channels, axis=2), crop


def frequency_grid(shape, dtype) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (cycles per pixel) of a half spectrum: (H, 1) rows and (1, W//2+1) columns."""
    fy = scipy.fft.fftfreq(shape[0]).astype(dtype)[:, None]
    fx = scipy.fft.rfftfreq(shape[1]).astype(dtype)[None, :]
    return fy, fx


def difference_spectrum(n: int, dtype, *, half: bool = False) -> np.ndarray:
    """``|D|^2 = 2 - 2 cos(2 pi f)`` of a forward difference along an axis of length n."""
    freqs = scipy.fft.rfftfreq(n) if half else scipy.fft.fftfreq(n)
    return (2 - 2 * np.cos(2 * np.pi * freqs)).astype(dtype)


def gradient_energy(shape, dtype) -> np.ndarray:
    """``|Dx|^2 + |Dy|^2`` of the periodic forward differences on a half-spectrum grid."""
    return (difference_spectrum(shape[0], dtype)[:, None]
            + difference_spectrum(shape[1], dtype, half=True)[None, :])


class BlurOperator:
    """Circular convolution with a PSF on an FFT grid: ``A``, ``A^T`` and the data-term solve.

    The one forward model of the FFT-based solvers (see the module notes). ``A x`` is
    the circular convolution of ``x`` (an array of the grid's ``shape``) with the PSF,
    whose centre sits at the origin (:func:`pydeblur.psf.psf_to_otf`); ``A^T`` is
    correlation. The transfer function and its energy ``|H|^2`` are computed once.
    Nothing is validated here: public functions check their input, then build the
    operator.

    Parameters
    ----------
    psf : numpy.ndarray
        2-D filter (a PSF, or any real filter), no larger than ``shape``.
    shape : (int, int)
        The grid (the padded image's shape).
    dtype : numpy dtype
        float32 or float64: the precision of the spectra and of every result.
    workers : int
        scipy.fft threads (-1: every core).
    """

    def __init__(self, psf, shape, *, dtype=np.float64, workers: int = -1):
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self.workers = workers
        self.otf = psf_to_otf(np.asarray(psf), self.shape, dtype=self.dtype, workers=workers)
        self._gram = None
        self._denominator = None

    @classmethod
    def from_otf(cls, otf: np.ndarray, shape, *, workers: int = -1) -> BlurOperator:
        """An operator given its half-spectrum transfer function (e.g. of an image's gradient)."""
        operator = cls.__new__(cls)
        operator.shape = tuple(int(s) for s in shape)
        operator.dtype = np.dtype(otf.real.dtype)
        operator.workers = workers
        operator.otf = otf
        operator._gram = None
        operator._denominator = None
        return operator

    @property
    def gram(self) -> np.ndarray:
        """``|H|^2``: the half spectrum of ``A^T A``."""
        if self._gram is None:
            self._gram = self.otf.real**2 + self.otf.imag**2
        return self._gram

    def rfft2(self, x: np.ndarray) -> np.ndarray:
        return scipy.fft.rfft2(x, workers=self.workers)

    def irfft2(self, spectrum: np.ndarray, *, overwrite: bool = False) -> np.ndarray:
        """The image of a half spectrum; ``overwrite`` lets the FFT work in ``spectrum`` (a scratch)."""
        return scipy.fft.irfft2(spectrum, s=self.shape, workers=self.workers, overwrite_x=overwrite)

    def apply(self, x: np.ndarray) -> np.ndarray:
        """``A x``: ``x`` convolved with the PSF (circularly)."""
        spectrum = self.rfft2(x)
        spectrum *= self.otf
        return self.irfft2(spectrum)

    def adjoint(self, y: np.ndarray) -> np.ndarray:
        """``A^T y``: ``y`` correlated with the PSF (circularly)."""
        spectrum = self.rfft2(y)
        spectrum *= np.conj(self.otf)
        return self.irfft2(spectrum)

    def data_term(self, y: np.ndarray, weight=1.0) -> np.ndarray:
        """``weight * A^T y`` as a half spectrum: the right-hand side of the data term."""
        spectrum = self.rfft2(y)
        spectrum *= np.conj(self.otf)
        if weight != 1.0:
            spectrum *= self.dtype.type(weight)
        return spectrum

    def solve(self, rhs_spectrum: np.ndarray, *, weight, prior_spectrum=0.0, prior_weight=0.0,
              identity_weight=0.0, out_spectrum: bool = False):
        """``x = (weight A^T A + prior_weight R^T R + identity_weight I)^-1 rhs``, in Fourier.

        ``rhs_spectrum`` (a half spectrum, overwritten) is the right-hand side, e.g.
        :meth:`data_term` plus the prior's pull; ``prior_spectrum`` is ``|R|^2`` of the
        regulariser (:func:`gradient_energy` for periodic forward differences). Returns
        ``x``, or its half spectrum with ``out_spectrum=True``.
        """
        key = (float(weight), float(prior_weight), id(prior_spectrum), float(identity_weight))
        if self._denominator is None or self._denominator[0] != key:  # the same system every iteration
            t = self.dtype.type
            denominator = t(weight) * self.gram
            if prior_weight:
                denominator = denominator + t(prior_weight) * prior_spectrum
            if identity_weight:
                denominator = denominator + t(identity_weight)
            self._denominator = (key, denominator, prior_spectrum)  # keeps prior_spectrum (and its id) alive
        rhs_spectrum /= self._denominator[1]
        return rhs_spectrum if out_spectrum else self.irfft2(rhs_spectrum)

    def reestimate_border(self, x_spectrum: np.ndarray, observed: np.ndarray, crop,
                          unseen=None) -> np.ndarray:
        """``observed`` with its border (outside ``crop``) and the pixels ``unseen`` replaced by ``A x``.

        The padding past the image stands for scene the camera never saw; an iterative
        solver starts from the boundary extension and, by refilling the border with
        ``k * x`` from its current estimate ``x`` (given as its half spectrum, which is
        overwritten), ends up fitting the data term on the observed pixels alone.
        ``unseen`` (boolean, the image's shape: clipped highlights) are refilled likewise.
        """
        x_spectrum *= self.otf
        reblurred = self.irfft2(x_spectrum)
        if unseen is None:
            reblurred[crop] = observed[crop]
        else:
            reblurred[crop] = np.where(unseen, reblurred[crop], observed[crop])
        return reblurred

    def seen_data_term(self, observed: np.ndarray, seen: np.ndarray, weight=1.0) -> np.ndarray:
        """``weight A^T (M y)``: the data term's right-hand side from the seen pixels ``M`` of ``y``."""
        out = self.adjoint(seen * observed)
        if weight != 1.0:
            out *= self.dtype.type(weight)
        return out

    def solve_seen(self, rhs: np.ndarray, seen: np.ndarray, start: np.ndarray, iterations: int, *,
                   weight=1.0, prior_spectrum=0.0, prior_weight=0.0, identity_weight=0.0) -> np.ndarray:
        """``x = (weight A^T M A + prior_weight R^T R + identity_weight I)^-1 rhs``: fit the seen pixels only.

        The border of the grid stands for scene the camera never saw, so the data term
        counts the pixels of the mask ``seen`` (1 on the image, 0 on the padding) alone:
        ``rhs`` is :meth:`seen_data_term` plus the prior's pull, as for :meth:`solve` but
        spatial. Conjugate gradients preconditioned by :meth:`solve`'s circulant system
        (the answer when nothing is masked) run ``iterations`` steps from ``start`` (not
        modified). They reach in about 15 steps what refilling the border with the
        re-blurred estimate (:meth:`reestimate_border`, a fixed-point iteration of the same
        system) does not in 150. Each step costs one FFT pair.
        """
        t = self.dtype.type
        prior = 0.0
        if prior_weight or identity_weight:
            prior = t(prior_weight) * prior_spectrum + t(identity_weight)
        denominator = t(weight) * self.gram + prior
        # Everything but the mask runs on half spectra: one FFT pair per step, and inner
        # products by Parseval. Products go through one scratch half spectrum, so that a
        # step holds five of them at most (the memory of a 12 MP photo's data step).
        scratch = np.empty_like(self.otf)

        def normal(spectrum):  # the half spectrum of (weight A^T M A + prior) v
            np.multiply(spectrum, self.otf, out=scratch)
            inside = self.irfft2(scratch, overwrite=True)
            inside *= seen
            out = self.rfft2(inside)
            del inside
            np.conjugate(out, out=out)  # conj(H) V = conj(H conj(V)): no conjugated copy of H
            out *= self.otf
            np.conjugate(out, out=out)
            out *= t(weight)
            np.multiply(spectrum, prior, out=scratch)
            out += scratch
            return out

        x = self.rfft2(start)
        residual = self.rfft2(rhs)
        residual -= normal(x)
        direction = residual / denominator
        energy = _half_spectrum_inner(residual, direction, self.shape[1])
        for _ in range(iterations):
            pushed = normal(direction)
            curvature = _half_spectrum_inner(direction, pushed, self.shape[1])
            if energy <= 0 or curvature <= 0:  # converged to the precision of the dtype
                break
            step = t(energy / curvature)
            x += np.multiply(direction, step, out=scratch)
            residual -= np.multiply(pushed, step, out=scratch)
            del pushed
            preconditioned = np.divide(residual, denominator, out=scratch)
            new_energy = _half_spectrum_inner(residual, preconditioned, self.shape[1])
            direction *= t(new_energy / energy)
            direction += preconditioned
            energy = new_energy
        return self.irfft2(x, overwrite=True)

    def adjointness_error(self, *, rng=None) -> float:
        """``|<A x, y> - <x, A^T y>| / (||A x|| ||y||)`` for random ``x``, ``y``: ~1e-7 in float32."""
        rng = np.random.default_rng(rng)
        x = rng.standard_normal(self.shape).astype(self.dtype)
        y = rng.standard_normal(self.shape).astype(self.dtype)
        ax = self.apply(x)
        left = float(np.vdot(ax.astype(np.float64), y))
        right = float(np.vdot(x.astype(np.float64), self.adjoint(y)))
        return abs(left - right) / max(float(np.linalg.norm(ax) * np.linalg.norm(y)), 1e-300)


def _half_spectrum_inner(a: np.ndarray, b: np.ndarray, width: int, rows: int = 256) -> float:
    """The real inner product of the two images whose half spectra (last axis halved) are ``a``
    and ``b``, up to the FFT's scale (Parseval): the columns the half spectrum leaves out count
    twice. Summed in blocks of ``rows`` rows, in float64 across blocks."""
    total = 0.0
    for top in range(0, a.shape[0], rows):
        total += 2 * np.vdot(a[top : top + rows], b[top : top + rows]).real
    total -= np.vdot(a[:, 0], b[:, 0]).real  # the zero-frequency column has no mirror
    if width % 2 == 0:
        total -= np.vdot(a[:, -1], b[:, -1]).real  # nor, for an even width, the Nyquist column
    return float(total)


def _hat_windows(n: int, nodes: int, dtype) -> np.ndarray:
    """(nodes, n) piecewise-linear weights, one per node, summing to 1 at every pixel."""
    if nodes == 1:
        return np.ones((1, n), dtype=dtype)
    centres = np.linspace(0, n - 1, nodes)
    spacing = centres[1] - centres[0]
    return np.clip(1 - np.abs(np.arange(n)[None, :] - centres[:, None]) / spacing, 0, None).astype(dtype)


def convolve_spatially_varying(image, psfs, *, boundary: str = "reflect", workers=None) -> np.ndarray:
    """Blur with a PSF that varies smoothly across the image (a grid of PSFs).

    The image is split into overlapping windows ``w_ij`` (bilinear hats centred on a
    regular grid of ``gy x gx`` nodes, summing to 1 everywhere); each window is
    blurred with its node's PSF and the results are added:
    ``y = sum_ij psf_ij * (w_ij x)`` (the "efficient filter flow" model). Inside a
    window the blur is a smooth blend of the neighbouring nodes' PSFs.

    Parameters
    ----------
    image : numpy.ndarray
        Float image, (H, W) or (H, W, C).
    psfs : numpy.ndarray
        (gy, gx, h, w) array: the PSF at each grid node, each summing to 1.
    boundary : {'reflect', 'periodic', 'zero', 'valid'}
        As in :func:`convolve`.
    workers : int, optional
        Threads for scipy.fft; None uses every core.

    Returns
    -------
    numpy.ndarray
        The blurred image (smaller by the PSF size minus one for 'valid').

    References
    ----------
    M. Hirsch et al., "Efficient filter flow for space-variant multiframe blind
    deconvolution", CVPR 2010.
    """
    image = check_image(image)
    psfs = np.asarray(psfs, dtype=np.float64)
    if psfs.ndim != 4:
        raise ValueError(f"psfs must be a (gy, gx, h, w) grid of PSFs, got shape {psfs.shape}.")
    for i in range(psfs.shape[0]):
        for j in range(psfs.shape[1]):
            check_psf(psfs[i, j], name=f"psfs[{i}, {j}]", image_shape=image.shape)
    check_choice(boundary, CONVOLVE_BOUNDARIES, name="boundary")
    workers = check_workers(workers)
    kh, kw = psfs.shape[2:]
    stack = _channels_first(image)
    if boundary != "valid":
        pads = _pad_before_after((kh, kw))
        stack = np.pad(stack, ((0, 0), *pads), mode=_NUMPY_PAD_MODE[boundary])
        offsets = (pads[0][0], pads[1][0])
    else:
        offsets = (0, 0)
    # Windows are functions of the original image's coordinates, held constant in the padding.
    rows = np.clip(np.arange(stack.shape[1]) - offsets[0], 0, image.shape[0] - 1)
    cols = np.clip(np.arange(stack.shape[2]) - offsets[1], 0, image.shape[1] - 1)
    win_y = _hat_windows(image.shape[0], psfs.shape[0], stack.dtype)[:, rows]
    win_x = _hat_windows(image.shape[1], psfs.shape[1], stack.dtype)[:, cols]
    out = None
    for i in range(psfs.shape[0]):
        for j in range(psfs.shape[1]):
            windowed = stack * (win_y[i][:, None] * win_x[j][None, :])
            part = _valid_convolve(windowed, psfs[i, j][:, :, None].repeat(stack.shape[0], 2),
                                   method="fft", workers=workers)
            out = part if out is None else out + part
    return _channels_last(out.astype(image.dtype, copy=False), image.ndim)
