import numpy as np
import pytest
from conftest import SHAPES, smooth_image, tolerance
from scipy import ndimage

from pydeblur import psf
from pydeblur.operators import (
    BlurOperator,
    convolve,
    convolve_adjoint,
    convolve_spatially_varying,
    gradient_energy,
    pad_boundary,
    padding_plan,
)

KERNELS = {
    "motion7": psf.motion(7, 30),
    "even4x6": psf.normalize(np.random.default_rng(0).random((4, 6))),
    "gauss19": psf.gaussian(3.0),
}
NDIMAGE_MODE = {"reflect": "reflect", "periodic": "wrap", "zero": "constant"}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("boundary", ["reflect", "periodic", "zero"])
@pytest.mark.parametrize("method", ["fft", "direct"])
def test_convolve_matches_ndimage(shape, kernel, boundary, method):
    x = smooth_image(shape)
    k = KERNELS[kernel]
    ref = ndimage.convolve(x, k if x.ndim == 2 else k[:, :, None], mode=NDIMAGE_MODE[boundary])
    np.testing.assert_allclose(convolve(x, k, boundary=boundary, method=method), ref, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("boundary", ["reflect", "periodic", "zero", "valid"])
@pytest.mark.parametrize("method", ["fft", "direct"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dot_test(shape, kernel, boundary, method, dtype, rng):
    """<A x, y> == <x, A^T y> for every boundary, method, dtype and shape."""
    k = KERNELS[kernel]
    x = rng.random(shape).astype(dtype)
    ax = convolve(x, k, boundary=boundary, method=method)
    y = rng.random(ax.shape).astype(dtype)
    aty = convolve_adjoint(y, k, boundary=boundary, method=method)
    assert ax.dtype == dtype and aty.dtype == dtype and aty.shape == x.shape
    lhs, rhs = np.vdot(ax.astype(np.float64), y), np.vdot(x.astype(np.float64), aty)
    assert lhs == pytest.approx(rhs, rel=10 * tolerance(dtype))


@pytest.mark.parametrize("boundary", ["reflect", "periodic", "zero"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_delta_psf_returns_the_input(boundary, dtype):
    x = smooth_image((21, 30, 3), dtype)
    delta = np.zeros((5, 5))
    delta[2, 2] = 1
    for method in ("fft", "direct"):
        out = convolve(x, delta, boundary=boundary, method=method)
        np.testing.assert_allclose(out, x, atol=tolerance(dtype))


def test_valid_shape_and_alignment():
    x = smooth_image((30, 40))
    k = psf.motion(9, 0)
    y = convolve(x, k, boundary="valid")
    assert y.shape == (30 - 9 + 1, 40 - 9 + 1)
    same = convolve(x, k, boundary="reflect")
    np.testing.assert_allclose(y, same[4:-4, 4:-4], atol=1e-12)


def test_colour_equals_per_channel_grey_and_per_channel_psfs():
    x = smooth_image((25, 33, 3))
    ks = np.stack([psf.motion(5, 0), psf.motion(5, 90), psf.gaussian(1.0, size=5)], axis=2)
    out = convolve(x, ks)
    for c in range(3):
        np.testing.assert_allclose(out[:, :, c], convolve(x[:, :, c], ks[:, :, c]), atol=1e-12)
    shared = convolve(x, ks[:, :, 0])
    np.testing.assert_allclose(shared[:, :, 2], convolve(x[:, :, 2], ks[:, :, 0]), atol=1e-12)


def test_inputs_are_not_mutated():
    x = smooth_image((20, 20, 3), np.float32)
    k = psf.gaussian(1.0)
    x0, k0 = x.copy(), k.copy()
    for boundary in ("reflect", "periodic", "valid"):
        convolve(x, k, boundary=boundary)
        convolve_adjoint(x[:10, :10] if boundary == "valid" else x, k, boundary=boundary)
        pad_boundary(x, k.shape, boundary="smooth")
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(k, k0)


def test_bad_input_is_refused():
    x = smooth_image((16, 16))
    with pytest.raises(ValueError, match="boundary"):
        convolve(x, psf.gaussian(1.0), boundary="mirror")
    with pytest.raises(ValueError, match="larger than the image"):
        convolve(x, psf.motion(21, 0))
    with pytest.raises(TypeError, match="img_as_float"):
        convolve((x * 255).astype(np.uint8), psf.gaussian(1.0))
    with pytest.raises(ValueError, match="method"):
        convolve(x, psf.gaussian(1.0), method="fast")
    with pytest.raises(ValueError, match="workers"):
        convolve(x, psf.gaussian(1.0), workers=0)


@pytest.mark.parametrize("boundary", ["smooth", "reflect", "periodic"])
@pytest.mark.parametrize("shape", [(37, 50), (40, 29, 3)])
def test_pad_boundary_keeps_the_image_and_is_smooth(boundary, shape):
    x = smooth_image(shape, np.float32)
    padded, crop = pad_boundary(x, (9, 9), boundary=boundary)
    assert padded.dtype == np.float32
    np.testing.assert_array_equal(padded[crop], x)
    if boundary == "smooth":
        assert padded.shape[0] >= shape[0] + 18 and padded.shape[1] >= shape[1] + 18
        # Across the wrap-around the extension is as smooth as the image itself.
        inner = np.abs(np.diff(x, axis=1)).max()
        assert np.abs(padded[:, -1] - padded[:, 0]).max() <= inner
        assert np.abs(padded[-1] - padded[0]).max() <= np.abs(np.diff(x, axis=0)).max()
        assert padded.min() >= x.min() - 1e-5 and padded.max() <= x.max() + 1e-5  # harmonic


def test_smooth_extension_removes_wraparound_ringing():
    """A step image deconvolved by periodic Wiener rings at the edges unless extended smoothly."""
    x = np.tile(np.linspace(0, 1, 64), (64, 1))  # left edge 0, right edge 1: a wrap-around jump
    k = psf.gaussian(2.0)
    y = convolve(x, k, boundary="reflect")
    errors = {}
    for boundary in ("periodic", "smooth"):
        padded, crop = pad_boundary(y, k.shape, boundary=boundary)
        otf = psf.psf_to_otf(k, padded.shape)
        spectrum = np.fft.rfft2(padded) * np.conj(otf) / (np.abs(otf) ** 2 + 1e-3)
        restored = np.fft.irfft2(spectrum, s=padded.shape)[crop]
        errors[boundary] = np.abs(restored - x).mean()
    assert errors["smooth"] < errors["periodic"] / 3


def test_spatially_varying_with_one_psf_equals_convolve():
    x = smooth_image((40, 50, 3))
    k = psf.motion(7, 20)
    grid = np.broadcast_to(k, (3, 4, *k.shape))
    for boundary in ("reflect", "valid", "periodic"):
        np.testing.assert_allclose(convolve_spatially_varying(x, grid, boundary=boundary),
                                   convolve(x, k, boundary=boundary), atol=1e-12)


def test_spatially_varying_blends_between_nodes():
    x = np.zeros((41, 81))
    x[20, 4] = x[20, 76] = 1  # one point near each end
    grid = np.stack([psf.motion(9, 0), psf.motion(9, 90)])[None]  # left: horizontal, right: vertical
    y = convolve_spatially_varying(x, grid, boundary="zero")
    left, right = y[10:31, :20], y[10:31, 61:]
    assert left[10].sum() > 0.9 * left.sum()  # the left point became a horizontal streak
    assert right[:, 15].sum() > 0.9 * right.sum()  # the right one a vertical streak
    assert y.sum() == pytest.approx(x.sum())  # every window's PSF keeps the flux
    with pytest.raises(ValueError, match="gy, gx"):
        convolve_spatially_varying(x, psf.motion(9, 0))


GRIDS = [(32, 32), (33, 47), (40, 31)]


@pytest.mark.parametrize("shape", GRIDS)
@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blur_operator_dot_test_and_agrees_with_convolve(shape, kernel, dtype, rng):
    blur = BlurOperator(KERNELS[kernel], shape, dtype=dtype, workers=1)
    assert blur.adjointness_error(rng=0) < 50 * tolerance(dtype)
    x = rng.random(shape).astype(dtype)
    ax = blur.apply(x)
    assert ax.dtype == dtype and ax.shape == shape
    np.testing.assert_allclose(ax, convolve(x, KERNELS[kernel], boundary="periodic", method="fft"),
                               atol=20 * tolerance(dtype))
    np.testing.assert_allclose(blur.adjoint(x), convolve_adjoint(x, KERNELS[kernel], boundary="periodic",
                                                                 method="fft"), atol=20 * tolerance(dtype))
    np.testing.assert_allclose(blur.irfft2(blur.data_term(x, 3.0)), 3 * blur.adjoint(x),
                               atol=50 * tolerance(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blur_operator_solve_is_the_normal_equations(dtype, rng):
    shape = (30, 36)
    blur = BlurOperator(psf.motion(7, 30), shape, dtype=dtype, workers=1)
    y = rng.random(shape).astype(dtype)
    lam, beta, mu = 50.0, 2.0, 0.5
    grad = gradient_energy(shape, dtype)
    x = blur.solve(blur.data_term(y, lam), weight=lam, prior_spectrum=grad, prior_weight=beta,
                   identity_weight=mu)
    assert x.dtype == dtype

    def gradients(z):
        return np.roll(z, -1, 1) - z, np.roll(z, -1, 0) - z

    gx, gy = gradients(x)
    regulariser = (np.roll(gx, 1, 1) - gx) + (np.roll(gy, 1, 0) - gy)  # D^T D x
    residual = lam * blur.adjoint(blur.apply(x) - y) + beta * regulariser + mu * x
    assert np.abs(residual).max() < 1e3 * tolerance(dtype) * lam
    again = blur.solve(blur.data_term(y, lam), weight=lam, prior_spectrum=grad, prior_weight=beta,
                       identity_weight=mu)
    np.testing.assert_array_equal(again, x)  # the cached system is the same system
    other = blur.solve(blur.data_term(y, lam), weight=lam, prior_spectrum=grad, prior_weight=2 * beta,
                       identity_weight=mu)
    assert not np.allclose(other, x)  # a new weight is a new system, not the cached one


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("prior", ["identity", "gradients"])
def test_solve_seen_fits_the_seen_pixels_only(dtype, prior, rng):
    """The conjugate gradients reach the dense solution of lam ||M (A x - y)||^2 + (the prior's) x."""
    shape, kernel, lam = (14, 16), psf.motion(5, 20), 3.0
    blur = BlurOperator(kernel, shape, dtype=dtype, workers=1)
    seen = np.zeros(shape, dtype=dtype)
    seen[2:11, 3:13] = 1
    y, pull = rng.random(shape).astype(dtype), rng.random(shape).astype(dtype)
    grad = gradient_energy(shape, dtype)
    system = ({"identity_weight": 0.05} if prior == "identity" else
              {"prior_spectrum": grad, "prior_weight": 0.5, "identity_weight": 1e-3})
    columns = np.eye(shape[0] * shape[1]).reshape(-1, *shape)
    exact64 = BlurOperator(kernel, shape, workers=1)
    blur_matrix = np.stack([exact64.apply(c).ravel() for c in columns], axis=1)
    masked = seen.ravel()[:, None].astype(float) * blur_matrix
    prior_matrix = np.stack([exact64.irfft2(exact64.rfft2(c) * (system.get("prior_weight", 0.0) * grad
                                                                + system["identity_weight"])).ravel()
                             for c in columns], axis=1)
    rhs = blur.seen_data_term(y, seen, lam) + pull
    exact = np.linalg.solve(lam * masked.T @ masked + prior_matrix, rhs.astype(float).ravel()).reshape(shape)
    start = np.zeros(shape, dtype=dtype)
    x = blur.solve_seen(rhs, seen, start, 80, weight=lam, **system)
    assert x.dtype == dtype and not start.any()
    np.testing.assert_allclose(x, exact, atol=2e4 * tolerance(dtype))
    few = blur.solve_seen(rhs, seen, start, 2, weight=lam, **system)
    assert np.abs(few - exact).max() > 10 * np.abs(x - exact).max()  # the steps are what converge
    full = np.ones(shape, dtype=dtype)  # nothing masked: the closed-form solve, in one step
    closed = blur.solve(blur.data_term(y, lam) + blur.rfft2(pull), weight=lam, **system)
    unmasked = blur.solve_seen(blur.seen_data_term(y, full, lam) + pull, full, start, 1, weight=lam, **system)
    np.testing.assert_allclose(unmasked, closed, atol=1e3 * tolerance(dtype))


def test_blur_operator_from_an_otf_is_the_same_operator(rng):
    blur = BlurOperator(psf.gaussian(1.5), (24, 28), workers=1)
    same = BlurOperator.from_otf(blur.otf, (24, 28), workers=1)
    x = rng.random((24, 28))
    np.testing.assert_array_equal(same.apply(x), blur.apply(x))
    assert same.adjointness_error(rng=1) < 1e-12


@pytest.mark.parametrize("boundary", ["smooth", "reflect"])
@pytest.mark.parametrize("kernel_shape", [(9, 7), (4, 6)])
def test_narrow_padding_is_the_least_in_which_no_image_pixel_sees_another_through_the_wrap(
        boundary, kernel_shape):
    h, w = 40, 50
    full_h, full_w, top, left = padding_plan((h, w), kernel_shape, boundary, narrow=True)
    usual = padding_plan((h, w), kernel_shape, boundary)
    assert full_h * full_w < usual[0] * usual[1]
    for size, full, start, k in ((h, full_h, top, kernel_shape[0]), (w, full_w, left, kernel_shape[1])):
        # a kernel of side k reaches k // 2 one way and (k - 1) // 2 the other (either way round)
        for before, after in ((k // 2, (k - 1) // 2), ((k - 1) // 2, k // 2)):
            read = np.arange(start - before, start + size + after) % full  # the grid lines the image sees
            assert len(np.unique(read)) == size + before + after  # none seen from both sides of the image
        assert full >= size + k - 1


def test_clipped_highlights_are_the_plateaus_at_the_ceiling_of_a_unit_range_image():
    from pydeblur.operators import clipped_highlights, seen_mask

    image = np.full((8, 9, 3), 0.5)
    image[1:4, 2:6, 0] = 1.0  # a saturated plateau (3x4) in one channel
    image[2, 4, 0] = 0.997  # 254/255 counts as clipped
    image[6, 7, :] = 1.0  # a lone pixel at the ceiling: noise on a scene at the ceiling, kept as data
    clipped = clipped_highlights(image)
    assert clipped.shape == (8, 9) and clipped.sum() == 12 and clipped[1:4, 2:6].all() and not clipped[6, 7]
    seen = seen_mask((10, 11), (slice(1, 9), slice(1, 10)), clipped)  # the image sits at (1, 1) of the grid
    assert seen.sum() == 8 * 9 - 12 and not seen[2, 3] and seen[7, 8] and not seen[0].any()
    image[0, 0, 1] = 1.5  # values above 1: not an image clipped at 1 (linear HDR, a transformed channel)
    assert not clipped_highlights(image).any()
