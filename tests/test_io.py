import os

import numpy as np
import pytest
from conftest import smooth_image

from pydeblur.io import image_info, imread, imwrite, list_images


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("bit_depth", [8, 16])
@pytest.mark.parametrize("shape", [(20, 31), (20, 31, 3), (20, 31, 4)])
def test_round_trip_keeps_values_to_the_bit_depth(tmp_path, suffix, bit_depth, shape):
    x = smooth_image(shape, np.float32)
    path = imwrite(tmp_path / f"img{suffix}", x, bit_depth=bit_depth)
    y = imread(path)
    assert y.dtype == np.float32 and y.shape == shape
    np.testing.assert_allclose(y, x, atol=0.5 / (2**bit_depth - 1) + 1e-7)
    assert image_info(path)["bit_depth"] == bit_depth


def test_rgb_order_is_kept(tmp_path):
    x = np.zeros((4, 4, 3), np.float32)
    x[..., 0] = 1  # pure red
    y = imread(imwrite(tmp_path / "red.png", x))
    assert y[0, 0].tolist() == [1, 0, 0]


def test_float_tiff_and_jpeg(tmp_path):
    x = smooth_image((16, 16, 3), np.float32) * 2 - 0.5  # outside [0, 1] is fine for float TIFF
    np.testing.assert_array_equal(imread(imwrite(tmp_path / "f.tif", x, bit_depth=32)), x)
    ramp = np.repeat(np.linspace(0, 1, 32, dtype=np.float32)[None, :, None], 32, axis=0)
    ramp = np.repeat(ramp, 3, axis=2)
    jpg = imread(imwrite(tmp_path / "a.jpg", ramp, quality=98))
    assert jpg.shape == ramp.shape and np.abs(jpg - ramp).mean() < 0.01


def test_alpha_is_handled_explicitly(tmp_path):
    x = smooth_image((8, 8, 4), np.float32)
    path = imwrite(tmp_path / "rgba.png", x)
    assert imread(path).shape == (8, 8, 4)
    assert imread(path, alpha="drop").shape == (8, 8, 3)
    with pytest.raises(ValueError, match="alpha"):
        imread(path, alpha="blend")


def test_never_overwrites_without_permission(tmp_path):
    path = imwrite(tmp_path / "a.png", np.zeros((4, 4)))
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite"):
        imwrite(path, np.ones((4, 4)))
    assert path.read_bytes() == before
    imwrite(path, np.ones((4, 4)), overwrite=True)
    assert imread(path).min() == 1


def test_failed_write_leaves_no_file(tmp_path):
    with pytest.raises(ValueError, match="outside"):
        imwrite(tmp_path / "bad.png", np.full((4, 4), 1.5))
    with pytest.raises(ValueError, match="JPEG"):
        imwrite(tmp_path / "bad.jpg", np.zeros((4, 4)), bit_depth=16)
    with pytest.raises(ValueError, match="JPEG files only"):
        imwrite(tmp_path / "q.png", np.zeros((4, 4)), quality=80)
    with pytest.raises(TypeError, match="img_as_float"):
        imwrite(tmp_path / "int.png", np.zeros((4, 4), np.uint8))
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif"])
def test_truncated_and_corrupt_files_raise(tmp_path, suffix):
    path = imwrite(tmp_path / f"x{suffix}", smooth_image((64, 64, 3), np.float32))
    data = path.read_bytes()
    truncated = tmp_path / f"t{suffix}"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"truncated|corrupt|unreadable"):
        imread(truncated)
    garbage = tmp_path / f"g{suffix}"
    garbage.write_bytes(b"not an image at all" * 10)
    with pytest.raises(ValueError, match=r"corrupt|unreadable"):
        imread(garbage)
    assert truncated.read_bytes() == data[: len(data) // 2]  # left untouched


def test_missing_and_unsupported_paths(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such image"):
        imread(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="unsupported image format"):
        imread(tmp_path / "x.gif")
    with pytest.raises(NotADirectoryError):
        list_images(tmp_path / "nope")


def test_list_images_is_recursive_and_sorted(tmp_path):
    for name in ("b/2.png", "a.jpg", "b/1.tif", "notes.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    assert [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path)] == [
        "a.jpg", "b/1.tif", "b/2.png"]
def test_written_files_get_ordinary_permissions(tmp_path):
    import stat

    from pydeblur.io import FILE_MODE

    path = imwrite(tmp_path / "p.png", np.zeros((4, 4)))
    assert stat.S_IMODE(path.stat().st_mode) == FILE_MODE


def test_decode_and_encode_in_memory_match_the_file_functions(tmp_path):
    from pydeblur.io import decode_image, encode_image

    image = np.random.default_rng(0).random((20, 30, 3)).astype(np.float32)
    for suffix, depth in ((".png", 8), (".png", 16), (".tif", 32), (".jpg", 8)):
        data = encode_image(image, suffix, bit_depth=depth)
        path = tmp_path / f"x{depth}{suffix}"
        imwrite(path, image, bit_depth=depth)
        assert data == path.read_bytes()
        decoded, bits = decode_image(data, f"upload{suffix}")
        assert bits == depth and np.array_equal(decoded, imread(path))
    with pytest.raises(ValueError, match="limit"):
        decode_image(encode_image(image, ".png"), "a.png", max_pixels=100)
    with pytest.raises(ValueError, match="unsupported image format"):
        decode_image(b"GIF89a", "a.gif")
    with pytest.raises(ValueError, match="not a readable"):
        decode_image(b"hello", "../../etc/a.png")  # the name is a label, never a path


def test_read_image_is_imread_image_info_and_icc_in_one_read(tmp_path):
    from pydeblur.io import image_info, read_icc_profile, read_image

    image = np.random.default_rng(1).random((12, 14, 4)).astype(np.float32)
    icc = b"\x00" * 132  # any bytes: stored and given back as they are
    for name, depth in (("a.png", 16), ("b.tif", 32)):
        profile_in = icc if name.endswith("png") else None
        path = imwrite(tmp_path / name, image, bit_depth=depth, icc_profile=profile_in)
        pixels, bits, profile = read_image(path)
        assert np.array_equal(pixels, imread(path)) and bits == image_info(path)["bit_depth"] == depth
        assert profile == read_icc_profile(path) == profile_in
