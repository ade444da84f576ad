import numpy as np
import pytest

from pydeblur import psf
from pydeblur.metrics import kernel_similarity

GENERATORS = {
    "gaussian": lambda **kw: psf.gaussian(2.0, **kw),
    "gaussian_aniso": lambda **kw: psf.gaussian((3.0, 1.0), angle=30, **kw),
    "defocus": lambda **kw: psf.defocus(4.3, **kw),
    "motion": lambda **kw: psf.motion(15, 37, **kw),
    "trajectory": lambda **kw: psf.trajectory(rng=3, length=25, **kw),
}


@pytest.mark.parametrize("name", GENERATORS)
def test_every_psf_is_a_valid_centred_kernel(name):
    k = GENERATORS[name]()
    assert k.dtype == np.float64 and k.ndim == 2
    assert k.shape[0] % 2 == 1 and k.shape[0] == k.shape[1]
    assert (k >= 0).all()
    assert k.sum() == pytest.approx(1.0, abs=1e-12)
    cy, cx = psf.centroid(k)
    c = k.shape[0] // 2
    assert abs(cy - c) < 0.5 and abs(cx - c) < 0.5


@pytest.mark.parametrize("name", GENERATORS)
def test_requested_size_is_honoured(name):
    assert GENERATORS[name](size=41).shape == (41, 41)


def test_symmetric_families_are_exactly_centred():
    for k in (psf.gaussian(1.3), psf.defocus(3.2), psf.motion(12.5, 63)):
        c = k.shape[0] // 2
        assert psf.centroid(k) == pytest.approx((c, c), abs=1e-9)


def test_motion_is_a_streak_of_the_requested_length():
    k = psf.motion(21, 0)
    assert k.shape == (21, 21)
    assert np.count_nonzero(k[10]) == 21 and k[10].sum() == pytest.approx(1)
    np.testing.assert_allclose(psf.motion(21, 90), k.T, atol=1e-15)
    # angle is counter-clockwise with y up: 45 degrees goes up-right.
    k45 = psf.motion(9, 45)
    assert k45[0, -1] > 0 and k45[0, 0] == 0
    assert psf.motion(1, 20).max() == 1.0  # length <= 1 is a delta


def test_gaussian_parameters_change_the_kernel():
    base = psf.gaussian((3.0, 1.0), size=21)
    assert not np.allclose(base, psf.gaussian((3.0, 1.0), size=21, angle=45))
    assert not np.allclose(base, psf.gaussian((3.0, 1.5), size=21))
    np.testing.assert_allclose(psf.gaussian((2.0, 2.0), angle=33, size=15), psf.gaussian(2.0, size=15),
                               atol=1e-12)
    # variance of a wide Gaussian matches sigma^2 (+1/12 from pixel integration)
    k = psf.gaussian(4.0, size=61)
    x = np.arange(k.shape[0]) - k.shape[0] // 2
    assert (k.sum(0) * x**2).sum() == pytest.approx(16 + 1 / 12, rel=1e-3)


def test_defocus_area_and_antialiasing():
    k = psf.defocus(5.0)
    assert np.count_nonzero(k) > 0.95 * np.pi * 25
    partial = k[(k > 0) & (k < k.max())]
    assert partial.size > 0  # soft edge pixels exist: anti-aliased
    assert psf.defocus(0).max() == 1.0


def test_too_small_size_and_bad_parameters_raise():
    with pytest.raises(ValueError, match="too small"):
        psf.motion(21, 0, size=9)
    with pytest.raises(ValueError, match="radius"):
        psf.defocus(-1)
    with pytest.raises(ValueError, match="sigma"):
        psf.gaussian((1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match="exposure"):
        psf.trajectory(exposure=0)


def test_trajectory_is_reproducible_from_rng():
    a = psf.trajectory(31, rng=7)
    np.testing.assert_array_equal(a, psf.trajectory(31, rng=7))
    assert not np.array_equal(a, psf.trajectory(31, rng=8))
    gen = np.random.default_rng(5)
    first = psf.trajectory(31, rng=gen)
    assert not np.array_equal(first, psf.trajectory(31, rng=gen))


@pytest.mark.parametrize(
    "param, value",
    [("length", 12.0), ("n_steps", 500), ("anxiety", 0.02), ("centripetal", 0.0),
     ("jitter", 0.5), ("shake_probability", 1.0), ("exposure", 0.5), ("angle", 80.0)],
)
def test_every_trajectory_parameter_changes_the_kernel(param, value):
    base = dict(length=30.0, angle=10.0, rng=11, anxiety=0.005)
    ref = psf.trajectory(41, **base)
    changed = psf.trajectory(41, **{**base, param: value})
    assert not np.allclose(ref, changed)


def test_trajectory_never_empty_or_off_centre_even_when_shrunk():
    for seed in range(30):
        k = psf.trajectory(9, length=60, anxiety=0.02, rng=seed)
        assert k.shape == (9, 9) and k.sum() == pytest.approx(1)
        assert psf.centroid(k) == pytest.approx((4, 4), abs=1e-9)


def test_trajectory_auto_size_holds_the_whole_path():
    k = psf.trajectory(length=40, rng=2)
    big = psf.trajectory(101, length=40, rng=2)
    # the automatic kernel is the big one cropped with nothing lost
    assert np.isclose(psf.pad_to(k, big.shape), big, atol=1e-12).all()


def test_normalize_center_pad_crop():
    with pytest.raises(ValueError, match="negative"):
        psf.normalize([[1, -1]])
    with pytest.raises(ValueError, match="zero"):
        psf.normalize(np.zeros((2, 2)))
    off = np.zeros((7, 7))
    off[1, 2] = 1
    centred = psf.center(off)
    assert centred[3, 3] == 1
    k = psf.motion(7, 0)
    padded = psf.pad_to(k, (11, 13))
    assert padded.shape == (11, 13) and psf.centroid(padded) == pytest.approx((5, 6))
    np.testing.assert_allclose(psf.crop(padded, k.shape), k)
    with pytest.raises(ValueError, match="pad_to"):
        psf.crop(k, (9, 9))
    with pytest.raises(ValueError, match="crop"):
        psf.pad_to(k, (3, 3))
    two_points = np.zeros((7, 7))
    two_points[3, 3:5] = 0.5  # centroid half a pixel right of the centre
    assert psf.centroid(psf.center(two_points)) != (3.0, 3.0)
    assert psf.centroid(psf.center(two_points, subpixel=True)) == pytest.approx((3.0, 3.0))


def test_rescale_keeps_a_centred_normalised_kernel():
    k = psf.motion(21, 30)
    half = psf.rescale(k, 0.5)
    assert half.shape[0] % 2 == 1 and half.shape[0] <= k.shape[0] // 2 + 2
    assert half.sum() == pytest.approx(1)
    assert kernel_similarity(psf.rescale(psf.motion(21, 0), 0.5), psf.motion(11, 0)) > 0.97
    assert kernel_similarity(psf.rescale(psf.gaussian(4.0), 0.5), psf.gaussian(2.0)) > 0.99
    assert psf.rescale(psf.defocus(0), 0.1).shape == (1, 1)


def test_psf_to_otf_round_trip_and_convention():
    k = psf.trajectory(15, rng=1)
    otf = psf.psf_to_otf(k, (32, 40))
    assert otf.shape == (32, 21)
    assert otf[0, 0] == pytest.approx(1.0)
    np.testing.assert_allclose(psf.otf_to_psf(otf, (32, 40), k.shape), k, atol=1e-14)
    # a delta at the centre has a flat OTF (the centre goes to the origin)
    delta = np.zeros((5, 5))
    delta[2, 2] = 1
    np.testing.assert_allclose(psf.psf_to_otf(delta, (8, 8)), 1)
    assert psf.psf_to_otf(k, (32, 40), dtype=np.float32).dtype == np.complex64


def test_to_image():
    img = psf.to_image(psf.motion(5, 0), scale=3)
    assert img.shape == (15, 15) and img.dtype == np.float32 and img.max() == 1.0
