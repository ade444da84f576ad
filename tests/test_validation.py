import numpy as np
import pytest

from pydeblur import img_as_float
from pydeblur._validation import check_image, check_number, check_psf


def test_integer_image_is_refused_with_the_fix():
    with pytest.raises(TypeError, match="img_as_float"):
        check_image(np.zeros((4, 4), np.uint8))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_pixels_are_refused(bad):
    image = np.zeros((5, 5))
    image[2, 3] = bad
    with pytest.raises(ValueError, match="NaN or inf"):
        check_image(image)


@pytest.mark.parametrize("shape", [(4,), (2, 3, 4, 5), ()])
def test_wrong_dimensions_are_refused(shape):
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, C\)"):
        check_image(np.zeros(shape))


def test_empty_and_channels_first_are_refused():
    with pytest.raises(ValueError, match="empty"):
        check_image(np.zeros((0, 5)))
    with pytest.raises(ValueError, match="channels last"):
        check_image(np.zeros((3, 64, 64)))


def test_float_policy():
    assert check_image(np.zeros((3, 3), np.float16)).dtype == np.float32
    x32 = np.zeros((3, 3), np.float32)
    assert check_image(x32) is x32
    with pytest.raises(TypeError):
        check_image(np.zeros((3, 3), complex))
    with pytest.raises(TypeError, match="imread"):
        check_image("photo.png")


def test_img_as_float():
    np.testing.assert_allclose(img_as_float(np.array([0, 65535], np.uint16)), [0, 1])
    assert img_as_float(np.array([True])).dtype == np.float32
    np.testing.assert_allclose(img_as_float(np.array([-128, 127], np.int8), dtype=np.float64), [-1, 1])
    src = np.array([0.5], np.float32)
    out = img_as_float(src)
    assert out is not src and out[0] == 0.5


@pytest.mark.parametrize(
    "psf, match",
    [
        (np.array([[0.5, -0.1], [0.3, 0.3]]), "negative"),
        (np.zeros((3, 3)), "sums to zero"),
        (np.full((3, 3), np.nan), "NaN"),
        (np.ones((3, 3)), "normalize"),
        (np.ones(3) / 3, r"\(h, w\)"),
    ],
)
def test_bad_psfs_are_refused(psf, match):
    with pytest.raises(ValueError, match=match):
        check_psf(psf)


def test_psf_larger_than_image_and_channel_mismatch():
    with pytest.raises(ValueError, match="larger than the image"):
        check_psf(np.ones((9, 9)) / 81, image_shape=(8, 20))
    with pytest.raises(ValueError, match="per-channel"):
        check_psf(np.ones((3, 3, 2)) / 9, image_shape=(8, 8, 3), per_channel=True)


def test_check_number():
    assert check_number(3, name="n", low=1, integer=True) == 3
    with pytest.raises(TypeError):
        check_number(True, name="n")
    with pytest.raises(ValueError, match=r"\(0, inf\]"):
        check_number(0.0, name="sigma", low=0, low_inclusive=False)
