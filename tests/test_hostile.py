"""Hostile and careless input: planted files, symlinks, name collisions, interrupted writes."""

import os
import pickle

import numpy as np
import pytest
from conftest import smooth_image

from pydeblur import sample_image
from pydeblur.datasets import find_pairs
from pydeblur.io import contained_path, imwrite, remove_stale_temporaries, write_bytes_atomic
from pydeblur.synth import PSFSampler, synthesize_folder


class _RunsCode:
    """Unpickling this object creates the file named by ``marker``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _sharp_folder(root, names):
    for i, name in enumerate(names):
        imwrite(root / name, smooth_image((48, 52, 3), np.float32, seed=i))
    return root


# -- training checkpoints ------------------------------------------------------------
@pytest.fixture
def tiny_srn():
    pytest.importorskip("torch")
    from pydeblur.nets import SRNDeblur

    def make(**params):
        return SRNDeblur(**{"epochs": 1, "steps_per_epoch": 1, "batch_size": 1, "crop_size": 32,
                            "progress": False, **params})

    return make


def _pair():
    sharp = smooth_image((64, 64, 3), np.float32)
    return np.clip(sharp * 0.9, 0, 1).astype(np.float32), sharp


@pytest.mark.parametrize("name,message", [("checkpoint.pt", "pickled checkpoint"),
                                          ("checkpoint.safetensors", "not a readable pydeblur checkpoint")])
def test_a_planted_pickle_checkpoint_is_never_unpickled(tmp_path, tiny_srn, name, message):
    marker = tmp_path / "code-ran"
    (tmp_path / name).write_bytes(pickle.dumps(_RunsCode(str(marker))))
    with pytest.raises(ValueError, match=message):
        tiny_srn(checkpoint_dir=tmp_path).fit(*_pair())
    assert not marker.exists()


def test_checkpoints_never_write_through_symlinks(tmp_path, tiny_srn):
    target = tmp_path / "precious.txt"
    target.write_text("keep")
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    for name in ("checkpoint.safetensors", "checkpoint.tmp", ".checkpoint.safetensors.tmp"):
        os.symlink(target, ckpt / name)
    with pytest.raises(ValueError, match="not a readable pydeblur checkpoint"):  # resuming reads it
        tiny_srn(checkpoint_dir=ckpt).fit(*_pair())
    net = tiny_srn(checkpoint_dir=ckpt, resume=False).fit(*_pair())
    assert target.read_text() == "keep"
    assert not (ckpt / "checkpoint.safetensors").is_symlink()
    resumed = tiny_srn(checkpoint_dir=ckpt, epochs=2).fit(*_pair())  # and it reads back
    assert resumed.history_[0] == net.history_[0] and len(resumed.history_) == 2


def test_checkpoint_round_trip_keeps_structure(tmp_path):
    torch = pytest.importorskip("torch")
    from pydeblur.nets.checkpoint import load_checkpoint, save_checkpoint

    state = {"model": {"w": torch.arange(6.0).reshape(2, 3)}, "epoch": 3, "betas": (0.9, 0.999),
             "optim": {"state": {0: {"step": torch.tensor(5.0)}}, "groups": [{"params": [0], "lr": 1e-3}]},
             "history": [{"loss": 0.5, "note": None}]}
    path = save_checkpoint(tmp_path / "c.safetensors", state)
    back = load_checkpoint(path)
    assert back["epoch"] == 3 and back["betas"] == (0.9, 0.999) and back["history"] == state["history"]
    assert list(back["optim"]["state"]) == [0] and float(back["optim"]["state"][0]["step"]) == 5.0
    assert torch.equal(back["model"]["w"], state["model"]["w"])
    with pytest.raises(TypeError, match="cannot store"):
        save_checkpoint(tmp_path / "d.safetensors", {"f": object()})


def test_onnx_export_replaces_a_symlink_and_refuses_to_overwrite(tmp_path, tiny_srn):
    pytest.importorskip("onnxruntime")
    target = tmp_path / "precious.txt"
    target.write_text("keep")
    net = tiny_srn().fit(*_pair())
    os.symlink(target, tmp_path / ".net.onnx.tmp")  # the old fixed temporary name
    net.export_onnx(tmp_path / "net.onnx", example_size=(64, 64), check=False)
    assert target.read_text() == "keep" and (tmp_path / "net.onnx").stat().st_size > 1000
    with pytest.raises(FileExistsError, match="overwrite=True"):
        net.export_onnx(tmp_path / "net.onnx", example_size=(64, 64), check=False)


# -- writing into output folders -----------------------------------------------------
def test_contained_path_refuses_links_and_escapes(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(elsewhere, out / "seq")
    with pytest.raises(ValueError, match="symlink"):
        contained_path(out, "seq/blur/a.png")
    with pytest.raises(ValueError, match="not a path inside"):
        contained_path(out, "../elsewhere/a.png")
    assert contained_path(out, "new/blur/a.png") == out / "new" / "blur" / "a.png"


def test_synth_never_writes_through_a_planted_folder_symlink(tmp_path):
    sharp = _sharp_folder(tmp_path / "photos", ["a.png"])
    out = tmp_path / "out"
    synthesize_folder(sharp, out, progress=False, sampler=PSFSampler(max_size=7))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "photos" / "meta" / "a_0.json").unlink()  # the pair is redone on the next run...
    for child in (out / "photos").iterdir():  # ...into a folder now swapped for a link
        for f in child.iterdir():
            f.unlink()
        child.rmdir()
    (out / "photos").rmdir()
    os.symlink(elsewhere, out / "photos")
    with pytest.raises(ValueError, match="symlink"):
        synthesize_folder(sharp, out, progress=False, sampler=PSFSampler(max_size=7))
    assert list(elsewhere.iterdir()) == []


def test_synth_refuses_a_folder_it_did_not_make(tmp_path):
    sharp = _sharp_folder(tmp_path / "photos", ["a.png"])
    out = tmp_path / "out"
    imwrite(out / "photos" / "blur" / "a_0.png", np.zeros((8, 8)))
    before = (out / "photos" / "blur" / "a_0.png").read_bytes()
    with pytest.raises(FileExistsError, match="not made by pydeblur synth"):
        synthesize_folder(sharp, out, progress=False, sampler=PSFSampler(max_size=7))
    assert (out / "photos" / "blur" / "a_0.png").read_bytes() == before


def test_synth_keeps_every_photo_when_names_collide_and_flattens_nested_folders(tmp_path):
    sharp = _sharp_folder(tmp_path / "S", ["a.png", "a.jpg", "x.png", "S/x.png", "deep/er/y.png"])
    out = tmp_path / "out"
    manifest = synthesize_folder(sharp, out, progress=False, sampler=PSFSampler(max_size=7))
    blurs = [e["files"]["blur"] for e in manifest]
    assert len(manifest) == 5 and len(set(blurs)) == 5
    assert sorted(blurs) == ["S-top/blur/a-jpg_0.png", "S-top/blur/a-png_0.png", "S-top/blur/x_0.png",
                             "S/blur/x_0.png", "deep__er/blur/y_0.png"]
    assert len(find_pairs(out)) == 5  # every pair in the layout the training reader reads


def test_rerun_removes_temporaries_an_interrupted_run_left(tmp_path):
    sharp = _sharp_folder(tmp_path / "photos", ["a.png"])
    out = tmp_path / "out"
    synthesize_folder(sharp, out, progress=False, sampler=PSFSampler(max_size=7))
    stale = out / "photos" / "blur" / ".a_0.png.k3j_x9q2.tmp"  # as kill -9 leaves it
    stale.write_bytes(b"partial")
    user_file = out / "photos" / "notes.tmp"
    user_file.write_text("mine")
    synthesize_folder(sharp, out, progress=False, sampler=PSFSampler(max_size=7))
    assert not stale.exists() and user_file.exists()


def test_remove_stale_temporaries_does_not_follow_links(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".b.png.abcdefgh.tmp").write_bytes(b"theirs")
    folder = tmp_path / "folder"
    folder.mkdir()
    os.symlink(elsewhere, folder / "link")
    write_bytes_atomic(folder / "a.bin", b"x")
    (folder / ".a.bin.ABCDEFGH.tmp").write_bytes(b"stale")
    assert remove_stale_temporaries(folder) == [folder / ".a.bin.ABCDEFGH.tmp"]
    assert (elsewhere / ".b.png.abcdefgh.tmp").exists()


# -- reading files --------------------------------------------------------------------
def _png_header_claiming(width, height):
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    body = struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    idat = zlib.compress(b"\0" * 64)
    idat_chunk = b"IDAT" + idat
    body += struct.pack(">I", len(idat)) + idat_chunk + struct.pack(">I", zlib.crc32(idat_chunk))
    end = b"IEND"
    return b"\x89PNG\r\n\x1a\n" + body + struct.pack(">I", 0) + end + struct.pack(">I", zlib.crc32(end))


def test_a_huge_header_is_refused_before_decoding(tmp_path):
    from pydeblur.io import imread

    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header_claiming(100_000, 100_000))
    with pytest.raises(ValueError, match="more than the limit"):
        imread(path)
    small = tmp_path / "small.png"
    imwrite(small, np.zeros((40, 50)))
    with pytest.raises(ValueError, match="--max-pixels"):
        imread(small, max_pixels=1000)
    assert imread(small, max_pixels=2000).shape == (40, 50)


def test_empty_corrupt_and_multipage_files_are_clear_errors(tmp_path):
    import tifffile

    from pydeblur.io import imread

    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        imread(tmp_path / "empty.png")
    (tmp_path / "junk.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 50)
    with pytest.raises(ValueError, match="not a readable image"):
        imread(tmp_path / "junk.png")
    tifffile.imwrite(tmp_path / "pages.tif", np.zeros((2, 16, 16), np.uint8))
    with pytest.raises(ValueError, match="2 pages"):
        imread(tmp_path / "pages.tif")
    tifffile.imwrite(tmp_path / "f64.tif", np.zeros((16, 16), np.float64))
    try:
        assert imread(tmp_path / "f64.tif").shape == (16, 16)
    except ValueError as error:  # OpenCV cannot decode float64 TIFFs: said, not a cv2.error
        assert "cannot decode" in str(error)


def test_jpegs_truncated_or_with_trailing_data(tmp_path):
    from pydeblur.io import imread

    good = imwrite(tmp_path / "a.jpg", smooth_image((32, 40, 3), np.float32))
    data = good.read_bytes()
    (tmp_path / "motion.jpg").write_bytes(data + b"\x00\x00\x00\x18ftypmp42" + b"\x01" * 500)
    np.testing.assert_array_equal(imread(tmp_path / "motion.jpg"), imread(good))
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated"):
        imread(tmp_path / "cut.jpg")
    big = imwrite(tmp_path / "big.jpg", sample_image("astronaut")[:128, :128])
    cut = big.read_bytes()
    (tmp_path / "cut_marked.jpg").write_bytes(cut[: len(cut) // 2] + b"\xff\xd9")  # end marker appended
    with pytest.warns(UserWarning, match="cut short"):
        imread(tmp_path / "cut_marked.jpg")


def test_exif_orientation_is_applied_on_read(tmp_path):
    from PIL import Image

    from pydeblur.io import imread

    pixels = np.zeros((20, 30, 3), np.uint8)
    pixels[:5, :10] = 255  # a bright block at the top left of the stored pixels
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6  # stored rotated: a viewer turns it 90 degrees clockwise
    image.save(tmp_path / "portrait.jpg", exif=exif, quality=95)
    upright = imread(tmp_path / "portrait.jpg")
    assert upright.shape == (30, 20, 3)
    assert upright[:10, -5:].mean() > 0.8 and upright[:10, :5].mean() < 0.2  # the block is now top right


# -- the restore command ----------------------------------------------------------------
@pytest.fixture
def batch(tmp_path):
    folder = tmp_path / "in"
    for name in ("a.png", "b.png", "fig_a.png"):
        imwrite(folder / name, smooth_image((40, 44, 3), np.float32, seed=len(name)))
    return tmp_path


def _restore(*argv):
    from pydeblur.cli import main

    return main(["restore", *map(str, argv), "--method", "wiener", "--psf", "motion:length=5",
                 "--no-progress"])


def test_a_compare_path_that_is_an_input_is_refused_before_anything_runs(batch):
    before = (batch / "in" / "fig_a.png").read_bytes()
    assert _restore(batch / "in", "-o", batch / "out", "--compare", batch / "in" / "fig.png",
                    "--overwrite") == 1
    assert (batch / "in" / "fig_a.png").read_bytes() == before and not (batch / "out").exists()
    assert _restore(batch / "in" / "a.png", "-o", batch / "out.png", "--compare", batch / "in" / "a.png") == 1
    assert not (batch / "out.png").exists()  # checked before computing, so a rerun is not blocked
    assert _restore(batch / "in" / "a.png", "-o", batch / "out.png", "--compare", batch / "out.png") == 1


def test_options_are_checked_up_front_with_exit_code_2(batch, capsys):
    from pydeblur.cli import main

    for argv, message in ((["--tile", "-1"], "--tile"), (["--tile", "3"], "--tile"),
                          (["--max-pixels", "0"], "--max-pixels")):
        assert _restore(batch / "in" / "a.png", "-o", batch / "x.png", *argv) == 2
        assert message in capsys.readouterr().err
    blind = ["restore", str(batch / "in" / "a.png"), "-o", str(batch / "x.png"), "--method", "blind"]
    assert main([*blind, "--psf-size", "8"]) == 2 and "--psf-size" in capsys.readouterr().err
    network = ["restore", str(batch / "in" / "a.png"), "-o", str(batch / "x.png"), "--method", "srn"]
    assert main([*network, "--device", "gpu"]) == 2 and "--device" in capsys.readouterr().err
    for spec, message in (("motion:length=abc", "length='abc' is not a number"),
                          ("motion:length=15,length=3", "twice")):
        assert main(["restore", str(batch / "in" / "a.png"), "-o", str(batch / "x.png"), "--method", "wiener",
                     "--psf", spec]) == 2
        assert message in capsys.readouterr().err
    assert _restore(batch / "in" / "a.png", "-o", batch / "out.gif") == 2
    assert not (batch / "out.gif").exists()
    assert not (batch / "x.png").exists()


def test_json_reports_a_failed_command_and_a_batch_resumes(batch, capsys):
    import json

    assert _restore(batch / "missing.png", "-o", batch / "x.png", "--json") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["exit_code"] == 1 and "does not exist" in report["error"]
    out = batch / "out"
    assert _restore(batch / "in", "-o", out) == 0
    stamp = (out / "a.png").stat().st_mtime_ns
    (out / "b.png").unlink()  # as if the batch had been interrupted before b
    (out / ".b.png.a1b2c3d4.tmp").write_bytes(b"partial")  # what kill -9 leaves
    assert _restore(batch / "in", "-o", out) == 1  # a.png exists: refused without a flag
    capsys.readouterr()
    assert _restore(batch / "in", "-o", out, "--skip-existing", "--json") == 0
    results = json.loads(capsys.readouterr().out)["results"]
    statuses = {r["input"].split("/")[-1]: r["status"] for r in results}
    assert statuses == {"a.png": "skipped", "b.png": "ok", "fig_a.png": "skipped"}
    assert (out / "a.png").stat().st_mtime_ns == stamp and (out / "b.png").exists()
    assert not (out / ".b.png.a1b2c3d4.tmp").exists()


def test_float_tiffs_are_not_clipped(batch):
    from pydeblur.io import imread

    hdr = smooth_image((40, 44, 3), np.float32) * 3.0  # radiance beyond 1
    imwrite(batch / "hdr.tif", hdr, bit_depth=32)
    assert _restore(batch / "hdr.tif", "-o", batch / "hdr_out.tif") == 0
    assert imread(batch / "hdr_out.tif").max() > 1.5


# -- networks and the other commands -------------------------------------------------------
def test_network_options_are_validated():
    pytest.importorskip("torch")
    from pydeblur.nets import SRNDeblur

    image = np.zeros((32, 32, 3), np.float32)
    for params, message in (({"tile": "big"}, "tile"), ({"tile_batch": 0}, "tile_batch"),
                            ({"tile": 3}, "tile"), ({"device": "tpu"}, "device")):
        with pytest.raises((ValueError, TypeError), match=message):
            SRNDeblur.from_pretrained("srn-small", **params).restore(image)
    with pytest.raises(ValueError, match="warm_start"):
        SRNDeblur.from_pretrained("srn-small", size="paper")


@pytest.mark.parametrize("argv", [
    ["train", "srn", "-o", "x.safetensors", "--sharp-dir", "photos", "--epochs", "0"],
    ["train", "srn", "-o", "x.safetensors", "--sharp-dir", "photos", "--steps-per-epoch", "0"],
    ["train", "srn", "-o", "x.safetensors", "--sharp-dir", "photos", "--max-noise", "-1"],
    ["train", "srn", "-o", "x.safetensors", "--sharp-dir", "/nonexistent"],
    ["bench", "speed", "--size", "0"], ["bench", "speed", "--repeat", "0"],
    ["bench", "quality", "photos", "--crop", "0"], ["synth", "photos", "out", "--per-image", "0"],
])
def test_bad_numbers_and_folders_are_usage_errors(argv, tmp_path, monkeypatch, capsys):
    from pydeblur.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "photos").mkdir()
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own usage errors
        code = exit_.code
    assert code == 2
    assert "--" in capsys.readouterr().err  # the option is named
    assert not (tmp_path / "x.safetensors").exists() and not (tmp_path / "out").exists()


def test_float_images_in_0_255_are_warned_about_not_silently_wrong():
    from pydeblur import hyper_laplacian, wiener

    image = smooth_image((32, 32))
    k = np.ones((3, 3)) / 9
    with pytest.warns(UserWarning, match="0..255"):
        wiener(image * 255, k)
    with pytest.warns(UserWarning, match="image / 255"):
        hyper_laplacian(image * 255, k, clip=True)
    wiener(image * 3, k)  # radiance a little above 1 passes quietly (warnings are errors here)


def test_workers_and_rgba_jpegs(tmp_path):
    from pydeblur import wiener

    with pytest.raises(ValueError, match="workers"):
        wiener(smooth_image((16, 16)), np.ones((3, 3)) / 9, workers=-5)
    with pytest.raises(ValueError, match="alpha"):
        imwrite(tmp_path / "a.jpg", smooth_image((16, 16, 4), np.float32))


def test_the_icc_profile_survives_restore(tmp_path):
    from PIL import Image, ImageCms

    from pydeblur.io import read_icc_profile

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    pixels = (smooth_image((40, 44, 3), np.float32) * 255).astype(np.uint8)
    for suffix in (".png", ".jpg"):
        source = tmp_path / f"in{suffix}"
        Image.fromarray(pixels).save(source, icc_profile=profile)
        assert read_icc_profile(source) == profile
        out = tmp_path / f"out{suffix}"
        assert _restore(source, "-o", out) == 0
        assert read_icc_profile(out) == profile
        with Image.open(out) as written:  # and the file is still a valid image
            written.load()
    assert read_icc_profile(imwrite(tmp_path / "plain.png", smooth_image((8, 8)))) is None
    with pytest.raises(ValueError, match="PNG and JPEG"):
        imwrite(tmp_path / "x.tif", smooth_image((8, 8)), icc_profile=profile)


def test_huge_psf_parameters_are_refused_before_allocating(capsys):
    from pydeblur import psf
    from pydeblur.cli import main

    for make in (lambda: psf.defocus(1e6), lambda: psf.motion(1e5), lambda: psf.gaussian(1e5),
                 lambda: psf.motion(9, size=100_000), lambda: psf.to_image(psf.gaussian(2), scale=100_000)):
        with pytest.raises(ValueError, match=r"1025|16384"):
            make()
    assert main(["restore", "x.png", "-o", "y.png", "--method", "wiener", "--psf", "defocus:radius=1e6"]) == 2
    assert "1025 px" in capsys.readouterr().err


def test_synth_with_a_corrupt_photo_is_a_clear_error(tmp_path, capsys):
    from pydeblur.cli import main

    sharp = _sharp_folder(tmp_path / "photos", ["a.png"])
    (sharp / "b.png").write_bytes(b"")
    assert main(["synth", str(sharp), str(tmp_path / "out"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "b.png is empty" in err and "Traceback" not in err
