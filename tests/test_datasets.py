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
