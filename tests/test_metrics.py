import numpy as np
import pytest
from conftest import smooth_image

from pydeblur import psf
from pydeblur.metrics import best_shift, kernel_similarity, psnr, psnr_upto_shift, ssim, ssim_upto_shift


def test_psnr_known_value_and_data_range():
    ref = np.zeros((10, 10))
    img = ref + 0.1
    assert psnr(img, ref) == pytest.approx(20.0)
    assert psnr(img, ref, data_range=255) == pytest.approx(20 + 20 * np.log10(255))
    assert psnr(ref, ref) == np.inf
    with pytest.raises(ValueError, match="shape"):
        psnr(np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="data_range"):
        psnr(img, ref, data_range=0)


def test_ssim_identity_and_degradation():
    ref = smooth_image((40, 40, 3))
    assert ssim(ref, ref) == pytest.approx(1.0)
    noisy = ref + 0.1 * np.random.default_rng(0).standard_normal(ref.shape)
    assert ssim(noisy, ref) < 0.9
    with pytest.raises(ValueError, match="7x7"):
        ssim(np.zeros((5, 5)), np.zeros((5, 5)))


def test_psnr_upto_shift_undoes_a_translation():
    ref = smooth_image((80, 90))
    moved = np.roll(ref, (3, -2), axis=(0, 1))
    assert best_shift(moved, ref) == (3, -2)
    assert psnr_upto_shift(moved, ref) == np.inf
    assert psnr(moved, ref) < 30
    with pytest.raises(ValueError, match="max_shift"):
        psnr_upto_shift(moved, ref, max_shift=20, border=10)


def test_kernel_similarity():
    k = psf.trajectory(21, rng=0)
    shifted = np.roll(psf.pad_to(k, (25, 25)), 2, axis=1)
    assert kernel_similarity(shifted, k) == pytest.approx(1.0)
    assert kernel_similarity(psf.motion(15, 0), psf.motion(15, 90)) < 0.5
    with pytest.raises(ValueError, match="non-zero"):
        kernel_similarity(np.zeros((3, 3)), k)


def test_ssim_upto_shift_undoes_a_translation():
    rng = np.random.default_rng(0)
    ref = rng.random((64, 64))
    moved = np.roll(ref, (3, -2), axis=(0, 1))
    assert ssim(moved, ref) < 0.2
    assert ssim_upto_shift(moved, ref) == pytest.approx(1.0)


def test_a_fractional_step_finds_a_sub_pixel_translation():
    base = np.random.default_rng(0).random((80, 90))
    ref = 0.75 * base + 0.25 * np.roll(base, -1, axis=1)  # base a quarter pixel to the right
    moved = np.roll(base, (3, -2), axis=(0, 1))
    assert psnr_upto_shift(moved, ref, step=0.25) == np.inf  # found at (3, -1.75), as bilinear as ref
    assert psnr_upto_shift(moved, ref) < 25
    assert ssim_upto_shift(moved, ref, step=0.25) > ssim_upto_shift(moved, ref)
    assert psnr_upto_shift(ref, ref, step=0.25) == np.inf  # no shift needed: none is made
    for bad in (0, 1.5, -0.25):
        with pytest.raises(ValueError, match="step"):
            psnr_upto_shift(moved, ref, step=bad)
    with pytest.raises(ValueError, match="border"):
        psnr_upto_shift(moved, ref, max_shift=10, border=10, step=0.25)
