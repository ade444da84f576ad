"""What every FFT-based solver shares: input checks, boundary extension, OTFs, colour, output.

A solver calls :func:`prepare` once, loops over ``range(problem.n_channels)`` solving one
padded 2-D channel at a time (which keeps peak memory to a few channel-sized arrays)
through that channel's :class:`~pydeblur.operators.BlurOperator` (``problem.operator(c)``),
stores each result with ``problem.store`` and returns ``problem.result(clip)``.

Colour images blurred by one PSF can be solved in an opponent colour space
(luminance, red-green, blue-yellow) instead of R, G, B. The transform is orthonormal,
so white noise stays white with the same sigma, but the chroma channels of a natural
photo have far weaker gradients than R, G and B, so a solver's per-channel
regularisation ('auto' balance, a sparse gradient prior) removes more noise from them.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

from .._validation import check_choice, check_image, check_number, check_psf
from ..operators import (
    SOLVER_BOUNDARIES,
    BlurOperator,
    check_workers,
    pad_channel,
    padding_plan,
)

#: Orthonormal opponent colour transform; its rows map R, G, B to luminance,
#: red-green and blue-yellow.
OPPONENT = np.array([[1.0, 1.0, 1.0], [1.0, -1.0, 0.0], [1.0, 1.0, -2.0]]) / np.sqrt([[3.0], [2.0], [6.0]])
COLOUR_SPACES = ("auto", "opponent", "rgb")


class Problem:
    """A checked deconvolution problem, channel by channel, on the padded grid.

    With ``opponent=True`` (3 channels, one PSF) the channels are those of the
    opponent colour space; :meth:`result` maps the solution back to R, G, B. ``narrow``
    pads by the kernel less one instead of twice the kernel (see
    :func:`~pydeblur.operators.padding_plan`).
    """

    def __init__(self, image: np.ndarray, psf: np.ndarray, boundary: str, workers: int,
                 opponent: bool = False, narrow: bool = False):
        self.image = image
        self.opponent = opponent
        self.psf = psf
        self.boundary = boundary
        self.workers = workers
        self.dtype = image.dtype
        self._plan = padding_plan(image.shape, psf.shape, boundary, narrow=narrow)
        self.shape = self._plan[:2]
        h, w = image.shape[:2]
        self.crop = (slice(self._plan[2], self._plan[2] + h), slice(self._plan[3], self._plan[3] + w))
        self.n_channels = 1 if image.ndim == 2 else image.shape[2]
        self._operators: dict[int, BlurOperator] = {}
        self._out = np.empty(image.shape, dtype=self.dtype)

    def image_channel(self, c: int) -> np.ndarray:
        """Channel ``c`` of the input image (a view or a new array: do not write to it)."""
        if self.image.ndim == 2:
            return self.image
        if self.opponent:  # one channel at a time keeps the extra memory to a channel
            weights = OPPONENT[c].astype(self.dtype)
            return (weights[0] * self.image[:, :, 0] + weights[1] * self.image[:, :, 1]
                    + weights[2] * self.image[:, :, 2])
        return self.image[:, :, c]

    def noise_sigmas(self) -> np.ndarray:
        """Estimated noise sigma of every channel the solver sees."""
        return np.array([estimate_noise_sigma(self.image_channel(c)) for c in range(self.n_channels)])

    def channel(self, c: int) -> np.ndarray:
        """Padded channel ``c``: a new contiguous 2-D array that solvers may overwrite."""
        return pad_channel(self.image_channel(c), self._plan, self.boundary)

    def psf_of(self, c: int) -> np.ndarray:
        return self.psf if self.psf.ndim == 2 else self.psf[:, :, c]

    def operator(self, c: int) -> BlurOperator:
        """The blur of channel ``c`` on the padded grid (one operator per distinct PSF, cached)."""
        key = 0 if self.psf.ndim == 2 else c
        if key not in self._operators:
            self._operators[key] = BlurOperator(self.psf_of(c), self.shape, dtype=self.dtype,
                                                workers=self.workers)
        return self._operators[key]

    def otf(self, c: int) -> np.ndarray:
        """Half-spectrum OTF of channel ``c``'s PSF on the padded grid."""
        return self.operator(c).otf

    def rfft2(self, x: np.ndarray) -> np.ndarray:
        return scipy.fft.rfft2(x, workers=self.workers)

    def irfft2(self, spectrum: np.ndarray) -> np.ndarray:
        return scipy.fft.irfft2(spectrum, s=self.shape, workers=self.workers)

    @property
    def padded(self) -> bool:
        """Whether the FFT grid extends past the image (every boundary but 'periodic')."""
        return self.shape != self.image.shape[:2]

    def store(self, c: int, padded_result: np.ndarray) -> None:
        if self.image.ndim == 3:
            self._out[:, :, c] = padded_result[self.crop]
        else:
            self._out[...] = padded_result[self.crop]

    def result(self, clip: bool) -> np.ndarray:
        if self.opponent:
            back = OPPONENT.astype(self.dtype)
            for top in range(0, self._out.shape[0], 256):  # in place, a block of rows at a time
                block = self._out[top : top + 256]
                block[...] = block @ back
        if clip:
            np.clip(self._out, 0, 1, out=self._out)
        return self._out


def prepare(image, psf, *, boundary: str, workers, colour_space: str = "rgb",
            narrow: bool = False) -> Problem:
    """Check the inputs of a non-blind solver and set up its padded problem (on the narrow grid of
    :func:`~pydeblur.operators.padding_plan` for a solver that fits the seen pixels only)."""
    image = check_image(image)
    psf = check_psf(psf, image_shape=image.shape, per_channel=True)
    check_choice(boundary, SOLVER_BOUNDARIES, name="boundary")
    check_choice(colour_space, COLOUR_SPACES, name="colour_space")
    can_decorrelate = image.ndim == 3 and image.shape[2] == 3 and psf.ndim == 2
    if colour_space == "opponent" and not can_decorrelate:
        raise ValueError(
            f"colour_space='opponent' needs an RGB image (H, W, 3) blurred by one 2-D PSF; got an "
            f"image of shape {image.shape} and a PSF of shape {psf.shape}. Use colour_space='rgb' "
            "(or 'auto') to solve the channels as they are."
        )
    opponent = colour_space == "opponent" or (colour_space == "auto" and can_decorrelate)
    return Problem(image, psf, boundary, check_workers(workers), opponent=opponent, narrow=narrow)


def is_per_channel(value) -> bool:
    """Whether a solver parameter is given per channel (a 1-D sequence or array)."""
    return not isinstance(value, str) and not callable(value) and np.ndim(value) == 1


def per_channel_values(value, problem: Problem, *, name: str, low: float, low_inclusive: bool) -> np.ndarray:
    """A parameter as one value per channel the solver sees: a number for all, or one each.

    Per-channel values are those of the channels the solver works in (luminance,
    red-green, blue-yellow under the opponent colour space), as ``fit`` stores them.
    """
    if not is_per_channel(value):
        return np.atleast_1d(check_number(value, name=name, low=low, low_inclusive=low_inclusive))
    values = [check_number(v, name=f"{name}[{i}]", low=low, low_inclusive=low_inclusive)
              for i, v in enumerate(value)]
    if len(values) != problem.n_channels:
        raise ValueError(f"{name} has {len(values)} per-channel values but the solver sees "
                         f"{problem.n_channels} channel(s); give one number, or one per channel.")
    return np.array(values, dtype=np.float64)


def resolve_lam(lam, problem: Problem, scale: float, *, extra_sigma: float = 0.0) -> np.ndarray:
    """Data-term weight per channel: ``lam`` as given, or ``scale / (sigma^2 + extra^2)`` for 'auto'.

    ``sigma`` is each channel's estimated noise level (floored at 1e-4); ``extra_sigma``
    is error the data term should treat as noise on top of it (the blind route's margin
    for an estimated kernel). ``lam`` may be a number or one number per channel.
    """
    if isinstance(lam, str):
        if lam != "auto":
            raise ValueError(f"lam must be 'auto' or a positive number, got {lam!r}.")
        sigma = np.maximum(problem.noise_sigmas(), 1e-4)
        return scale / (sigma**2 + extra_sigma**2)
    return per_channel_values(lam, problem, name="lam", low=0, low_inclusive=False)


def auto_lams(image, psf, params: dict, scale: float, *, extra_sigma: float = 0.0) -> np.ndarray:
    """The per-channel 'auto' weights :func:`resolve_lam` gives a solver called with ``params``
    (its ``boundary``, ``workers`` and ``colour_space``); what ``fit(blurry)`` keeps."""
    problem = prepare(image, psf, boundary=params["boundary"], workers=params["workers"],
                      colour_space=params["colour_space"])
    return resolve_lam("auto", problem, scale, extra_sigma=extra_sigma)


def check_callback(callback):
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}.")
    return callback


def report_progress(callback, problem: Problem, channel: int, estimate: np.ndarray, **info) -> None:
    """Call ``callback`` with ``info``, the channel and a read-only cropped view of ``estimate``."""
    if callback is None:
        return
    view = estimate[problem.crop]
    view.flags.writeable = False
    callback({"channel": channel, **info, "estimate": view})


#: Regularisers as a power of the gradient spectrum ``|Dx|^2 + |Dy|^2``.
REGULARIZER_POWER = {"identity": 0, "gradient": 1, "laplacian": 2}
#: (sum of squared taps of one filter, number of filters) of each regulariser.
REGULARIZER_FILTERS = {"identity": (1.0, 1), "gradient": (2.0, 2), "laplacian": (20.0, 1)}


def regularizer_energy(image2d: np.ndarray, regularizer: str) -> float:
    """Mean square of the regulariser's filter(s) applied to an image (interior only)."""
    if regularizer == "identity":
        return float(np.var(image2d, dtype=np.float64))
    if regularizer == "gradient":
        total, count = 0.0, 0
        for axis in (0, 1):
            d = np.diff(image2d, axis=axis)
            total += float(np.square(d, out=d).sum(dtype=np.float64))
            count += d.size
        return total / count
    centre = image2d[1:-1, 1:-1]
    lap = image2d[1:-1, :-2] + image2d[1:-1, 2:] + image2d[:-2, 1:-1] + image2d[2:, 1:-1] - 4 * centre
    return float(np.square(lap, out=lap).sum(dtype=np.float64)) / lap.size


def estimate_noise_sigma(image) -> float | np.ndarray:
    """Standard deviation of white Gaussian noise in an image (Donoho's wavelet MAD).

    The finest diagonal Haar detail of a natural (and especially a blurred) image is
    almost pure noise; its median absolute value over 0.6745 estimates sigma.

    Parameters
    ----------
    image : numpy.ndarray
        Float image, (H, W) or (H, W, C), at least 2x2.

    Returns
    -------
    float or numpy.ndarray
        Sigma for a grey image, one sigma per channel for a colour image.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> round(estimate_noise_sigma(0.5 + 0.01 * rng.standard_normal((256, 256))), 3)
    0.01
    """
    image = check_image(image)
    if min(image.shape[:2]) < 2:
        raise ValueError(f"noise estimation needs at least 2x2 pixels, got {image.shape[:2]}.")
    h, w = (image.shape[0] // 2) * 2, (image.shape[1] // 2) * 2
    channels = [image] if image.ndim == 2 else [image[:, :, c] for c in range(image.shape[2])]
    sigmas = []
    for x in channels:  # one channel at a time keeps the temporaries a quarter channel each
        diagonal = (x[0:h:2, 0:w:2] - x[0:h:2, 1:w:2]) - (x[1:h:2, 0:w:2] - x[1:h:2, 1:w:2])
        sigmas.append(np.median(np.abs(diagonal)) / 2 / 0.6745)
    sigma = np.array(sigmas, dtype=np.float64)
    return float(sigma[0]) if image.ndim == 2 else sigma
