"""Blind deconvolution: kernel estimation, the function form and BlindDeblurrer."""

import importlib.util

import numpy as np
import pytest
from conftest import smooth_image
from contract import check_deblurrer
from scipy import ndimage

from pydeblur import psf, sample_image
from pydeblur.blind import PRIORS, BlindDeblurrer, blind_deconvolve, estimate_psf
from pydeblur.blind._deblur import (
    KERNEL_ERROR_SIGMA,
    MIN_CONFIDENCE,
    final_restoration,
    final_weights,
    reblur_residual,
)
from pydeblur.blind._kernel_update import FAINT_THRESHOLD, clean_kernel, estimate_kernel, remove_edge_blur
from pydeblur.blind._kernel_update import _gradients as gradients
from pydeblur.metrics import kernel_similarity, psnr_upto_shift
from pydeblur.operators import convolve
from pydeblur.restoration import hyper_laplacian
from pydeblur.synth import degrade


@pytest.fixture(scope="module")
def blurred():
    x = sample_image("camera", dtype=np.float64)[100:292, 150:342]
    k = psf.motion(11, 30)
    blurry, sharp, _ = degrade(x, psf=k, noise_sigma=0.005, rng=0)
    return blurry, sharp, k


@pytest.mark.parametrize("prior", [p for p in PRIORS if p != "learned"])  # learned: test_blind_learned.py
def test_every_prior_finds_the_kernel(blurred, prior):
    blurry, _, truth = blurred
    levels = []
    kernel = estimate_psf(blurry, 15, prior=prior, callback=levels.append)
    assert kernel.shape == (15, 15) and (kernel >= 0).all() and kernel.sum() == pytest.approx(1)
    delta = np.zeros((15, 15))
    delta[7, 7] = 1
    assert kernel_similarity(kernel, truth) > 0.85 > kernel_similarity(delta, truth) + 0.2
    assert levels[-1]["level"] == levels[-1]["levels"] and levels[-1]["psf"].shape == (15, 15)


def test_blind_deconvolution_sharpens(blurred):
    blurry, sharp, _ = blurred
    restored, _ = blind_deconvolve(blurry, 15)
    assert restored.shape == blurry.shape and restored.dtype == blurry.dtype
    assert psnr_upto_shift(restored, sharp) > psnr_upto_shift(blurry, sharp) + 2


def test_colour_uses_the_luminance_kernel_and_restores_every_channel(blurred):
    blurry, _, _ = blurred
    colour = np.stack([blurry, blurry * 0.8, blurry * 0.6], axis=-1).astype(np.float32)
    restored, kernel = blind_deconvolve(colour, 15)
    assert restored.shape == colour.shape and restored.dtype == np.float32
    grey_kernel = estimate_psf(colour @ np.array([0.299, 0.587, 0.114]), 15)
    np.testing.assert_allclose(kernel, grey_kernel, atol=1e-6)


def test_parameters_change_the_estimate(blurred):
    blurry, _, _ = blurred
    base = estimate_psf(blurry, 15)
    changes = ({"grad_weight": 2e-2}, {"kernel_reg": 300.0}, {"iter_per_level": 2}, {"prior": "dark_channel"},
               {"edge_blur": 0.0}, {"pyramid_kernel_reg": 10.0})
    for change in changes:
        assert not np.allclose(estimate_psf(blurry, 15, **change), base), change
    assert not np.allclose(estimate_psf(blurry, 15, prior="dark_channel", prior_weight=4e-2),
                           estimate_psf(blurry, 15, prior="dark_channel"))


def test_the_kernel_step_solves_its_least_squares_problem():
    sharp = sample_image("camera", dtype=np.float64)[100:260, 100:260]
    truth = psf.trajectory(9, rng=3)
    blurry = convolve(sharp, truth, boundary="periodic")  # the kernel step's own (periodic) model
    estimate = estimate_kernel([(gradients(sharp), blurry)], 9, gamma=1e-6)
    assert estimate.shape == (9, 9) and estimate.sum() == pytest.approx(1)
    assert kernel_similarity(estimate, truth) > 0.999
    np.testing.assert_allclose(estimate, truth, atol=0.005)  # only the pruned faint taps differ


def test_a_relative_kernel_weight_does_not_depend_on_the_photo_s_contrast():
    sharp = sample_image("camera", dtype=np.float64)[100:260, 100:260]
    blurry = convolve(sharp, psf.trajectory(9, rng=3), boundary="periodic")

    def estimate(contrast, **weight):
        return estimate_kernel([(gradients(contrast * sharp), contrast * blurry)], 9, **weight)

    low, full = estimate(0.2, gamma=0.5, relative=True), estimate(1.0, gamma=0.5, relative=True)
    np.testing.assert_allclose(low, full, atol=1e-9)
    # a fixed weight counts for more against a low-contrast photo's weaker gradients
    assert not np.allclose(estimate(0.2, gamma=30.0), estimate(1.0, gamma=30.0), atol=1e-3)


def test_cleaning_keeps_faint_values_only_next_to_the_strokes():
    raw = np.zeros((15, 15))
    raw[7, 3:8] = 1.0  # a stroke
    raw[7, 8:11] = 0.02  # its faint continuation, below the 5 % cut
    raw[2, 12] = 0.02  # a faint speck far from the stroke
    raw[12, 2] = 0.3  # a strong but light speck: less than a tenth of the stroke's mass
    raw[0, 0] = -0.5  # negative values are never kept
    strict, faint = clean_kernel(raw.copy()), clean_kernel(raw.copy(), faint=True)
    for kernel in (strict, faint):
        assert kernel.sum() == pytest.approx(1) and (kernel >= 0).all()
    assert np.count_nonzero(strict) == 5  # the stroke alone
    # the faint pass keeps the first faint tap, the one that touches the stroke, and nothing else
    assert np.count_nonzero(faint) == 6 and faint.max() == pytest.approx(1 / 5.02)
    assert FAINT_THRESHOLD < 0.02  # the faint taps above are above the faint cut


def test_removing_edge_blur_recovers_a_thin_kernel():
    thin = psf.motion(15, 30)
    soft = ndimage.gaussian_filter(thin, 0.6)
    sharpened = remove_edge_blur(soft, 0.6)
    assert sharpened.shape == thin.shape and (sharpened >= 0).all() and sharpened.sum() == pytest.approx(1)
    assert kernel_similarity(sharpened, thin) > kernel_similarity(soft, thin) + 0.05
    np.testing.assert_array_equal(remove_edge_blur(soft, 0), soft)


def test_bad_arguments(blurred):
    blurry, _, _ = blurred
    for bad in (-0.1, 5.0):
        with pytest.raises(ValueError, match="edge_blur"):
            estimate_psf(blurry, 15, edge_blur=bad)
    with pytest.raises(ValueError, match="odd"):
        estimate_psf(blurry, 14)
    with pytest.raises(ValueError, match="quarter"):
        estimate_psf(blurry, 61)
    with pytest.raises(ValueError, match="prior"):
        estimate_psf(blurry, 15, prior="sparse")
    with pytest.raises(TypeError, match="img_as_float"):
        estimate_psf((blurry * 255).astype(np.uint8), 15)


def test_deblurrer_contract_and_kernel_attribute(blurred):
    blurry, sharp, truth = blurred
    small = (blurry[:128, :128], sharp[:128, :128])
    # the classical final step keeps these runs short; the learned one is tested in test_blind_learned
    check_deblurrer(lambda: BlindDeblurrer(psf_size=13, iter_per_level=2, final_step="hyper_laplacian"),
                    *small)
    deblurrer = BlindDeblurrer(psf_size=15, final_step="hyper_laplacian")
    deblurrer.restore([blurry, blurry])
    assert not hasattr(deblurrer, "psf_")  # restore keeps no state
    deblurrer.fit_restore(blurry)
    assert kernel_similarity(deblurrer.psf_, truth) > 0.85


def test_fit_keeps_the_kernel_and_restore_uses_it(blurred):
    blurry, _, truth = blurred
    other = np.ascontiguousarray(blurry[::-1])  # another photo (the same scene upside down)
    deblurrer = BlindDeblurrer(psf_size=15).fit(blurry)
    kernel = deblurrer.psf_.astype(other.dtype)
    expected = final_restoration(other, kernel, final_step=deblurrer.final_step_)
    np.testing.assert_array_equal(deblurrer.restore(other), expected)
    assert kernel_similarity(deblurrer.psf_, truth) > 0.85


def test_final_step_trusts_a_kernel_as_far_as_it_explains_the_photo(blurred):
    blurry, sharp, truth = blurred
    wrong = psf.gaussian(1.5, size=11)  # a plausible kernel of the wrong shape
    residuals = {}
    for name, kernel in (("true", truth), ("wrong", wrong)):
        first = hyper_laplacian(blurry, kernel, lam=final_weights(blurry, kernel))
        residuals[name] = reblur_residual(blurry, first, kernel)
    assert residuals["true"] < 0.7 * residuals["wrong"]
    one_pass = hyper_laplacian(blurry, truth, lam=final_weights(blurry, truth), clip=True)
    two_passes = final_restoration(blurry, truth, clip=True)
    assert psnr_upto_shift(two_passes, sharp) > psnr_upto_shift(one_pass, sharp) + 0.3
    np.testing.assert_array_equal(final_restoration(blurry, truth, 500.0),
                                  hyper_laplacian(blurry, truth, lam=500.0))


def test_auto_size_refines_the_trimmed_kernel(blurred):
    blurry, _, truth = blurred
    steps = []
    kernel = estimate_psf(blurry, "auto", callback=steps.append)
    sides = [s["psf"].shape[0] for s in steps]
    assert max(sides) == 37 and sides[-1] < 37  # a fifth of 192 px, then the trimmed size
    assert kernel.shape[0] <= sides[-1] and kernel_similarity(kernel, truth) > 0.85
    assert len(steps) == sum(1 for s in steps if s["level"] < s["levels"]) + 5 + 10


def test_frames_that_share_a_shake_give_one_kernel(blurred):
    blurry, _, truth = blurred
    frames = [blurry[:, :140], blurry[:, -140:]]
    deblurrer = BlindDeblurrer(psf_size=15, iter_per_level=3).fit(frames)
    assert deblurrer.psf_.shape == (15, 15)
    assert kernel_similarity(deblurrer.psf_, truth) > 0.8
    with pytest.raises(TypeError, match="img_as_float"):
        estimate_psf([blurry, (blurry * 255).astype(np.uint8)], 15)


def test_fit_on_pairs_keeps_their_kernels_and_scores_up_to_a_shift(blurred):
    blurry, sharp, _ = blurred
    deblurrer = BlindDeblurrer(psf_size=15, iter_per_level=2, tune_range=(100, 1000),
                               final_step="hyper_laplacian").fit(blurry, sharp)
    assert 100 <= deblurrer.final_lam_ <= 1000 and len(deblurrer.psfs_) == 1
    assert not hasattr(deblurrer, "psf_")
    shifted = np.roll(sharp, 2, axis=1)
    assert deblurrer.score(blurry, shifted) == pytest.approx(deblurrer.score(blurry, sharp), abs=1.0)


def test_fit_tunes_the_final_weight(blurred):
    blurry, sharp, _ = blurred
    deblurrer = BlindDeblurrer(psf_size=15, iter_per_level=2, final_step="hyper_laplacian").fit(blurry, sharp)
    assert 10 <= deblurrer.final_lam_ <= 1e5
    untuned = BlindDeblurrer(psf_size=15, iter_per_level=2, final_step="hyper_laplacian")
    assert deblurrer.score(blurry, sharp) >= untuned.score(blurry, sharp) - 1e-6


def test_renamed_parameters_still_work_with_a_warning(blurred):
    blurry, _, _ = blurred
    new = estimate_psf(blurry, 15, grad_weight=2e-2, iter_per_level=2, kernel_reg=100.0)
    with pytest.warns(FutureWarning, match="use grad_weight="):
        old = estimate_psf(blurry, 15, lam=2e-2, iter_per_level=2, kernel_reg=100.0)
    np.testing.assert_array_equal(old, new)
    with pytest.raises(TypeError, match="pass grad_weight= only"):
        estimate_psf(blurry, 15, lam=1e-2, grad_weight=1e-2)
    with pytest.warns(FutureWarning, match="positional prior, psf_size"):
        deblurrer = BlindDeblurrer("dark_channel", 13)
    assert (deblurrer.prior, deblurrer.psf_size) == ("dark_channel", 13)
    with pytest.warns(FutureWarning, match="n_iter= is deprecated"):
        assert BlindDeblurrer(n_iter=2).iter_per_level == 2
    assert "n_iter" not in BlindDeblurrer().get_params()


def test_the_final_step_treats_kernel_error_as_noise(blurred):
    blurry, _, truth = blurred
    with_margin = final_weights(blurry, truth)
    without = final_weights(blurry, truth, kernel_error_sigma=0.0)
    sigma = np.sqrt(0.25 / without)  # hyper-Laplacian's own rule: lam = 0.25 / sigma^2
    np.testing.assert_allclose(with_margin, 0.25 / (sigma**2 + KERNEL_ERROR_SIGMA**2))
    restored, kernel = blind_deconvolve(blurry, 15, final_step="hyper_laplacian")
    np.testing.assert_array_equal(restored, final_restoration(blurry, kernel))


def test_images_the_model_cannot_hold_are_said_so():
    with pytest.warns(UserWarning, match="constant"):
        kernel = estimate_psf(np.full((64, 64), 0.5))
    assert kernel[kernel.shape[0] // 2, kernel.shape[1] // 2] == pytest.approx(1.0)  # the identity
    with pytest.raises(ValueError, match="at least 12 px"):
        estimate_psf(np.random.default_rng(0).random((10, 10)))
    saturated = np.clip(smooth_image((96, 96)) * 2.5, 0, 1)
    with pytest.warns(UserWarning, match="clipped"):
        estimate_psf(saturated, 9, iter_per_level=1)
    with pytest.raises(ValueError, match="psf_size"):
        estimate_psf(smooth_image((96, 96)), "large")


def test_auto_size_is_generous_and_the_estimate_is_trimmed(blurred):
    from pydeblur.blind._estimate import auto_psf_size

    blurry, _, truth = blurred
    kernel = estimate_psf(blurry)  # psf_size='auto'
    assert kernel.shape[0] % 2 == 1 and kernel.shape[0] == kernel.shape[1]
    assert truth.shape[0] <= kernel.shape[0] < auto_psf_size(min(blurry.shape))
    assert kernel_similarity(kernel, truth) > 0.8


def test_the_auto_box_holds_a_75px_shake_that_dwells_at_one_end():
    from pydeblur.blind._estimate import auto_psf_size, trim_to_support
    from pydeblur.psf._utils import center, pad_to

    shake = np.zeros((75, 75))
    shake[37, :] = 1.0
    shake[37, 65:] = 3.0  # the camera slowed down here: the centroid moves towards this end
    centred = center(pad_to(shake / shake.sum(), (151, 151)))
    box = trim_to_support(centred, margin=0).shape[0]
    assert box > 75  # a 75 px box centred on the centroid would cut the stroke's other end
    assert box <= auto_psf_size(1000)
    assert auto_psf_size(1000) == 99 and auto_psf_size(255) == 51


def test_a_sound_estimate_is_trusted(blurred):
    blurry, _, _ = blurred
    deblurrer = BlindDeblurrer(psf_size=15).fit(blurry)
    assert MIN_CONFIDENCE < deblurrer.psf_confidence_ <= 1
    assert deblurrer.distrust_ is None and deblurrer.trust_note() is None


def test_an_untrusted_estimate_keeps_the_input_and_says_why():
    rng = np.random.default_rng(0)
    noisy, _, _ = degrade(rng.random((206, 206)), psf=psf.motion(15, 30), noise_sigma=0.05, rng=1)
    deblurrer = BlindDeblurrer(psf_size=15)
    with pytest.warns(UserWarning, match="psf_confidence 0.* returning the input unchanged"):
        restored = deblurrer.fit_restore(noisy)
    assert deblurrer.psf_confidence_ < MIN_CONFIDENCE and "unreliable" in deblurrer.distrust_
    assert "input is returned unchanged" in deblurrer.trust_note()
    np.testing.assert_array_equal(restored, noisy)
    assert restored is not noisy
    with pytest.warns(UserWarning, match="restoring anyway"):
        anyway = BlindDeblurrer(psf_size=15, fallback="restore").fit_restore(noisy)
    np.testing.assert_array_equal(anyway, final_restoration(noisy, deblurrer.psf_, final_step="auto"))
    with pytest.warns(UserWarning, match="returning the input unchanged"):
        same, kernel = blind_deconvolve(noisy, 15)
    np.testing.assert_array_equal(same, noisy)
    np.testing.assert_array_equal(kernel, deblurrer.psf_)


def test_an_untrusted_auto_estimate_is_retried_once_at_a_smaller_size(monkeypatch):
    import pydeblur.blind._deblur as deblur

    calls = []
    sound = {"convergence": 0.95, "scale_agreement": 0.97, "size": 31}
    wandering = {"convergence": 0.5, "scale_agreement": 0.6, "size": 51}

    def fake_estimate(image, psf_size, *, auto_max=None, **params):
        calls.append((psf_size, auto_max))
        outcomes = fake_estimate.outcomes
        return np.full((3, 3), len(calls), dtype=float), dict(outcomes[min(len(calls), len(outcomes)) - 1])

    monkeypatch.setattr(deblur, "estimate_with_record", fake_estimate)
    image = np.zeros((255, 255))
    fake_estimate.outcomes = [wandering, sound]
    kernel, confidence, reason = deblur.estimate_trusted(image, "auto", MIN_CONFIDENCE, {})
    assert calls[1] == ("auto", int(deblur.RETRY_SHARE * 51) | 1)  # 51 -> 31 px
    assert kernel[0, 0] == 2 and confidence == pytest.approx(0.95) and reason is None
    calls.clear()
    fake_estimate.outcomes = [wandering, wandering]  # both untrusted: the first estimate and why
    kernel, confidence, reason = deblur.estimate_trusted(image, "auto", MIN_CONFIDENCE, {})
    assert len(calls) == 2 and kernel[0, 0] == 1 and "unreliable" in reason
    for size, first in ((15, wandering), ("auto", {**wandering, "size": 45}), ("auto", sound)):
        calls.clear()  # no retry: an explicit size, a retry below RETRY_MIN_SIZE, a trusted estimate
        fake_estimate.outcomes = [first, sound]
        deblur.estimate_trusted(image, size, MIN_CONFIDENCE, {})
        assert len(calls) == 1, size


def test_auto_max_bounds_the_auto_size(blurred):
    from pydeblur.blind._estimate import estimate_with_record

    kernel, record = estimate_with_record(blurred[0], "auto", auto_max=17, refine_iter=0)
    assert record["size"] == 17 and kernel.shape[0] <= 17
    assert estimate_with_record(blurred[0], "auto", auto_max=18, refine_iter=0)[1]["size"] == 17  # odd, <= 18
    with pytest.raises(ValueError, match="auto_max"):
        estimate_with_record(blurred[0], "auto", auto_max=1)


def test_a_constant_image_is_returned_as_it_came():
    flat = np.full((64, 64), 0.5)
    with pytest.warns(UserWarning, match="constant"):
        deblurrer = BlindDeblurrer().fit(flat)
    assert deblurrer.psf_confidence_ == 0 and "constant" in deblurrer.distrust_
    with pytest.warns(UserWarning, match="returning the input unchanged"):
        np.testing.assert_array_equal(deblurrer.restore(flat), flat)


def test_the_guard_options_are_checked():
    with pytest.raises(ValueError, match="fallback"):
        BlindDeblurrer(fallback="sharpen")
    with pytest.raises(ValueError, match="min_confidence"):
        BlindDeblurrer(min_confidence=1.5)
    with pytest.raises(ValueError, match="fallback"):
        blind_deconvolve(np.random.default_rng(0).random((64, 64)), 9, fallback="sharpen")


def test_the_auto_final_step_is_the_learned_one_only_when_torch_is_installed(monkeypatch):
    from pydeblur.blind._deblur import resolve_final_step

    assert BlindDeblurrer().final_step == "auto"
    assert resolve_final_step("hyper_laplacian") == "hyper_laplacian"
    assert resolve_final_step("fusion") == "fusion"
    assert resolve_final_step("plug_and_play") == "plug_and_play"
    with pytest.raises(ValueError, match="final_step"):
        resolve_final_step("pnp")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "torch" else real_find_spec(name, *args))
    assert resolve_final_step("auto") == "hyper_laplacian"
