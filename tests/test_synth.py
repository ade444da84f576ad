import json

import numpy as np
import pytest
from conftest import smooth_image

from pydeblur import psf
from pydeblur.io import imread, imwrite
from pydeblur.metrics import psnr
from pydeblur.operators import convolve
from pydeblur.synth import (
    FAMILIES,
    RECIPE_KINDS,
    BlurRecipe,
    PSFSampler,
    average_frames,
    crf,
    degrade,
    inverse_crf,
    synthesize_folder,
)


def test_degrade_plain_model_is_blur_plus_noise():
    x = smooth_image((40, 50, 3))
    k = psf.motion(9, 30)
    pair = degrade(x, psf=k, noise_sigma=0.0, clip=False)
    np.testing.assert_allclose(pair.blurry, convolve(x, k, boundary="valid"))
    assert pair.sharp.shape == pair.blurry.shape == (32, 42, 3)
    np.testing.assert_array_equal(pair.sharp, x[4:-4, 4:-4])
    assert pair.meta["psf_family"] == "given" and pair.meta["psf"] is not None


def test_degrade_is_reproducible_and_seeded():
    x = smooth_image((48, 48))
    a, b = degrade(x, rng=3), degrade(x, rng=3)
    np.testing.assert_array_equal(a.blurry, b.blurry)
    np.testing.assert_array_equal(a.meta["psf"], b.meta["psf"])
    assert a.meta["seed"] == 3
    assert not np.array_equal(a.blurry, degrade(x, rng=4).blurry)


@pytest.mark.parametrize(
    "option, value",
    [("noise_sigma", 0.05), ("poisson_peak", 30.0), ("gamma", 2.2), ("exposure", 2.0),
     ("jpeg_quality", 20), ("boundary", "reflect")],
)
def test_every_degradation_option_changes_the_output(option, value):
    x = smooth_image((48, 48, 3), np.float32)
    k = psf.gaussian(1.5)
    base = degrade(x, psf=k, noise_sigma=0.0, rng=0)
    changed = degrade(x, psf=k, **{"noise_sigma": 0.0, option: value}, rng=0)
    assert changed.blurry.dtype == np.float32
    assert changed.blurry.shape != base.blurry.shape or not np.allclose(changed.blurry, base.blurry)


def test_saturation_and_noise_level():
    x = smooth_image((64, 64))
    pair = degrade(x, psf=psf.gaussian(1.0), exposure=3.0, noise_sigma=0.0)
    assert (pair.blurry == 1).mean() > 0.2 and (pair.sharp == 1).mean() > 0.2
    flat = np.full((200, 200), 0.5)
    noisy = degrade(flat, psf=psf.gaussian(1.0), noise_sigma=0.02, rng=0).blurry
    assert noisy.std() == pytest.approx(0.02, rel=0.05)


def test_degrade_bad_input():
    x = smooth_image((32, 32))
    with pytest.raises(ValueError, match="not both"):
        degrade(x, psf=psf.gaussian(1.0), sampler=PSFSampler())
    with pytest.raises(ValueError, match="clip"):
        degrade(x, jpeg_quality=50, clip=False)
    with pytest.raises(TypeError, match="img_as_float"):
        degrade((x * 255).astype(np.uint8))
    with pytest.raises(ValueError, match="normalize"):
        degrade(x, psf=np.ones((3, 3)))


def test_crf_round_trip_and_frame_averaging():
    x = smooth_image((20, 20, 3))
    np.testing.assert_allclose(crf(inverse_crf(x, gamma=2.2), gamma=2.2), x, atol=1e-12)
    frames = [np.roll(x, s, axis=1) for s in range(5)]
    blurred = average_frames(frames, gamma=2.2)
    expected = np.mean([f**2.2 for f in frames], axis=0) ** (1 / 2.2)
    np.testing.assert_allclose(blurred, expected, atol=1e-12)
    np.testing.assert_allclose(average_frames(frames, gamma=1.0), np.mean(frames, axis=0), atol=1e-12)
    with pytest.raises(ValueError, match="same shape"):
        average_frames([x, x[:10]])
    with pytest.raises(ValueError, match="at least 2"):
        average_frames([x])


def test_sampler_draws_every_family_within_size():
    sampler = PSFSampler(max_size=21)
    seen = set()
    for seed in range(40):
        k, info = sampler(rng=seed)
        seen.add(info["family"])
        assert k.shape[0] <= 21 and k.sum() == pytest.approx(1)
        json.dumps(info)
    assert seen == set(FAMILIES)
    only = PSFSampler(["motion"], max_size=9)
    assert {only(rng=s)[1]["family"] for s in range(5)} == {"motion"}
    with pytest.raises(ValueError, match="families"):
        PSFSampler(["box"])(rng=0)
    with pytest.raises(ValueError, match="odd"):
        PSFSampler(max_size=20)(rng=0)
    with pytest.raises(ValueError, match="weights"):
        PSFSampler(weights=[1, 2])(rng=0)


@pytest.fixture
def sharp_dir(tmp_path):
    folder = tmp_path / "photos"
    for i, name in enumerate(["a.png", "sub/b.png", "c.jpg"]):
        imwrite(folder / name, smooth_image((60, 70, 3), np.float32, seed=i))
    return folder


def test_synthesize_folder_layout_resume_and_reproducibility(sharp_dir, tmp_path):
    before = {p: p.read_bytes() for p in sharp_dir.rglob("*") if p.is_file()}
    out = tmp_path / "pairs"
    manifest = synthesize_folder(sharp_dir, out, per_image=2, seed=1, progress=False,
                                 sampler=PSFSampler(max_size=11))
    assert len(manifest) == 6
    for entry in manifest:
        blur, sharp = imread(out / entry["files"]["blur"]), imread(out / entry["files"]["sharp"])
        assert blur.shape == sharp.shape
        kernel = np.load(out / entry["files"]["kernel"])
        assert kernel.sum() == pytest.approx(1)
        assert (out / entry["files"]["kernel_image"]).exists()
        assert psnr(blur, sharp) < 60
    assert sorted({e["files"]["blur"].split("/")[0] for e in manifest}) == ["photos", "sub"]
    assert json.loads((out / "manifest.json").read_text()) == manifest
    # the input folder is untouched
    assert {p: p.read_bytes() for p in sharp_dir.rglob("*") if p.is_file()} == before

    # re-running skips finished pairs (files keep their timestamps) and gives the same manifest
    blur0 = out / manifest[0]["files"]["blur"]
    stamp = blur0.stat().st_mtime_ns
    (out / "photos" / "meta" / "a_1.json").unlink()  # an unfinished pair is redone
    again = synthesize_folder(sharp_dir, out, per_image=2, seed=1, progress=False,
                              sampler=PSFSampler(max_size=11))
    assert again == manifest and blur0.stat().st_mtime_ns == stamp

    # a fresh folder with the same seed reproduces the pairs bit for bit
    other = synthesize_folder(sharp_dir, tmp_path / "pairs2", per_image=2, seed=1, progress=False,
                              sampler=PSFSampler(max_size=11))
    for e1, e2 in zip(manifest, other, strict=True):
        first, second = out / e1["files"]["blur"], tmp_path / "pairs2" / e2["files"]["blur"]
        assert first.read_bytes() == second.read_bytes()


def test_synthesize_folder_refuses_overlap_and_other_settings(sharp_dir, tmp_path):
    with pytest.raises(ValueError, match="overlap"):
        synthesize_folder(sharp_dir, sharp_dir / "out", progress=False)
    with pytest.raises(ValueError, match="overlap"):
        synthesize_folder(sharp_dir, sharp_dir.parent, progress=False)
    out = tmp_path / "pairs"
    synthesize_folder(sharp_dir, out, seed=1, progress=False, sampler=PSFSampler(max_size=9))
    with pytest.raises(ValueError, match="other settings"):
        synthesize_folder(sharp_dir, out, seed=2, progress=False, sampler=PSFSampler(max_size=9))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no PNG"):
        synthesize_folder(empty, tmp_path / "o", progress=False)


def test_degrade_with_a_grid_of_kernels_blurs_spatially_varying():
    from pydeblur.operators import convolve_spatially_varying

    sharp = smooth_image((60, 70), seed=2)
    k = psf.motion(9, 30)
    same, _, _ = degrade(sharp, psf=np.broadcast_to(k, (2, 2, *k.shape)), noise_sigma=0, rng=0)
    plain, cropped, _ = degrade(sharp, psf=k, noise_sigma=0, rng=0)
    np.testing.assert_allclose(same, plain, atol=1e-6)
    grid = np.stack([np.stack([k, k.T]), np.stack([k[::-1], k])])
    varying, sharp_out, meta = degrade(sharp, psf=grid, noise_sigma=0, rng=0)
    assert varying.shape == sharp_out.shape == cropped.shape and meta["psf_family"] == "given grid"
    expected = np.clip(convolve_spatially_varying(sharp, grid, boundary="valid"), 0, 1)
    np.testing.assert_allclose(varying, expected, atol=1e-6)


def test_recipe_draws_every_kind_within_size_and_is_reproducible():
    recipe = BlurRecipe(kernel_sizes=(3, 31))
    photo = smooth_image((90, 90, 3), seed=1)
    kinds, nonuniform = set(), 0
    for seed in range(60):
        kernel, options, info = recipe.draw(seed)
        kinds.add(info["kind"])
        nonuniform += info["nonuniform"]
        assert max(kernel.shape[-2:]) <= recipe.max_kernel_size and kernel.min() >= 0
        np.testing.assert_allclose(kernel.sum(axis=(-2, -1)), 1.0, rtol=1e-6)
        assert 0 <= options["noise_sigma"] <= 0.03
    assert kinds == set(RECIPE_KINDS) and 0 < nonuniform < 60
    a, b = recipe(photo, rng=5), recipe(photo, rng=5)
    np.testing.assert_array_equal(a.blurry, b.blurry)
    assert a.blurry.shape == a.sharp.shape


@pytest.mark.parametrize("params,match", [({"kernel_sizes": (3, 44)}, "kernel_sizes"),
                                          ({"kinds": {"spiral": 1.0}}, "kinds"),
                                          ({"kinds": {"motion": -1.0}}, "kinds"),
                                          ({"jpeg_probability": 1.5}, "jpeg_probability")])
def test_recipe_rejects_bad_settings(params, match):
    with pytest.raises(ValueError, match=match):
        BlurRecipe(**params)
