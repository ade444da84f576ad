"""Coarse-to-fine blind kernel estimation (one image, or frames that share a kernel)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._deprecation import renamed_parameters
from .._validation import check_choice, check_image, check_number
from ..base import as_image_list
from ..methods import PRIORS
from ..operators import pad_channel, padding_plan
from ..psf._utils import center, crop, pad_to, rescale
from ._kernel_update import estimate_kernel, remove_edge_blur, salient_gradients
from ._latent import restore_latent

#: Sigma (px) of the camera's own edge blur that the kernel estimate is freed from
#: (:func:`remove_edge_blur`). Global, from the Levin 2009 development half (29.17 dB without,
#: 29.60 / 29.92 / 30.05 at 0.5 / 0.6 / 0.7) and the synthetic BSDS crops of
#: benchmarks/blind.py (25.88 without, 26.00 / 26.01 / 26.05, kernel similarity falling
#: from 0.868 to 0.814 at 0.6 and 0.775 at 0.7).
EDGE_BLUR = 0.6
#: Weight of the L0 gradient prior of the latent-image step. Global, from the Levin 2009
#: development half and the synthetic BSDS crops of benchmarks/blind.py (hyper-Laplacian
#: final step, 0.25 px shift protocol): 2e-3 32.54 / 26.83 dB, 3e-3 32.63 / 26.80,
#: 4e-3 32.48 / 26.62.
GRAD_WEIGHT = 3e-3
#: Tikhonov weight of the pyramid's kernel steps, as a share of the latent gradients'
#: energy (:func:`~pydeblur.blind._kernel_update.estimate_kernel` with ``relative``). A fixed
#: weight (``kernel_reg``, 30) dominated the data of the small coarse images (2.5 times the
#: energy at the 3x3 level) and faded at the large fine ones (0.07 at 962x642): the kernel
#: filled whatever box the level gave it, and a 31-45 px shake estimated in 'auto''s
#: 75 px box spread. ``benchmarks/blind_large.py --per-case`` (hyper-Laplacian step, no
#: fallback), mean gain over the blurry input on half the cases: fixed -2.64 dB, relative
#: 0.6 / 0.9 / 1.2 / 2.4 +2.60 / +3.54 / +3.74 / +3.07 (1.2 on all cases: +3.13 against
#: -2.34). The refinement rounds keep the fixed weight: relative there too, the Levin 2009
#: development half lost 0.7-1.6 dB (0.6 / 1.2 everywhere: 31.92 / 31.00 dB). Levin with the
#: fusion final step: 0.6 / 0.9 / 1.2 32.68 / 32.77 / 32.77 dB (fixed: 32.84); the synthetic
#: BSDS crops of benchmarks/blind.py, hyper-Laplacian step without the smaller-kernel
#: retry: 27.18 / 26.91 / 26.76 (fixed: 26.80), 1.2 spreading a 9 px kernel of a cloudy,
#: low-texture crop to a trusted 35 px speckle (33.5 -> 24.6 dB).
PYRAMID_KERNEL_REG = 0.9
#: Largest kernel box psf_size='auto' estimates. A kernel is centred on its centroid, not on
#: its bounding box, so a shake spanning 75 px needs a larger box wherever it dwells at one
#: end: the five 75 px shakes of benchmarks/blind_large.py need 75-95 px boxes, and in a
#: 75 px box the estimate lost their ends (their gain, the estimate alone with the
#: hyper-Laplacian step: +1.0 dB in a 75 px box, +2.2 in a 99 px one).
AUTO_MAX_SIZE = 99
#: The largest edge_blur accepted: a camera's edges are not softer than this (px).
MAX_EDGE_BLUR = 3.0
#: Deprecated parameter names of the blind functions and their new names.
RENAMED = {"lam": "grad_weight", "lam_prior": "prior_weight", "n_iter": "iter_per_level",
           "gamma": "kernel_reg"}
LUMA = (0.299, 0.587, 0.114)  # Rec. 601 weights of the luminance the kernel is estimated on


def _luminance(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image.astype(np.float64)
    if image.shape[2] == 3:
        return image.astype(np.float64) @ np.array(LUMA)
    return image.astype(np.float64).mean(axis=2)


def _resize(image: np.ndarray, shape) -> np.ndarray:
    import cv2

    return cv2.resize(image, (shape[1], shape[0]), interpolation=cv2.INTER_AREA
                      if shape[0] < image.shape[0] else cv2.INTER_LINEAR)


def _odd(value: float) -> int:
    return max(3, 2 * round((value - 1) / 2) + 1)


@renamed_parameters(**RENAMED)
def estimate_psf(image, psf_size="auto", *, prior: str = "l0", grad_weight: float = GRAD_WEIGHT,
                 prior_weight: float = 4e-3, iter_per_level: int = 5, refine_iter: int = 10,
                 kernel_reg: float = 30.0, pyramid_kernel_reg: float = PYRAMID_KERNEL_REG,
                 edge_blur: float = EDGE_BLUR, classifier=None, callback=None) -> np.ndarray:
    """Estimate the blur kernel of a photo from the photo alone, coarse to fine.

    The kernel is estimated on the luminance over a pyramid whose levels differ by a
    factor sqrt(2), from a 3x3 kernel at the coarsest level up to ``psf_size``. At every
    level, ``iter_per_level`` rounds alternate a latent-image step (an L0-type prior,
    see ``prior``) with a kernel step: least squares on the latent image's salient
    gradients (a threshold that keeps every orientation represented and relaxes by
    1.1 per round) with Tikhonov weight ``pyramid_kernel_reg``, solved by conjugate gradients on the
    kernel's support, then non-negativity, pruning, removal of stray components, unit
    sum and re-centring. The prior weights restart at every level and decay by 1.1 per
    round; ``refine_iter`` more rounds at the finest level go on decaying them. The
    image is extended smoothly (Liu-Jia) so that the FFT steps see no
    wrap-around edges.

    Parameters
    ----------
    image : numpy.ndarray or list of numpy.ndarray
        Blurry float image, (H, W) or (H, W, C); or a list of frames blurred by the same
        kernel (a burst sharing one shake), which are estimated jointly: every frame has
        its own latent image and the kernel step fits all of them.
    psf_size : 'auto' or int
        Odd side of the estimated kernel; at most a quarter of the shortest image side.
        'auto' (:func:`auto_psf_size`) estimates a kernel a fifth of the shorter side
        (at most 99 px), generous for camera shake, cuts it to its support plus a 2 px
        margin and runs the ``refine_iter`` rounds at that size: a user need not know the
        blur's size.
    prior : {'l0', 'l0_text', 'dark_channel', 'learned'}
        'l0': sparse gradients (Xu et al. 2013); 'l0_text': sparse gradients and
        intensities (Pan et al. 2014, for text and dark backgrounds); 'dark_channel':
        sparse gradients and a sparse dark channel (Pan et al. 2016); 'learned': sparse
        gradients and a CNN's blur score (Li et al. 2018; needs the torch extra).
    grad_weight : float
        Weight of the L0 gradient prior (was ``lam``, deprecated).
    prior_weight : float
        Weight of the second term of 'l0_text' / 'dark_channel' / 'learned' (was
        ``lam_prior``).
    iter_per_level : int
        Alternations per pyramid level (was ``n_iter``).
    refine_iter : int
        Extra alternations at the finest level, where the weights and the gradient
        threshold go on decaying: the kernel's strokes thin out (Levin 2009 development
        half, default size: 29.03 dB with 0, 29.42 with 10, at 1.6 vs 2.8 s per capture).
        The last ``FAINT_ROUNDS`` of them keep the faint values next to the strokes, where
        real shake moved fast.
    kernel_reg : float
        Tikhonov weight of the refinement rounds' kernel steps (was ``gamma``).
    pyramid_kernel_reg : float
        Tikhonov weight of the pyramid's kernel steps, as a share of the salient latent
        gradients' energy, so that it weighs the same at every level: a fixed weight
        swamps the small coarse images, where the kernel then fills its box.
    edge_blur : float
        Sigma (px) of the Gaussian the estimate is finally deconvolved by
        (:func:`~pydeblur.blind._kernel_update.remove_edge_blur`): the L0 latent image has
        ideal step edges, so the kernel step attributes the camera's own edge softness to
        the shake and returns it convolved with that softness. 0 keeps the kernel as
        estimated (for photos whose edges are crisp, such as strongly downsampled ones).
    classifier : str or os.PathLike, optional
        'learned' only: the blur classifier's weights (default: the shipped
        ``blur-classifier``).
    callback : callable, optional
        ``callback({"level", "levels", "iteration", "psf"})`` after every kernel step.

    Returns
    -------
    numpy.ndarray
        float64 kernel of shape ``(psf_size, psf_size)`` (odd and square, at most the
        'auto' size, for ``psf_size='auto'``), summing to 1, centred.

    References
    ----------
    L. Xu, S. Zheng and J. Jia, "Unnatural L0 sparse representation for natural image
    deblurring", CVPR 2013. J. Pan et al., "Deblurring text images via L0-regularized
    intensity and gradient prior", CVPR 2014; "Blind image deblurring using dark
    channel prior", CVPR 2016.
    """
    return estimate_with_record(image, psf_size, prior=prior, grad_weight=grad_weight,
                                prior_weight=prior_weight, iter_per_level=iter_per_level,
                                refine_iter=refine_iter, kernel_reg=kernel_reg,
                                pyramid_kernel_reg=pyramid_kernel_reg, edge_blur=edge_blur,
                                classifier=classifier, callback=callback)[0]


def estimate_with_record(image, psf_size="auto", *, prior: str = "l0", grad_weight: float = GRAD_WEIGHT,
                         prior_weight: float = 4e-3, iter_per_level: int = 5, refine_iter: int = 10,
                         kernel_reg: float = 30.0, pyramid_kernel_reg: float = PYRAMID_KERNEL_REG,
                         edge_blur: float = EDGE_BLUR, classifier=None, callback=None,
                         auto_max: int = AUTO_MAX_SIZE):
    """:func:`estimate_psf`, and the record of how the estimate went (see :func:`_estimate_checked`;
    a constant image, estimated as the identity, has the record ``{"constant": True}``).

    ``auto_max`` bounds the size ``psf_size='auto'`` estimates (:func:`auto_psf_size`).
    """
    frames = [check_image(f, name="image") for f in as_image_list(image, name="image")[0]]
    check_choice(prior, PRIORS, name="prior")
    auto = isinstance(psf_size, str)
    shorter = min(min(f.shape[:2]) for f in frames)
    if shorter < MIN_SIDE:
        raise ValueError(f"the image is {shorter} px on its shorter side; blind kernel estimation needs at "
                         f"least {MIN_SIDE} px (a 3x3 kernel at a quarter of the side). Use a larger image.")
    if auto:
        check_choice(psf_size, ("auto",), name="psf_size")
        auto_max = check_number(auto_max, name="auto_max", low=3, integer=True)
        psf_size = min(auto_psf_size(shorter), (auto_max - 1) | 1)  # odd, never above auto_max
    psf_size = check_number(psf_size, name="psf_size", low=3, integer=True)
    if psf_size % 2 == 0:
        raise ValueError(f"psf_size must be odd (a centred kernel), got {psf_size}.")
    for frame in frames:
        if 4 * psf_size > min(frame.shape[:2]):
            raise ValueError(f"psf_size {psf_size} is too large for a {frame.shape[0]}x{frame.shape[1]} "
                             "image; the kernel can be at most a quarter of the shorter side.")
    if _warn_about_content(frames) == len(frames):  # nothing to estimate from: the identity
        side = 5 if auto else psf_size  # 'auto': the 1 px support plus trim_to_support's margin
        return pad_to(np.ones((1, 1)), (side, side)), {"constant": True}
    return _estimate_checked(frames, psf_size, prior=prior, grad_weight=grad_weight,
                             prior_weight=prior_weight, iter_per_level=iter_per_level,
                             refine_iter=refine_iter, kernel_reg=kernel_reg,
                             pyramid_kernel_reg=pyramid_kernel_reg, edge_blur=edge_blur,
                             classifier=classifier, callback=callback, trim=auto)


#: Smallest image side blind estimation accepts.
MIN_SIDE = 12
#: Share of clipped (saturated or black) pixels above which a warning says the model breaks.
CLIPPED_WARNING = 0.05


def _warn_about_content(frames) -> int:
    """Warn where the blur model cannot hold: no edges at all, or many clipped pixels.

    Returns the number of constant frames.
    """
    constant = 0
    for index, frame in enumerate(frames):
        where = f"frame {index}" if len(frames) > 1 else "the image"
        grey = _luminance(frame)
        if float(np.ptp(grey)) < 1e-6:
            warnings.warn(f"{where} is constant: it holds no edges to estimate a kernel from, and the "
                          "estimate is the identity (no deblurring).", UserWarning, stacklevel=4)
            constant += 1
            continue
        clipped = float(np.mean((grey >= 0.99) | (grey <= 0.0)))
        if clipped > CLIPPED_WARNING:
            warnings.warn(f"{clipped:.0%} of {where}'s pixels are clipped (saturated highlights or crushed "
                          "blacks), where blur is not a convolution: expect ringing around them and a less "
                          "reliable kernel.", UserWarning, stacklevel=4)
    return constant


def auto_psf_size(shorter_side: int) -> int:
    """The kernel side ``psf_size='auto'`` estimates: a fifth of the shorter image side, odd,
    at most ``AUTO_MAX_SIZE`` (99 px, room for a shake spanning 75 px) and at most a quarter of the
    side (the pyramid's limit).

    >>> auto_psf_size(255), auto_psf_size(900), auto_psf_size(40)
    (51, 99, 9)
    """
    quarter = max(3, (shorter_side // 4 - 1) | 1)
    return int(min(AUTO_MAX_SIZE, quarter, _odd(shorter_side / 5)))


def trim_to_support(kernel: np.ndarray, margin: int = 2) -> np.ndarray:
    """The centred odd square around a kernel's non-zero support plus ``margin`` px."""
    rows, cols = np.nonzero(kernel)
    if rows.size == 0:
        return kernel
    c = kernel.shape[0] // 2
    half = int(max(np.abs(rows - c).max(), np.abs(cols - c).max())) + margin
    side = min(2 * half + 1, kernel.shape[0])
    return crop(kernel, (side, side))


#: The refinement rounds are kept only if their kernel still resembles the pyramid's (a
#: normalised cross-correlation at least this): they are meant to thin its strokes, and a
#: refinement that moves further has drifted (benchmarks/blind_large.py: a 75 px shake
#: refined to 0.60, 6 dB worse; every kept refinement 0.78 or more).
REFINE_MIN_AGREEMENT = 0.7
#: The last this many refinement rounds keep the kernel's faint values next to its strokes
#: (:func:`~pydeblur.blind._kernel_update.clean_kernel` with ``faint``; the rounds before
#: need the stricter cut while the strokes settle). Hyper-Laplacian final step, 0.25 px shift
#: protocol, grad_weight 4e-3: Levin 2009 development half 32.11 -> 32.48 dB, the synthetic
#: crops of benchmarks/blind.py 26.55 -> 26.62; in all ten refinement rounds 32.36 / 26.67.
#: Values down to 2 % kept anywhere instead: Levin 32.42, but the synthetic crops fall
#: 26.14 -> 25.84 (both without the confidence fallback) with speckle.
FAINT_ROUNDS = 3
#: The refinement rounds see at most this window (px) of each frame, its centre: they
#: cost a full-resolution latent and kernel step each (2.4 s on a 1 MP photo with a 75 px
#: kernel, where they gained nothing on benchmarks/blind_large.py), and the 255 px
#: captures they help (Levin 2009: +0.4 dB) fit in it whole.
REFINE_WINDOW = 384


def _estimate_checked(frames, psf_size, *, prior, grad_weight, prior_weight, iter_per_level, refine_iter,
                      kernel_reg, pyramid_kernel_reg=PYRAMID_KERNEL_REG, edge_blur=EDGE_BLUR, classifier,
                      callback, trim=False):
    """:func:`estimate_psf` on checked frames (internal callers validate once, at their entry).

    Returns the kernel and a record of how the estimate went: ``size`` (the side estimated,
    before any trim), ``convergence`` (the
    normalised cross-correlation of the first and last kernels of the finest pyramid
    level), ``scale_agreement`` (of the last kernels of the two finest levels, the
    coarser one enlarged), ``refined`` (whether the refinement rounds were kept) and
    ``refine_agreement`` (of the kernels before and after them).

    The pyramid runs ``iter_per_level`` rounds per level. With ``trim`` its kernel is
    then cut to its support (:func:`trim_to_support`): a generous size leaves the kernel
    room for speckle (Levin 2009 development half, size 51: 29.01 dB refined then
    trimmed, 29.25 trimmed then refined). ``refine_iter`` more rounds at the finest scale
    follow, on the centre ``REFINE_WINDOW`` of each frame, kept if their kernel agrees with
    the pyramid's (``REFINE_MIN_AGREEMENT``).
    """
    from ..metrics import kernel_similarity

    grad_weight = check_number(grad_weight, name="grad_weight", low=0, low_inclusive=False)
    prior_weight = check_number(prior_weight, name="prior_weight", low=0)
    iter_per_level = check_number(iter_per_level, name="iter_per_level", low=1, integer=True)
    refine_iter = check_number(refine_iter, name="refine_iter", low=0, integer=True)
    kernel_reg = check_number(kernel_reg, name="kernel_reg", low=0)
    pyramid_kernel_reg = check_number(pyramid_kernel_reg, name="pyramid_kernel_reg", low=0)
    edge_blur = check_number(edge_blur, name="edge_blur", low=0, high=MAX_EDGE_BLUR)
    # float64: float32 FFTs are twice as fast and gave the same on the Levin development half
    # (31.92 vs 31.93 dB), but 0.25 dB less for l0_text on benchmarks/blind.py's synthetic crops
    greys = [_luminance(frame) for frame in frames]
    n_levels = max(1, math.ceil(math.log(psf_size / 3) / math.log(math.sqrt(2))) + 1)
    rounds = _Rounds(prior, _learned_gradient(prior, classifier), callback, n_levels)
    kernel = np.zeros((3, 3))
    kernel[1, 1:] = 0.5
    kernel = center(kernel)
    previous_scale = coarser = None
    for level in range(n_levels):
        last = level == n_levels - 1
        scale = math.sqrt(0.5) ** (n_levels - 1 - level)
        size = psf_size if last else min(psf_size, _odd(psf_size * scale))
        shapes = [(max(size * 4, round(g.shape[0] * scale)), max(size * 4, round(g.shape[1] * scale)))
                  for g in greys]
        level_scale = shapes[0][0] / greys[0].shape[0]
        if previous_scale is not None:  # the kernel grows with the image, whatever the kernel sizes
            kernel = rescale(kernel, level_scale / previous_scale)
            kernel = pad_to(kernel, (size, size)) if kernel.shape[0] < size else crop(kernel, (size, size))
        previous_scale = level_scale
        coarser = kernel
        resized = [_resize(g, shape) if shape != g.shape else g
                   for g, shape in zip(greys, shapes, strict=True)]
        patch = max(3, _odd(35 * scale * min(1.0, min(shapes[0]) / 255)))
        kernel = rounds.run(resized, kernel, iter_per_level, grad_weight, prior_weight, patch, level + 1,
                            kernel_reg=pyramid_kernel_reg, relative_reg=True)
    record = {"convergence": kernel_similarity(rounds.first_kernel, kernel),
              "scale_agreement": kernel_similarity(coarser, kernel) if n_levels > 1 else 1.0,
              "refined": False, "refine_agreement": None, "size": psf_size}
    if trim:
        kernel = trim_to_support(kernel)
    if refine_iter:
        decay = 1.1**iter_per_level  # the weights go on from where the finest level left them
        windows = [_centre_window(g, REFINE_WINDOW) for g in greys]
        refined = rounds.run(windows, kernel, refine_iter, grad_weight / decay, prior_weight / decay, patch,
                             n_levels, kernel_reg=kernel_reg, first=iter_per_level, faint_last=FAINT_ROUNDS)
        refined = trim_to_support(refined) if trim else refined
        record["refine_agreement"] = kernel_similarity(kernel, refined)
        if record["refine_agreement"] >= REFINE_MIN_AGREEMENT:
            kernel, record["refined"] = refined, True
    if edge_blur:
        kernel = remove_edge_blur(kernel, edge_blur)
        kernel = trim_to_support(kernel) if trim else kernel
    return kernel, record


def _centre_window(image: np.ndarray, side: int) -> np.ndarray:
    """The centre ``side`` x ``side`` window of an image (all of a side that is shorter)."""
    top, left = max(0, (image.shape[0] - side) // 2), max(0, (image.shape[1] - side) // 2)
    return image[top : top + side, left : left + side]


class _Rounds:
    """Alternations of latent-image and kernel steps at one image scale.

    ``first_kernel`` is the kernel after the first round of the latest :meth:`run`.
    """

    def __init__(self, prior, learned_gradient, callback, levels):
        self.prior, self.learned_gradient = prior, learned_gradient
        self.callback, self.levels = callback, levels

    def run(self, greys, kernel, count, lam_grad, lam_second, patch, level, *, kernel_reg, relative_reg=False,
            first=0, faint_last=0):
        """``count`` rounds on ``greys`` (this scale's frames) from ``kernel``; the new kernel.

        The prior weights and every frame's gradient threshold decay by 1.1 per round; the
        kernel steps' Tikhonov weight is ``kernel_reg`` (a share of the latent gradients'
        energy with ``relative_reg``); the last ``faint_last`` rounds keep the kernel's faint
        values next to its strokes.
        """
        size = kernel.shape[0]
        padded = [pad_channel(g, padding_plan(g.shape, (size, size), "smooth"), "smooth") for g in greys]
        thresholds = [None] * len(padded)
        prior = self.prior
        self.first_kernel = None
        for iteration in range(first, first + count):
            observations = []
            for f, frame in enumerate(padded):
                latent = restore_latent(
                    frame, kernel, lam_grad=lam_grad,
                    lam_intensity=lam_second if prior == "l0_text" else 0.0,
                    lam_dark=lam_second if prior == "dark_channel" else 0.0,
                    lam_learned=lam_second if prior == "learned" else 0.0,
                    learned_gradient=self.learned_gradient, patch=patch)
                gx, gy, thresholds[f] = salient_gradients(latent, size, thresholds[f])
                thresholds[f] /= 1.1
                observations.append(((gx, gy), frame))
            faint = iteration >= first + count - faint_last
            kernel = estimate_kernel(observations, size, gamma=kernel_reg, relative=relative_reg, faint=faint)
            if self.first_kernel is None:
                self.first_kernel = kernel
            lam_grad, lam_second = max(lam_grad / 1.1, 1e-4), max(lam_second / 1.1, 1e-4)
            if self.callback is not None:
                self.callback({"level": level, "levels": self.levels, "iteration": iteration + 1,
                               "psf": kernel.copy()})
        return kernel


def _learned_gradient(prior, classifier):
    """The gradient function of the learned prior, or None for the other priors."""
    if prior != "learned":
        if classifier is not None:
            raise ValueError(f"classifier= applies to prior='learned' only, not {prior!r}.")
        return None
    from ..nets.blur_classifier import SHIPPED_NAME, load_classifier, prior_gradient

    model = load_classifier(SHIPPED_NAME if classifier is None else classifier)
    return lambda x: prior_gradient(model, x)[1]

