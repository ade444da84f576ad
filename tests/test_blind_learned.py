"""The learned (CNN) prior of blind deconvolution: training, weights, use in estimation."""

import numpy as np
import pytest

pytest.importorskip("torch")

from pydeblur import psf, sample_image
from pydeblur.blind import estimate_psf
from pydeblur.nets.blur_classifier import load_classifier, prior_gradient, train_classifier
from pydeblur.nets.weights import shipped_names
from pydeblur.operators import convolve


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("cls") / "tiny.safetensors"
    record = train_classifier([sample_image("astronaut")], path, steps=3, batch_size=4, crop=32, width=8,
                              max_size=9, log_every=1)
    assert [h["step"] for h in record["history"]] == [1, 2, 3]
    return path


def test_gradient_has_the_image_shape(tiny_weights):
    model = load_classifier(tiny_weights)
    image = sample_image("camera", dtype=np.float64)[:64, :80]
    score, gradient = prior_gradient(model, image)
    assert 0 < score < 1 and gradient.shape == image.shape and np.isfinite(gradient).all()


def test_learned_prior_estimates_a_valid_kernel(tiny_weights):
    x = sample_image("camera", dtype=np.float64)[100:228, 150:278]
    blurry = convolve(x, psf.motion(7, 0), boundary="reflect")
    kernel = estimate_psf(blurry, 9, prior="learned", classifier=tiny_weights, iter_per_level=1)
    assert kernel.shape == (9, 9) and (kernel >= 0).all() and kernel.sum() == pytest.approx(1)


def test_classifier_option_belongs_to_the_learned_prior(tiny_weights):
    x = sample_image("camera", dtype=np.float64)[:128, :128]
    with pytest.raises(ValueError, match="learned"):
        estimate_psf(x, 9, prior="l0", classifier=tiny_weights)


def test_other_weights_are_refused(tmp_path):
    from pydeblur.nets import SRNDeblur

    with pytest.raises(ValueError, match="blur classifier"):
        load_classifier(SRNDeblur.from_pretrained("srn-small").save(tmp_path / "srn.safetensors"))


@pytest.mark.skipif("blur-classifier" not in shipped_names(), reason="classifier weights not shipped")
def test_shipped_classifier_tells_blurry_from_sharp():
    model = load_classifier()
    scores = []
    # textured crops: max pooling makes any flat region (sky) look blurred, sharp or not
    for name, top, left in (("camera", 180, 150), ("brick", 0, 0), ("text", 0, 0), ("grass", 0, 0)):
        x = sample_image(name, dtype=np.float64)[top : top + 192, left : left + 192]
        blurred = convolve(x, psf.trajectory(15, rng=1), boundary="reflect")
        scores.append((prior_gradient(model, x)[0], prior_gradient(model, blurred)[0]))
    assert all(blurry > sharp for sharp, blurry in scores), scores


@pytest.mark.skipif("blur-classifier" not in shipped_names(), reason="classifier weights not shipped")
def test_shipped_learned_prior_finds_the_kernel():
    from pydeblur.metrics import kernel_similarity
    from pydeblur.synth import degrade

    x = sample_image("camera", dtype=np.float64)[100:292, 150:342]
    truth = psf.motion(11, 30)
    blurry, _, _ = degrade(x, psf=truth, noise_sigma=0.005, rng=0)
    assert kernel_similarity(estimate_psf(blurry, 15, prior="learned"), truth) > 0.85


def test_the_learned_final_steps_are_plug_and_play_at_the_second_pass_noise_level_and_its_mean():
    from pydeblur.blind import BlindDeblurrer, blind_deconvolve
    from pydeblur.blind._deblur import final_restoration
    from pydeblur.metrics import psnr_upto_shift
    from pydeblur.restoration import plug_and_play
    from pydeblur.synth import degrade

    sharp_full = sample_image("camera", dtype=np.float64)[100:292, 150:342]
    kernel = psf.motion(11, 30)
    blurry, sharp, _ = degrade(sharp_full, psf=kernel, noise_sigma=0.005, rng=0)
    from pydeblur.blind._deblur import COLD_ITERATIONS, _final_weights
    from pydeblur.restoration.plug_and_play import MAX_ITER, auto_noise_sigma

    classical = final_restoration(blurry, kernel)
    learned = final_restoration(blurry, kernel, final_step="plug_and_play")
    fused = final_restoration(blurry, kernel, final_step="fusion")
    _, sigma = _final_weights(blurry, kernel, "auto")
    sigma = max(sigma, auto_noise_sigma(blurry))
    cold = plug_and_play(blurry, kernel, noise_sigma=sigma, max_iter=COLD_ITERATIONS)
    np.testing.assert_allclose(learned, cold, atol=1e-6)
    assert COLD_ITERATIONS != MAX_ITER  # the blind route's own schedule, not plug_and_play's default
    np.testing.assert_allclose(fused, (classical + learned) / 2, atol=1e-6)
    # a wrong kernel explains the photo worse: plug-and-play is told of more noise, as the second pass is
    _, wrong_sigma = _final_weights(blurry, psf.motion(11, 120), "auto")
    assert wrong_sigma > 2 * sigma
    assert psnr_upto_shift(learned, sharp) > psnr_upto_shift(blurry, sharp) + 2
    assert psnr_upto_shift(fused, sharp) > psnr_upto_shift(blurry, sharp) + 2
    restored, estimated = blind_deconvolve(blurry, 15, final_step="fusion", clip=True)
    expected = np.clip(final_restoration(blurry, estimated, final_step="fusion"), 0, 1)
    np.testing.assert_allclose(restored, expected, atol=1e-6)
    assert BlindDeblurrer(final_step="fusion").get_params()["final_step"] == "fusion"
    by_default = BlindDeblurrer(psf_size=15, clip=True).fit(blurry)  # torch is installed: 'auto' is learned
    assert by_default.final_step_ == "plug_and_play"
    np.testing.assert_allclose(by_default.restore(blurry), np.clip(
        final_restoration(blurry, by_default.psf_, final_step="plug_and_play"), 0, 1), atol=1e-6)
    with pytest.raises(ValueError, match="final_step"):
        BlindDeblurrer(final_step="pnp")
    with pytest.raises(ValueError, match="final_step"):
        blind_deconvolve(blurry, 15, final_step="wiener")
