"""The blind kernel estimator under development (issue 4): what it already guarantees."""

import numpy as np
import pytest

from pydeblur import psf, sample_image
from pydeblur.blind._estimate import estimate_psf
from pydeblur.metrics import kernel_similarity
from pydeblur.synth import degrade


@pytest.fixture(scope="module")
def blurred():
    x = sample_image("camera", dtype=np.float64)[100:292, 150:342]
    k = psf.motion(11, 30)
    blurry, _, _ = degrade(x, psf=k, noise_sigma=0.005, rng=0)
    return blurry, k


def test_estimate_is_a_valid_kernel_closer_to_the_truth_than_a_delta(blurred):
    blurry, truth = blurred
    levels = []
    kernel = estimate_psf(blurry, 15, callback=levels.append)
    assert kernel.shape == (15, 15) and (kernel >= 0).all() and kernel.sum() == pytest.approx(1)
    delta = np.zeros((15, 15))
    delta[7, 7] = 1
    assert kernel_similarity(kernel, truth) > kernel_similarity(delta, truth) + 0.2
    assert levels[-1]["level"] == levels[-1]["levels"] and levels[-1]["psf"].shape == (15, 15)


def test_bad_arguments(blurred):
    blurry, _ = blurred
    with pytest.raises(ValueError, match="odd"):
        estimate_psf(blurry, 14)
    with pytest.raises(ValueError, match="quarter"):
        estimate_psf(blurry, 61)
    with pytest.raises(ValueError, match="prior"):
        estimate_psf(blurry, 15, prior="sparse")
    with pytest.raises(TypeError, match="img_as_float"):
        estimate_psf((blurry * 255).astype(np.uint8), 15)
