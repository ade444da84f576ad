"""Blind deblurring: estimate the kernel on the luminance, then restore every channel."""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np

from .._deprecation import renamed_parameters
from .._tuning import tune_on_pairs
from .._validation import check_choice, check_image, check_number
from ..base import BaseDeblurrer, as_pairs, store_params
from ..methods import FINAL_STEPS
from ..operators import clipped_highlights, convolve
from ..restoration import hyper_laplacian
from ..restoration._problem import auto_lams
from ..restoration.hyper_laplacian import AUTO_LAM_SCALE
from ._estimate import (
    EDGE_BLUR,
    GRAD_WEIGHT,
    PYRAMID_KERNEL_REG,
    RENAMED,
    _luminance,
    estimate_psf,
    estimate_with_record,
)

#: Search interval of ``BlindDeblurrer.fit`` on pairs for ``final_lam``.
FINAL_LAM_TUNE_RANGE = (10.0, 1e5)
#: The error of an estimated kernel as extra noise sigma in the final step's 'auto' weight
#: (benchmarks/calibrate_blind_final.py: Levin 2009 development half and BSDS train synthetics).
KERNEL_ERROR_SIGMA = 0.0125
#: The final step's second pass treats the part of the first pass's re-blur residual that
#: noise does not explain as kernel error, of weight ``1 / RESIDUAL_SCALE`` (see
#: :func:`final_restoration`). benchmarks/calibrate_blind_final.py (0.25 px shift protocol):
#: Levin development half, estimated kernels 31.90 / 32.05 / 32.10 dB at 0.07 / 0.1 / 0.15,
#: true kernels 33.18 / 33.32 / 33.32; BSDS train synthetics 27.85 / 27.85 / 27.84.
RESIDUAL_SCALE = 0.1


def final_weights(image: np.ndarray, kernel: np.ndarray, kernel_error_sigma: float = KERNEL_ERROR_SIGMA):
    """Per-channel hyper-Laplacian weights ``s / (sigma^2 + sigma_k^2)`` for a blind estimate.

    ``sigma`` is each channel's noise estimate (in the solver's colour space, as
    ``hyper_laplacian(lam="auto")`` computes it) and ``sigma_k`` the margin for the error
    of an estimated kernel: a kernel that is slightly off leaves a residual that the
    final step must treat like noise, or it rings. With a true kernel ``sigma_k = 0`` is
    hyper-Laplacian's own 'auto' rule.
    """
    params = {"boundary": "smooth", "workers": None, "colour_space": "auto"}  # hyper_laplacian's defaults
    kernel = kernel.astype(image.dtype)
    return auto_lams(image, kernel, params, AUTO_LAM_SCALE, extra_sigma=kernel_error_sigma)


def reblur_residual(image: np.ndarray, restored: np.ndarray, kernel: np.ndarray) -> float:
    """RMS of the luminance of ``image - kernel * restored`` inside the frame.

    The frame's outer band, as wide as half the kernel, is left out: there the blurry
    image also saw the scene beyond the frame, which ``restored`` holds only as a guess.
    So are clipped highlights (:func:`~pydeblur.operators.clipped_highlights`), which no
    kernel explains.
    """
    reblurred = convolve(restored, kernel.astype(restored.dtype), boundary="reflect")
    residual = _luminance(image) - _luminance(reblurred)
    band = kernel.shape[0] // 2
    recorded = ~clipped_highlights(image)
    inside = np.zeros_like(recorded)
    inside[band:-band or None, band:-band or None] = True
    for measured in (recorded & inside, recorded):  # the whole frame if its inside holds nothing
        if measured.any():
            return float(np.sqrt(np.mean(np.square(residual[measured]))))
    return 0.0  # all clipped: nothing to measure the kernel against


def resolve_final_step(final_step: str) -> str:
    """The final step ``final_step`` names: 'auto' is 'plug_and_play' (the learned prior) when
    the torch extra is installed and 'hyper_laplacian' (the best classical step) otherwise."""
    check_choice(final_step, FINAL_STEPS, name="final_step")
    if final_step != "auto":
        return final_step
    return "plug_and_play" if importlib.util.find_spec("torch") is not None else "hyper_laplacian"


#: Above this many pixels the learned step's plug-and-play starts from the hyper-Laplacian
#: restoration and runs ``WARM_START``'s shorter schedule: half the denoiser passes, which are most
#: of the blind route's time on a large photo (28 of 41 s for 1 MP colour with a 75 px kernel on 2
#: cores without AMX). Levin 2009 development half, estimated kernels, fusion: 32.72 dB with the
#: full cold schedule, 32.66 warm from 12/255 in 4 iterations, 32.55 cold in 4; so the 255 px
#: captures keep the full schedule.
WARM_START_PIXELS = 500_000
WARM_START = {"start_sigma": 12 / 255, "max_iter": 4}
#: Plug-and-play iterations of the learned step on smaller photos (cold start), more than
#: plug_and_play's default of 6: an estimated kernel leaves errors that the longer schedule
#: smooths out. Levin 2009 development half with the blind route's kernels: 33.08 / 33.13 /
#: 33.16 dB at 6 / 7 / 8 (true kernels: 34.12 / 34.14 / 34.15).
COLD_ITERATIONS = 8


def final_restoration(image: np.ndarray, kernel: np.ndarray, final_lam="auto", clip: bool = False,
                      final_step: str = "hyper_laplacian"):
    """The blind route's non-blind step: hyper-Laplacian or plug-and-play with ``kernel``, or
    the mean of the two.

    Hyper-Laplacian with ``final_lam='auto'`` runs twice. The first pass weights the data by
    :func:`final_weights` (the noise estimate plus a fixed margin for kernel error).
    The second splits the first result's re-blur residual ``r`` (:func:`reblur_residual`)
    into the noise the image's estimate ``sigma`` accounts for and the rest, which this
    kernel fails to explain, and weights the data by
    ``1 / (sigma^2 / 0.25 + max(r^2 - sigma^2, 0) / RESIDUAL_SCALE)``: hyper-Laplacian's
    own rule for a kernel that explains the photo, less trust the less it does. A colour
    image keeps the first pass's ratios between channels. (12 BSDS val crops, 1 % noise:
    25.15 -> 25.70 dB with estimated kernels, 26.37 -> 28.23 with the true ones, against
    weighting by ``RESIDUAL_SCALE / r^2``, which read white noise as kernel error; Levin
    2009 development half: 29.47 -> 29.42 estimated, 32.91 -> 33.05 true.)

    ``final_step='plug_and_play'`` restores with :func:`~pydeblur.restoration.plug_and_play`
    (the learned prior; needs the torch extra) instead, its noise level raised to what the
    second pass's weight stands for, ``sqrt(0.25 / lam)``, so that it too trusts a kernel only
    as far as it explains the photo (large-kernel cases with too small an estimate: 27.62 ->
    27.76 and 26.38 -> 26.62 dB; Levin 2009 and synthetic crops unchanged to 0.05 dB). On
    photos above ``WARM_START_PIXELS`` it starts from the second pass's restoration with a
    shorter schedule; on smaller ones that pass is skipped. ``final_step='fusion'`` returns the
    mean of the two restorations. benchmarks/blind.py, defaults with each step (Levin 2009
    development half / 24 BSDS val crops): hyper-Laplacian 32.79 / 27.07 dB, fusion 33.07 /
    27.34, plug-and-play 33.14 / 27.41; benchmarks/blind_large.py: fusion 25.95, plug-and-play
    25.98.
    """
    step = resolve_final_step(final_step)  # a bad name fails before any work
    kernel = kernel.astype(image.dtype)
    lams, effective_sigma = _final_weights(image, kernel, final_lam)
    large = image.shape[0] * image.shape[1] > WARM_START_PIXELS
    classical = None
    if step != "plug_and_play" or large:
        classical = hyper_laplacian(image, kernel, lam=lams)
    if step == "hyper_laplacian":
        restored = classical
    else:
        learned = _plug_and_play_step(image, kernel, classical if large else None, effective_sigma)
        if step == "fusion":
            restored = classical
            restored += learned
            restored /= 2
        else:
            restored = learned
    return np.clip(restored, 0, 1, out=restored) if clip else restored


def _final_weights(image, kernel, final_lam):
    """The data weights of :func:`final_restoration`'s hyper-Laplacian restoration (for 'auto',
    its second pass, which takes a first pass to set) and, for 'auto', the noise sigma they stand
    for (``sqrt(0.25 / lam)``: the noise plus the kernel error the first pass left), which
    plug-and-play is given; None for a fixed ``final_lam``."""
    if not (isinstance(final_lam, str) and final_lam == "auto"):
        return final_lam, None
    first_lams = final_weights(image, kernel)
    first = hyper_laplacian(image, kernel, lam=first_lams)
    noise = AUTO_LAM_SCALE / first_lams[0] - KERNEL_ERROR_SIGMA**2  # sigma^2 of the first channel
    unexplained = max(reblur_residual(image, first, kernel) ** 2 - noise, 0.0)
    lam = 1.0 / (noise / AUTO_LAM_SCALE + unexplained / RESIDUAL_SCALE)
    return first_lams * (lam / first_lams[0]), float(np.sqrt(AUTO_LAM_SCALE / lam))


def _plug_and_play_step(image, kernel, init, effective_sigma):
    """:func:`final_restoration`'s plug-and-play restoration, its noise level raised to
    ``effective_sigma`` (the noise plus kernel error the hyper-Laplacian first pass saw), warm
    started from ``init`` (a restoration of a large photo) when given."""
    from ..restoration.plug_and_play import auto_noise_sigma, plug_and_play, warm_started

    sigma = auto_noise_sigma(image)
    if effective_sigma is not None:
        sigma = max(sigma, effective_sigma)
    if init is not None:
        return warm_started(image, kernel, noise_sigma=sigma, init=init, **WARM_START)
    return plug_and_play(image, kernel, noise_sigma=sigma, max_iter=COLD_ITERATIONS)  # no torch: ImportError


#: Below this :func:`psf_confidence` a blind estimate is not trusted
#: (benchmarks/blind_large.py: the two estimates that made their photos 4-5 dB worse had
#: 0.69 and 0.72; every other one 0.91 or more, and every Levin 2009 capture 0.92 or more).
MIN_CONFIDENCE = 0.85
#: What the blind route does with an estimate it does not trust.
FALLBACKS = ("input", "restore")


def psf_confidence(record: dict) -> float:
    """How far a blind kernel estimate can be trusted, from 0 to 1.

    The lower of two agreements (normalised cross-correlations) that a sound estimate
    has and a failed one lacks: between the first and last kernels of the finest
    pyramid level (a sound estimate has settled there) and between the kernels of the
    two finest levels (it holds across scales). 0 for a constant image. ``record`` comes
    from :func:`~pydeblur.blind._estimate.estimate_with_record`.
    """
    if record.get("constant"):
        return 0.0
    return float(min(record["convergence"], record["scale_agreement"]))


def _distrust_reason(record: dict, confidence: float, min_confidence: float) -> str | None:
    """Why a kernel is not trusted, or None if it is."""
    if record.get("constant"):
        return "the image is constant: it holds no edges to estimate a kernel from"
    if confidence < min_confidence:
        return (f"the kernel estimate is unreliable (psf_confidence {confidence:.2f} < {min_confidence:g}: "
                "it kept changing at the finest scale or disagrees across scales), so deconvolving with "
                "it would likely make the photo worse")
    return None


#: An 'auto'-size estimate that is not trusted is estimated once more at this share of its
#: size (the "smaller kernel" fallback): a generous size leaves a large shake room to spread
#: over its box at every pyramid level. benchmarks/blind_large.py (shake spanning 31-75 px,
#: 962x642, so 75 px estimates, then 45 px ones where those were not trusted): one more
#: trusted estimate (+8.2 dB), the mean gain over the blurry input +1.36 -> +1.77 dB, and
#: 21 -> 29 s per image; the Levin 2009 development half has no untrusted estimate. (Measured
#: when the 'auto' box was 75 px; in today's 99 px box the retry is at 59 px.)
RETRY_SHARE = 0.6
#: No retry below this size: too small a kernel for a shake the first estimate could not
#: explain (benchmarks/blind_large.py, where the 75 px estimates failed: 27 px ones gained
#: -0.6 to +0.9 dB, one +3.2, and read confidences up to 0.93 on some that made a photo worse).
RETRY_MIN_SIZE = 31


def estimate_trusted(image, psf_size, min_confidence: float, params: dict):
    """A blind kernel estimate, its :func:`psf_confidence` and the reason not to trust it (or None).

    An untrusted ``psf_size='auto'`` estimate of size ``s`` is estimated once more at
    ``RETRY_SHARE * s`` (no less than ``RETRY_MIN_SIZE``); the second estimate is kept if
    it is trusted. ``params`` are :func:`~pydeblur.blind._estimate.estimate_with_record`'s.
    """
    kernel, record = estimate_with_record(image, psf_size, **params)
    confidence = psf_confidence(record)
    reason = _distrust_reason(record, confidence, min_confidence)
    if reason is None or not isinstance(psf_size, str) or record.get("constant"):
        return kernel, confidence, reason
    smaller = int(RETRY_SHARE * record["size"]) | 1
    if smaller < RETRY_MIN_SIZE:
        return kernel, confidence, reason
    retried, retried_record = estimate_with_record(image, psf_size, auto_max=smaller, **params)
    retried_confidence = psf_confidence(retried_record)
    if _distrust_reason(retried_record, retried_confidence, min_confidence) is None:
        return retried, retried_confidence, None
    return kernel, confidence, reason


def _guarded_restoration(image, kernel, reason, *, final_lam, clip, fallback, final_step="hyper_laplacian"):
    """The final step, or under ``fallback='input'`` the input unchanged when ``reason`` is set."""
    if reason is None:
        return final_restoration(image, kernel, final_lam, clip, final_step)
    if fallback == "input":
        warnings.warn(f"{reason}; returning the input unchanged. Try an explicit psf_size, another prior, "
                      "or fallback='restore' to deconvolve anyway.", UserWarning, stacklevel=4)
        restored = image.copy()
        return np.clip(restored, 0, 1) if clip else restored
    warnings.warn(f"{reason}; restoring anyway (fallback='restore').", UserWarning, stacklevel=4)
    return final_restoration(image, kernel, final_lam, clip, final_step)


def _check_guard(min_confidence, fallback):
    check_choice(fallback, FALLBACKS, name="fallback")
    return check_number(min_confidence, name="min_confidence", low=0, high=1)


@renamed_parameters(**RENAMED)
def blind_deconvolve(image, psf_size="auto", *, prior: str = "l0", grad_weight: float = GRAD_WEIGHT,
                     prior_weight: float = 4e-3, iter_per_level: int = 5, refine_iter: int = 10,
                     kernel_reg: float = 30.0, pyramid_kernel_reg: float = PYRAMID_KERNEL_REG,
                     edge_blur: float = EDGE_BLUR, final_lam="auto",
                     final_step: str = "auto", clip: bool = False,
                     min_confidence: float = MIN_CONFIDENCE, fallback: str = "input",
                     callback=None):
    """Deblur a photo whose blur kernel is unknown.

    The kernel is estimated by :func:`estimate_psf` (coarse to fine, on the luminance);
    every channel is then restored with :func:`pydeblur.hyper_laplacian` and that
    kernel, whose sparse gradient prior keeps ringing low.

    Parameters
    ----------
    image : numpy.ndarray
        Blurry float image, (H, W) or (H, W, C), values in [0, 1].
    psf_size : 'auto' or int
        Odd side of the kernel to estimate (a little larger than the blur), or 'auto'
        (the default): a generous size from the image, the result trimmed to its support
        (see :func:`estimate_psf`).
    prior, grad_weight, prior_weight, iter_per_level, refine_iter, kernel_reg, pyramid_kernel_reg
        Passed to :func:`estimate_psf` (``lam``, ``lam_prior``, ``n_iter`` and ``gamma``
        are the deprecated names of the four weights and counts).
    edge_blur, callback
        Passed to :func:`estimate_psf`.
    final_lam : 'auto' or float
        Data weight of the final hyper-Laplacian restoration (its ``lam``). 'auto'
        (:func:`final_restoration`) starts from hyper-Laplacian's noise rule with a margin
        for the error of the estimated kernel (without it, real captures, low noise and
        an imperfect kernel, ring badly: Levin 2009 development half 24.9 dB without the
        margin, 29.4 with it), then sets the weight from how well the kernel explains the
        photo (its re-blur residual).
    final_step : {'auto', 'hyper_laplacian', 'plug_and_play', 'fusion'}
        The final non-blind step: hyper-Laplacian as above,
        :func:`~pydeblur.restoration.plug_and_play` (the learned prior; needs the torch
        extra; about 0.3 dB better on real captures and synthetic blur, at plug-and-play's
        cost), or the mean of the two ('fusion'). 'auto' (the default) is 'plug_and_play'
        when torch is installed and 'hyper_laplacian' otherwise (:func:`resolve_final_step`;
        ``BlindDeblurrer`` keeps the step it used in ``final_step_``). See :func:`final_restoration`.
    clip : bool
        Clip the result to [0, 1].
    min_confidence : float
        Estimates whose :func:`psf_confidence` is below this are not trusted: a failed
        estimate must not silently return a photo worse than its input. An untrusted
        ``psf_size='auto'`` estimate is first estimated once more at a smaller size
        (:func:`estimate_trusted`).
    fallback : {'input', 'restore'}
        What an untrusted estimate gives: the input unchanged (the default), or the
        restoration all the same; either way with a warning that says why.

    Returns
    -------
    restored : numpy.ndarray
        Same shape and dtype as ``image``.
    psf : numpy.ndarray
        The estimated kernel, ``(psf_size, psf_size)``, summing to 1.

    Examples
    --------
    >>> from pydeblur import psf, degrade, sample_image
    >>> sharp = sample_image("camera")[96:288, 96:288]
    >>> blurry, _, _ = degrade(sharp, psf=psf.motion(9, 30), noise_sigma=0.005, rng=0)
    >>> restored, kernel = blind_deconvolve(blurry, psf_size=13)
    >>> restored.shape == blurry.shape, kernel.shape
    (True, (13, 13))
    """
    image = check_image(image)
    min_confidence = _check_guard(min_confidence, fallback)
    check_choice(final_step, FINAL_STEPS, name="final_step")
    params = {"prior": prior, "grad_weight": grad_weight, "prior_weight": prior_weight,
              "iter_per_level": iter_per_level, "refine_iter": refine_iter, "kernel_reg": kernel_reg,
              "pyramid_kernel_reg": pyramid_kernel_reg, "edge_blur": edge_blur, "callback": callback}
    kernel, _, reason = estimate_trusted(image, psf_size, min_confidence, params)
    restored = _guarded_restoration(image, kernel, reason, final_lam=final_lam, clip=clip, fallback=fallback,
                                    final_step=final_step)
    return restored, kernel


class BlindDeblurrer(BaseDeblurrer):
    """Blind deblurring as a Deblurrer; see :func:`blind_deconvolve` for the parameters.

    * ``fit(blurry)`` estimates the kernel and keeps it in ``psf_`` (one kernel for one
      image; for a list of frames that share a shake, one kernel estimated from all of
      them), with ``psf_confidence_`` (:func:`psf_confidence`), ``distrust_`` (why the
      estimate is not trusted, or None) and ``final_step_`` (the final step 'auto'
      stands for here, :func:`resolve_final_step`; also set by a fit on pairs). Later
      ``restore`` calls deconvolve with ``psf_`` instead of estimating; an untrusted
      kernel gives what ``fallback`` says, with a warning.
    * ``fit(blurry, sharp)`` tunes ``final_lam`` (the data weight of the final non-blind
      step) in ``tune_range`` for the best mean PSNR on the pairs, with every pair's
      kernel estimated once (kept in ``psfs_``), and stores it in ``final_lam_``; ``psf_``
      stays unset, so ``restore`` estimates a kernel for every new image.
    * Unfitted, or fitted on pairs, ``restore`` estimates a kernel per image and keeps
      no state; ``fit_restore(blurry)`` estimates, keeps ``psf_`` and restores.
    * ``score`` compares after the best shift (the kernel, hence the image, is only
      known up to a translation).

    Examples
    --------
    >>> from pydeblur import psf, degrade, sample_image
    >>> sharp = sample_image("camera")[96:288, 96:288]
    >>> blurry, _, _ = degrade(sharp, psf=psf.motion(9, 30), noise_sigma=0.005, rng=0)
    >>> deblurrer = BlindDeblurrer(prior="l0", psf_size=13)
    >>> deblurrer.fit_restore(blurry).shape, deblurrer.psf_.shape
    ((184, 184), (13, 13))
    """

    _score_upto_shift = True

    @renamed_parameters(positional=("prior", "psf_size"), **RENAMED)
    def __init__(self, *, prior: str = "l0", psf_size="auto", grad_weight: float = GRAD_WEIGHT,
                 prior_weight: float = 4e-3, iter_per_level: int = 5, refine_iter: int = 10,
                 kernel_reg: float = 30.0, pyramid_kernel_reg: float = PYRAMID_KERNEL_REG,
                 edge_blur: float = EDGE_BLUR, final_lam="auto",
                 final_step: str = "auto", clip: bool = False,
                 min_confidence: float = MIN_CONFIDENCE, fallback: str = "input",
                 tune_range=FINAL_LAM_TUNE_RANGE):
        store_params(self, locals())
        _check_guard(min_confidence, fallback)
        check_choice(final_step, FINAL_STEPS, name="final_step")

    def _estimation_params(self) -> dict:
        return {"prior": self.prior, "grad_weight": self.grad_weight, "prior_weight": self.prior_weight,
                "iter_per_level": self.iter_per_level, "refine_iter": self.refine_iter,
                "kernel_reg": self.kernel_reg, "pyramid_kernel_reg": self.pyramid_kernel_reg,
                "edge_blur": self.edge_blur}

    def _final_lam(self):
        fitted = getattr(self, "final_lam_", None)
        return self.final_lam if fitted is None else fitted

    def trust_note(self) -> str | None:
        """After ``fit(blurry)``: why the kernel is not trusted and what restore does, or None."""
        if getattr(self, "distrust_", None) is None:
            return None
        action = ("the input is returned unchanged" if self.fallback == "input"
                  else "the photo is restored anyway (fallback='restore')")
        return f"{self.distrust_}; {action}"

    def _estimate(self, image):
        """The kernel of ``image`` (or frames), its confidence and the reason to distrust it."""
        min_confidence = _check_guard(self.min_confidence, self.fallback)
        return estimate_trusted(image, self.psf_size, min_confidence, self._estimation_params())

    def _restore_one(self, image):
        image = check_image(image)
        if getattr(self, "psf_", None) is None:
            kernel, _, reason = self._estimate(image)
        else:
            kernel, reason = self.psf_, getattr(self, "distrust_", None)
        return _guarded_restoration(image, kernel, reason, final_lam=self._final_lam(), clip=self.clip,
                                    fallback=self.fallback, final_step=self.final_step)

    def fit(self, blurry, sharp=None):
        """Estimate the kernel (``psf_``, ``psf_confidence_``, ``distrust_``), or with ``sharp``
        tune ``final_lam_``; returns self."""
        self.final_step_ = resolve_final_step(self.final_step)
        if sharp is None:
            self.psf_, self.psf_confidence_, self.distrust_ = self._estimate(blurry)
            return self
        pairs = as_pairs(blurry, sharp)
        kernels = [estimate_psf(b, self.psf_size, **self._estimation_params()).astype(b.dtype)
                   for b, _ in pairs]

        def restore_with(b, value, index):
            return final_restoration(b, kernels[index], value, self.clip, self.final_step)

        self.final_lam_ = tune_on_pairs(restore_with, pairs, self.tune_range, upto_shift=True)
        self.psfs_ = kernels
        return self
