import numpy as np
import pytest

torch = pytest.importorskip("torch")

from conftest import smooth_image  # noqa: E402
from contract import check_deblurrer  # noqa: E402

from pydeblur import psf, sample_image  # noqa: E402
from pydeblur.io import imwrite  # noqa: E402
from pydeblur.metrics import psnr  # noqa: E402
from pydeblur.nets.denoiser import denoise, train_denoiser  # noqa: E402
from pydeblur.restoration import PlugAndPlayDeblurrer, plug_and_play  # noqa: E402
from pydeblur.restoration._base import solver_signature_matches  # noqa: E402
from pydeblur.synth import degrade  # noqa: E402

KERNEL = psf.motion(7, 30)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """A tiny denoiser trained for a few steps: real weights, meaningless quality."""
    folder = tmp_path_factory.mktemp("photos")
    imwrite(folder / "a.png", sample_image("astronaut")[:96, 100:196])
    path = tmp_path_factory.mktemp("w") / "dn.safetensors"
    train_denoiser(folder, path, steps=2, batch_size=2, crop=32, width=8)
    return path


def test_keeps_shape_dtype_input_and_colour(weights):
    for shape in [(33, 41), (30, 36, 3)]:
        for dtype in (np.float32, np.float64):
            image = smooth_image(shape, dtype)
            before = image.copy()
            out = plug_and_play(image, KERNEL, denoiser=weights, max_iter=2)
            assert out.shape == shape and out.dtype == dtype and np.isfinite(out).all()
            np.testing.assert_array_equal(image, before)


def test_parameters_change_the_result_and_callback_sees_every_iteration(weights):
    image = smooth_image((32, 36))
    base = plug_and_play(image, KERNEL, denoiser=weights, max_iter=3)
    for change in ({"max_iter": 2}, {"noise_sigma": 0.05}, {"boundary": "periodic"}, {"ensemble": True}):
        assert not np.allclose(plug_and_play(image, KERNEL, denoiser=weights, **{"max_iter": 3, **change}),
                               base), change
    seen = []
    plug_and_play(image, KERNEL, denoiser=weights, max_iter=3,
                  callback=lambda info: seen.append(info["sigma"]))
    assert len(seen) == 3 and seen[0] > seen[1] > seen[2]
    clipped = plug_and_play(image * 3, KERNEL, denoiser=weights, max_iter=2, clip=True)
    assert clipped.min() >= 0 and clipped.max() <= 1


def test_periodic_data_step_without_prior_is_the_wiener_like_solve(weights, monkeypatch):
    """With the denoiser replaced by the identity, one iteration is the closed-form data step."""
    from pydeblur.operators import BlurOperator

    rng = np.random.default_rng(0)
    image = rng.random((24, 28)) * 0.9  # no clipped highlights, which would call for the masked data step
    calls = []

    class Identity:
        def __call__(self, x, sigma):
            calls.append(sigma)
            return x

    import pydeblur.nets.denoiser as module

    monkeypatch.setattr(module, "DenoiserRunner", lambda *a, **k: Identity())
    out = plug_and_play(image, KERNEL, denoiser=weights, max_iter=1, noise_sigma=0.01,
                        boundary="periodic")
    blur = BlurOperator(KERNEL, image.shape)
    from pydeblur.restoration.plug_and_play import LAMBDA

    mu = LAMBDA * 0.01**2 / (49 / 255) ** 2
    expected = blur.solve(blur.data_term(image) + mu * blur.rfft2(image), weight=1.0, identity_weight=mu)
    np.testing.assert_allclose(out, expected, atol=1e-10)
    assert calls == [pytest.approx(49 / 255)]


def test_padded_data_step_fits_the_seen_pixels_only(weights, monkeypatch):
    """With the identity as denoiser and a 'valid'-blurred image, the data step recovers the scene
    inside the frame: the padding is fitted as unseen scene, not as the boundary extension."""
    import importlib

    import pydeblur.nets.denoiser as module

    pnp_module = importlib.import_module("pydeblur.restoration.plug_and_play")  # the name is the function

    class Identity:
        def __call__(self, x, sigma):
            return x

    monkeypatch.setattr(module, "DenoiserRunner", lambda *a, **k: Identity())
    scene = smooth_image((60, 64))
    half = KERNEL.shape[0] // 2
    blurry, sharp, _ = degrade(scene, psf=KERNEL, noise_sigma=0.0, rng=0)
    assert blurry.shape == (60 - 2 * half, 64 - 2 * half)
    outputs = {}
    for steps in (0, 30):
        monkeypatch.setattr(pnp_module, "DATA_STEP_ITERATIONS", steps)
        outputs[steps] = plug_and_play(blurry, KERNEL, denoiser=weights, max_iter=4, noise_sigma=1e-3)
    errors = {k: psnr(v, sharp) for k, v in outputs.items()}
    assert errors[30] > errors[0] + 3, errors


def test_bad_input_is_refused(weights, tmp_path):
    image = smooth_image((32, 32))
    with pytest.raises(ValueError, match="noise_sigma"):
        plug_and_play(image, KERNEL, denoiser=weights, noise_sigma=-0.1)
    with pytest.raises(ValueError, match="noise_sigma"):
        plug_and_play(image, KERNEL, denoiser=weights, noise_sigma="high")
    with pytest.raises(FileNotFoundError, match="Nothing is downloaded"):
        plug_and_play(image, KERNEL, denoiser="no-such-denoiser")
    with pytest.raises(ValueError, match="not a denoiser"):
        plug_and_play(image, KERNEL, denoiser="srn-small")
    with pytest.raises(ValueError, match="larger than the image"):
        plug_and_play(image[:5, :5], KERNEL, denoiser=weights)
    with pytest.raises(ValueError, match="channels"):
        plug_and_play(np.zeros((16, 16, 4)), KERNEL, denoiser=weights)


def test_a_warm_start_is_checked_and_used(weights):
    from pydeblur.restoration.plug_and_play import START_SIGMA, warm_started

    image = smooth_image((32, 36))
    first = smooth_image((32, 36), seed=5)
    before = first.copy()
    cold = warm_started(image, KERNEL, init=None, start_sigma=START_SIGMA, denoiser=weights, max_iter=2)
    np.testing.assert_array_equal(cold, plug_and_play(image, KERNEL, denoiser=weights, max_iter=2))
    warm = warm_started(image, KERNEL, init=first, start_sigma=START_SIGMA, denoiser=weights, max_iter=2)
    assert not np.allclose(warm, cold)
    np.testing.assert_array_equal(first, before)  # the first estimate is not overwritten
    seen = []
    warm_started(image, KERNEL, init=first, start_sigma=0.05, denoiser=weights, max_iter=2,
                 callback=lambda info: seen.append(info["sigma"]))
    assert seen[0] == pytest.approx(0.05)
    with pytest.raises(ValueError, match="init has shape"):
        warm_started(image, KERNEL, init=first[:30], start_sigma=0.05, denoiser=weights)
    for bad in (0.0, 0.5):
        with pytest.raises(ValueError, match="start_sigma"):
            warm_started(image, KERNEL, init=None, start_sigma=bad, denoiser=weights)


def test_the_blind_learned_step_warm_starts_plug_and_play_on_large_photos(monkeypatch):
    import importlib

    from pydeblur.blind import _deblur
    from pydeblur.blind._deblur import final_restoration

    module = importlib.import_module("pydeblur.restoration.plug_and_play")
    calls = []

    def recording(image, psf, *, init, start_sigma, **kwargs):
        calls.append((None if init is None else init.copy(), start_sigma, kwargs.get("max_iter", 8)))
        return np.zeros_like(image)

    monkeypatch.setattr(module, "warm_started", recording)
    image = smooth_image((40, 40))
    classical = final_restoration(image, KERNEL, final_step="hyper_laplacian")
    fused = final_restoration(image, KERNEL, final_step="fusion")
    assert calls[-1] == (None, module.START_SIGMA, 8)  # small photos: the full cold schedule
    np.testing.assert_allclose(fused, classical / 2)
    np.testing.assert_array_equal(final_restoration(image, KERNEL, final_step="plug_and_play"), 0)
    assert calls[-1] == (None, module.START_SIGMA, 8)
    monkeypatch.setattr(_deblur, "WARM_START_PIXELS", 1000)
    for step in ("fusion", "plug_and_play"):
        final_restoration(image, KERNEL, final_step=step)
        init, start, iterations = calls[-1]
        np.testing.assert_allclose(init, classical)  # warm from the hyper-Laplacian restoration
        assert (start, iterations) == (_deblur.WARM_START["start_sigma"], _deblur.WARM_START["max_iter"])


def test_deblurrer_contract(weights):
    assert solver_signature_matches(PlugAndPlayDeblurrer)
    pair = degrade(smooth_image((32, 32), seed=3), psf=KERNEL, noise_sigma=0.01, rng=0)
    check_deblurrer(lambda: PlugAndPlayDeblurrer(psf=KERNEL, denoiser=str(weights), max_iter=2,
                                                 tune_range=(0.005, 0.02)), pair.blurry, pair.sharp)


@pytest.mark.parametrize("name", ["denoiser", "denoiser-unet"])
def test_the_shipped_denoisers_denoise_and_deblur(name):
    from pydeblur.nets.weights import read_record, resolve_weights_path
    from pydeblur.restoration import hyper_laplacian

    record = read_record(resolve_weights_path(name))
    assert record["steps"] == record["history"][-1]["step"]  # a finished run, not random weights
    clean = sample_image("camera")[100:228, 200:328]
    noisy = clean + 0.1 * np.random.default_rng(0).standard_normal(clean.shape).astype(np.float32)
    assert psnr(denoise(noisy, 0.1, denoiser=name), clean) > psnr(noisy, clean) + 4  # measured: +5.1 dB
    sharp = sample_image("camera")[100:228, 200:328]
    pair = degrade(sharp, psf=psf.motion(11, 30), noise_sigma=0.01, rng=0)
    out = plug_and_play(pair.blurry, psf.motion(11, 30), clip=True, denoiser=name)
    assert psnr(out, pair.sharp) > psnr(pair.blurry, pair.sharp) + 3
    classical = hyper_laplacian(pair.blurry, psf.motion(11, 30), clip=True)
    assert psnr(out, pair.sharp) > psnr(classical, pair.sharp)


def test_clipped_highlights_are_left_out_of_the_data_steps(monkeypatch):
    import importlib

    from pydeblur.operators import convolve

    operators = importlib.import_module("pydeblur.operators")
    latent = sample_image("camera", dtype=np.float64)[60:156, 180:276] * 1.6
    rng = np.random.default_rng(0)
    noise = 0.005 * rng.standard_normal(latent.shape)
    blurry = np.clip(convolve(latent, KERNEL, boundary="reflect") + noise, 0, 1)
    truth = np.clip(latent, 0, 1)
    masked = plug_and_play(blurry, KERNEL, clip=True)  # the shipped denoiser: a real prior
    monkeypatch.setattr(operators, "SATURATION_LEVEL", 2.0)  # nothing counts as clipped
    fitted_everywhere = plug_and_play(blurry, KERNEL, clip=True)
    assert psnr(masked, truth) > psnr(fitted_everywhere, truth) + 1
