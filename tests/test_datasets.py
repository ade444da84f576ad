import numpy as np
import pytest
import scipy.io
from conftest import smooth_image

from pydeblur import psf
from pydeblur.datasets import SAMPLE_IMAGES, find_pairs, load_levin, sample_image
from pydeblur.io import imwrite


def test_sample_images():
    for name in SAMPLE_IMAGES:
        image = sample_image(name)
        assert image.dtype == np.float32 and 0 <= image.min() and image.max() <= 1
    with pytest.raises(ValueError, match="astronaut"):
        sample_image("lena")


def test_find_pairs(tmp_path):
    imwrite(tmp_path / "seq" / "blur" / "a.png", smooth_image((8, 8)))
    imwrite(tmp_path / "seq" / "sharp" / "a.png", smooth_image((8, 8)))
    assert find_pairs(tmp_path) == [(tmp_path / "seq/blur/a.png", tmp_path / "seq/sharp/a.png")]
    imwrite(tmp_path / "seq" / "blur" / "b.png", smooth_image((8, 8)))
    with pytest.raises(ValueError, match="no sharp partner"):
        find_pairs(tmp_path)


def test_load_levin_mat_and_folder_layouts(tmp_path):
    x = smooth_image((30, 30))
    k = psf.motion(5, 0)
    scipy.io.savemat(tmp_path / "im1_ker1.mat", {"x": (x * 255).astype(np.uint8), "y": x * 0.9, "f": k * 3})
    cases = load_levin(tmp_path)
    assert [c["name"] for c in cases] == ["im1_ker1"]
    assert cases[0]["psf"].sum() == pytest.approx(1) and cases[0]["sharp"].max() <= 1
    np.testing.assert_allclose(cases[0]["psf"], k[::-1, ::-1])  # the .mat f is a correlation kernel
    scipy.io.savemat(tmp_path / "bad.mat", {"x": x})
    with pytest.raises(ValueError, match="lacks"):
        load_levin(tmp_path)

    root = tmp_path / "folders"
    imwrite(root / "sharp" / "a.png", x)
    imwrite(root / "blurry" / "a.png", x)
    (root / "kernel").mkdir()
    np.save(root / "kernel" / "a.npy", k)
    case = load_levin(root)[0]
    assert case["blurry"].dtype == np.float64 and case["psf"].shape == k.shape
    with pytest.raises(ValueError, match="neither"):
        load_levin(root / "sharp")


def test_load_levin_orients_the_kernel_for_convolution(tmp_path):
    from pydeblur.operators import convolve

    x = smooth_image((40, 40))
    f = np.zeros((7, 7))
    f[1, 1], f[3, 5], f[5, 2] = 0.5, 0.3, 0.2  # asymmetric: a wrong orientation shows
    y = convolve(x, f[::-1, ::-1], boundary="reflect")  # the files' model: correlation with f
    scipy.io.savemat(tmp_path / "im1_ker1.mat", {"x": x, "y": y, "f": f})
    case = load_levin(tmp_path)[0]
    np.testing.assert_allclose(convolve(case["sharp"], case["psf"], boundary="reflect"), case["blurry"],
                               atol=1e-12)


def test_one_psf_reader_for_files(tmp_path):
    from pydeblur.methods import parse_psf

    k = psf.motion(9, 30)
    np.save(tmp_path / "k.npy", k)
    np.testing.assert_allclose(psf.read(tmp_path / "k.npy"), k)
    rgba = np.dstack([psf.to_image(k)] * 3 + [np.ones(k.shape)])  # opaque alpha must not add mass
    imwrite(tmp_path / "k.png", rgba, bit_depth=16)
    assert np.abs(psf.read(tmp_path / "k.png") - k).max() < 1e-3
    np.testing.assert_array_equal(parse_psf(str(tmp_path / "k.png")), psf.read(tmp_path / "k.png"))
    np.save(tmp_path / "c.npy", k.astype(complex))
    with pytest.raises(ValueError, match="complex"):
        psf.read(tmp_path / "c.npy")
    np.save(tmp_path / "neg.npy", k - 0.1)
    with pytest.raises(ValueError, match="non-negative"):
        psf.read(tmp_path / "neg.npy")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"not a plain \.npy"):
        psf.read(tmp_path / "obj.npy")
    with pytest.raises(FileNotFoundError):
        psf.read(tmp_path / "missing.npy")
