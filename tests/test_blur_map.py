import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from conftest import smooth_image  # noqa: E402

from pydeblur import psf, sample_image  # noqa: E402
from pydeblur.cli import main  # noqa: E402
from pydeblur.io import imwrite  # noqa: E402
from pydeblur.nets.blur_map import (  # noqa: E402
    MIN_SIDE,
    BlurDetector,
    blur_extent,
    blur_map,
    blur_map_example,
    blur_score,
    train_blur_map,
)
from pydeblur.nets.weights import shipped_names  # noqa: E402
from pydeblur.operators import convolve  # noqa: E402


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sharp")
    for i in range(2):
        imwrite(folder / f"{i}.png", smooth_image((120, 130, 3), seed=i))
    out = folder.parent / "tiny-blur-map.safetensors"
    train_blur_map(folder, out, steps=2, batch_size=2, crop=64, width=8)
    return out


def test_blur_extent_is_the_length_of_a_motion_line():
    assert blur_extent(psf.motion(15, 30)) == pytest.approx(15, rel=0.1)
    assert blur_extent(np.ones((1, 1))) == 0
    assert blur_extent(psf.defocus(6)) > blur_extent(psf.defocus(3))


def test_training_examples_mark_the_blurred_region():
    rng = np.random.default_rng(0)
    photo = (smooth_image((200, 200), seed=3) * 255).astype(np.uint8)
    seen_partial = False
    for _ in range(30):
        image, degree, motion = blur_map_example(photo, 64, rng)
        assert image.shape == degree.shape == motion.shape == (64, 64)
        assert 0 <= degree.min() and degree.max() <= 1 and set(np.unique(motion)) <= {0.0, 1.0}
        assert not motion[degree == 0].any()  # motion is only claimed where there is blur
        seen_partial |= 0 < (degree > 0.01).mean() < 1
    assert seen_partial


def test_map_keeps_the_image_size_and_range_and_leaves_the_input(tiny_weights):
    detector = BlurDetector(tiny_weights)
    for shape in [(37, 45, 3), (50, 33), (64, 64, 1)]:
        image = np.random.default_rng(0).random(shape, dtype=np.float32)
        before = image.copy()
        degree = detector.map(image)
        assert degree.shape == shape[:2] and degree.dtype == np.float32
        assert 0 <= degree.min() and degree.max() <= 1
        np.testing.assert_array_equal(image, before)


def test_large_photos_are_judged_at_the_working_size(tiny_weights):
    image = np.random.default_rng(1).random((300, 200), dtype=np.float32)
    small = BlurDetector(tiny_weights, working_size=100).map(image)
    assert small.shape == (300, 200)
    assert not np.allclose(small, BlurDetector(tiny_weights, working_size=400).map(image))


@pytest.mark.parametrize("image,error,match", [
    (np.zeros((20, 64), np.float32), ValueError, f"{MIN_SIDE}x{MIN_SIDE}"),
    (np.zeros((64, 64), np.uint8), TypeError, "img_as_float"),
    (np.zeros((64, 64, 4), np.float32), ValueError, "alpha"),
    (np.full((64, 64), np.nan, np.float32), ValueError, "NaN"),
])
def test_bad_images_are_refused_clearly(tiny_weights, image, error, match):
    with pytest.raises(error, match=match):
        blur_map(image, weights=tiny_weights)


def test_constant_image_gives_a_finite_map(tiny_weights):
    degree = blur_map(np.full((64, 80), 0.5, np.float32), weights=tiny_weights)
    assert np.isfinite(degree).all() and degree.shape == (64, 80)


def test_judgement_follows_the_threshold(tiny_weights):
    image = smooth_image((64, 64), seed=1).astype(np.float32)
    result = blur_score(image, weights=tiny_weights, threshold=0.0)
    assert result["blurred"] and result["kind"] in ("motion", "defocus") and 0 <= result["score"] <= 1
    result = blur_score(image, weights=tiny_weights, threshold=1.0)
    assert result["kind"] == "none" or result["score"] == 1.0
    with pytest.raises(ValueError, match="threshold"):
        blur_score(image, weights=tiny_weights, threshold=1.5)


def test_the_command_defaults_are_the_library_defaults():
    from pydeblur.cli import build_parser
    from pydeblur.nets.blur_map import BLURRED_THRESHOLD, WORKING_SIZE

    args = build_parser().parse_args(["detect", "x.png"])
    assert (args.threshold, args.working_size) == (BLURRED_THRESHOLD, WORKING_SIZE)


def test_weights_of_another_kind_are_refused(tmp_path):
    with pytest.raises(ValueError, match="blur-map"):
        BlurDetector("denoiser")
    with pytest.raises(FileNotFoundError, match="Nothing is downloaded"):
        BlurDetector(tmp_path / "missing")


def test_train_refuses_to_overwrite_and_bad_crops(tiny_weights, tmp_path):
    with pytest.raises(FileExistsError, match="overwrite"):
        train_blur_map(tmp_path, tiny_weights, steps=1)
    with pytest.raises(ValueError, match="multiple of 8"):
        train_blur_map(tmp_path, tmp_path / "x.safetensors", crop=60)


@pytest.mark.skipif("blur-map" not in shipped_names(), reason="weights not shipped")
def test_shipped_detector_tells_blurred_from_sharp_and_finds_the_blurred_half():
    detector = BlurDetector()
    photo = sample_image("astronaut")
    shaken = convolve(photo, psf.motion(15, 20), boundary="reflect")
    defocused = convolve(photo, psf.defocus(5), boundary="reflect")
    sharp = detector.judge(photo)
    assert not sharp["blurred"] and sharp["kind"] == "none"
    assert detector.judge(shaken)["blurred"] and detector.judge(shaken)["kind"] == "motion"
    assert detector.judge(defocused)["blurred"] and detector.judge(defocused)["kind"] == "defocus"
    half = photo.copy()
    half[:, 256:] = shaken[:, 256:]
    degree = detector.map(half)
    assert degree[:, 300:].mean() > degree[:, :200].mean() + 0.3


def test_detect_command_table_json_maps_and_figure(tiny_weights, tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(2):
        imwrite(folder / f"p{i}.png", smooth_image((64, 72, 3), seed=i))
    imwrite(folder / "tiny.png", smooth_image((16, 16), seed=0))
    maps, figure = tmp_path / "maps", tmp_path / "fig.png"
    code = main(["detect", str(folder), "--weights", str(tiny_weights), "--json", "--map-dir", str(maps),
                 "--compare", str(figure)])
    out = json.loads(capsys.readouterr().out)
    assert code == 3  # one input is too small: reported, the others done
    assert len(out["results"]) == 2 and out["failures"][0]["file"].endswith("tiny.png")
    scores = [r["score"] for r in out["results"]]
    assert scores == sorted(scores, reverse=True)
    assert sorted(p.name for p in maps.iterdir()) == ["p0.blur.png", "p1.blur.png"] and figure.exists()
    assert main(["detect", str(folder / "p0.png"), "--weights", str(tiny_weights), "--map-dir",
                 str(maps)]) == 1  # the maps exist
    capsys.readouterr()
    assert main(["detect", str(folder / "p0.png"), "--weights", str(tiny_weights)]) == 0
    assert "p0.png" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stop:
        main(["detect", str(folder), "--threshold", "2"])
    assert stop.value.code == 2
