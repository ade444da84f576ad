import numpy as np
import pytest

torch = pytest.importorskip("torch")

from pydeblur import sample_image  # noqa: E402
from pydeblur.io import imwrite  # noqa: E402
from pydeblur.nets.denoiser import DenoiserNet, denoise, load_denoiser, train_denoiser  # noqa: E402
from pydeblur.nets.weights import read_record  # noqa: E402


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    image = sample_image("astronaut")
    for i in range(2):
        imwrite(folder / f"p{i}.png", image[64 * i : 64 * i + 96, 100:196])
    return folder


@pytest.fixture(scope="module")
def weights(photos, tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / "dn.safetensors"
    train_denoiser(photos, path, steps=3, batch_size=2, crop=32, width=8, log_every=1)
    return path


def test_the_network_is_conditioned_on_sigma():
    torch.manual_seed(0)
    net = DenoiserNet(8).eval()
    x = torch.rand(1, 3, 20, 24)
    with torch.no_grad():
        a, b = net(x, torch.tensor([0.0])), net(x, torch.tensor([0.2]))
    assert a.shape == x.shape and not torch.allclose(a, b)


def test_denoise_keeps_shape_dtype_and_grey(weights):
    rng = np.random.default_rng(0)
    for shape in [(40, 52, 3), (37, 45)]:
        for dtype in (np.float32, np.float64):
            image = rng.random(shape).astype(dtype)
            before = image.copy()
            out = denoise(image, 0.05, denoiser=weights)
            assert out.shape == shape and out.dtype == dtype and np.isfinite(out).all()
            np.testing.assert_array_equal(image, before)
    grey = rng.random((30, 34)).astype(np.float32)
    as_rgb = denoise(np.repeat(grey[:, :, None], 3, axis=2), 0.05, denoiser=weights)
    np.testing.assert_allclose(denoise(grey, 0.05, denoiser=weights), as_rgb.mean(axis=2), atol=1e-6)


def test_tiles_give_the_whole_image_result_inside(weights):
    image = np.random.default_rng(1).random((90, 70, 3)).astype(np.float32)
    whole = denoise(image, 0.1, denoiser=weights, tile=None)
    tiled = denoise(image, 0.1, denoiser=weights, tile=64)
    assert np.abs(whole - tiled).max() < 1e-4  # overlap 32 > the 16 px each way the network sees


def test_bad_input_and_missing_weights(weights, tmp_path):
    with pytest.raises(ValueError, match="sigma"):
        denoise(np.zeros((16, 16)), 0.5, denoiser=weights)
    with pytest.raises(ValueError, match="channels"):
        denoise(np.zeros((16, 16, 4)), 0.1, denoiser=weights)
    with pytest.raises(TypeError, match="img_as_float"):
        denoise(np.zeros((16, 16), np.uint8), 0.1, denoiser=weights)
    with pytest.raises(FileNotFoundError, match="Nothing is downloaded"):
        load_denoiser("no-such-denoiser")
    truncated = tmp_path / "t.safetensors"
    truncated.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_denoiser(truncated)


def test_training_resumes_from_its_checkpoint_and_refuses_to_overwrite(photos, tmp_path):
    params = {"steps": 4, "batch_size": 2, "crop": 32, "width": 8, "log_every": 1}
    straight = tmp_path / "straight.safetensors"
    train_denoiser(photos, straight, **params)
    interrupted = tmp_path / "ckpt"
    with pytest.raises(RuntimeError, match="stop"):
        def stop(entry):
            if entry["step"] == 3:  # after the checkpoint of step 2
                raise RuntimeError("stop")
        train_denoiser(photos, tmp_path / "x.safetensors", checkpoint_dir=interrupted, checkpoint_every=2,
                       callback=stop, **params)
    from pydeblur.nets.checkpoint import load_checkpoint

    assert load_checkpoint(interrupted / "denoiser-checkpoint.safetensors")["step"] == 2
    resumed = tmp_path / "resumed.safetensors"
    train_denoiser(photos, resumed, checkpoint_dir=interrupted, checkpoint_every=2, **params)
    a, b = load_denoiser(straight), load_denoiser(resumed)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, q)
    assert [e["step"] for e in read_record(resumed)["history"]] == [1, 2, 3, 4]
    in_parts, folder = tmp_path / "parts.safetensors", tmp_path / "parts"
    record = train_denoiser(photos, in_parts, checkpoint_dir=folder, stop_at=3, **params)
    assert record["steps_done"] == 3 and [e["step"] for e in record["history"]] == [1, 2, 3]
    train_denoiser(photos, in_parts, checkpoint_dir=folder, overwrite=True, **params)
    for p, q in zip(a.parameters(), load_denoiser(in_parts).parameters(), strict=True):
        torch.testing.assert_close(p, q)
    with pytest.raises(ValueError, match="checkpoint_dir"):
        train_denoiser(photos, tmp_path / "y.safetensors", stop_at=2, **params)
    with pytest.raises(ValueError, match="past stop_at"):
        train_denoiser(photos, tmp_path / "z.safetensors", checkpoint_dir=folder, stop_at=2, **params)
    with pytest.raises(FileExistsError, match="overwrite"):
        train_denoiser(photos, straight, **params)


def test_training_can_continue_from_trained_weights(photos, weights, tmp_path):
    params = {"steps": 1, "batch_size": 2, "crop": 32, "width": 8, "lr": 0.0}  # lr 0: nothing moves
    out = tmp_path / "continued.safetensors"
    train_denoiser(photos, out, init_weights=weights, **params)
    for p, q in zip(load_denoiser(weights).parameters(), load_denoiser(out).parameters(), strict=True):
        torch.testing.assert_close(p, q)
    assert read_record(out)["init_weights"] == str(weights)
    with pytest.raises(ValueError, match="width"):
        train_denoiser(photos, tmp_path / "w.safetensors", init_weights=weights, **{**params, "width": 16})


def test_grey_training_crops_carry_one_noise_field_in_all_channels():
    from pydeblur.nets.denoiser import _crops, _noise

    rng = np.random.default_rng(0)
    photo = sample_image("astronaut")[:96, :96]
    crops, grey = _crops([photo], 32, 64, rng)
    assert 0 < grey.sum() < 64  # both kinds are drawn
    noise = _noise(crops.shape, grey, rng)
    for image, field, is_grey in zip(crops, noise, grey, strict=True):
        assert np.array_equal(image[0], image[1]) == is_grey
        assert np.array_equal(field[0], field[2]) == is_grey


def test_the_unet_takes_any_size_and_is_conditioned_on_sigma():
    from pydeblur.nets.denoiser import DenoiserUNet

    torch.manual_seed(0)
    net = DenoiserUNet(4, blocks=2).eval()
    x = torch.rand(2, 3, 21, 38)  # neither side a multiple of 8
    with torch.no_grad():
        a, b = net(x, torch.tensor([0.0, 0.0])), net(x, torch.tensor([0.2, 0.2]))
    assert a.shape == x.shape and not torch.allclose(a, b)
    convolutions = (torch.nn.Conv2d, torch.nn.ConvTranspose2d)
    assert all(m.bias is None for m in net.modules() if isinstance(m, convolutions))


def test_a_trained_unet_loads_by_its_record_and_denoises(photos, tmp_path):
    from pydeblur.nets.denoiser import DenoiserUNet

    path = tmp_path / "unet.safetensors"
    train_denoiser(photos, path, steps=2, batch_size=2, crop=32, width=4, architecture="unet", blocks=2)
    model = load_denoiser(path)
    assert isinstance(model, DenoiserUNet) and len(model.middle) == 2
    image = np.random.default_rng(2).random((33, 41)).astype(np.float32)
    out = denoise(image, 0.05, denoiser=path)
    assert out.shape == image.shape and out.dtype == image.dtype and np.isfinite(out).all()
    with pytest.raises(ValueError, match="architecture"):  # another architecture's weights as a start
        train_denoiser(photos, tmp_path / "x.safetensors", steps=1, batch_size=2, crop=32, width=4,
                       init_weights=path)


def test_architecture_options_are_checked():
    from pydeblur.nets.denoiser import build_denoiser

    with pytest.raises(ValueError, match="'ircnn' or 'unet'"):
        build_denoiser("drunet", 32)
    with pytest.raises(ValueError, match="U-Net's"):
        build_denoiser("ircnn", 64, blocks=2)  # accepted and ignored would hide a typo
    assert build_denoiser("unet", 8)[1] == {"architecture": "denoiser-unet", "width": 8, "blocks": 1}


def test_the_fused_unet_computes_what_the_plain_one_does():
    from pydeblur.nets.denoiser import DenoiserUNet
    from pydeblur.nets.fusion import FusedResBlock, fuse_for_inference, fused_convolutions_available

    if not fused_convolutions_available(torch.device("cpu")):
        pytest.skip("this PyTorch build has no oneDNN fused convolutions")
    torch.manual_seed(0)
    net = DenoiserUNet(4, blocks=2).eval()
    fused = fuse_for_inference(net, torch.float32)
    assert all(isinstance(b, FusedResBlock) for b in fused.middle)
    x, sigma = torch.rand(1, 3, 27, 30), torch.tensor([0.1])
    with torch.inference_mode():
        np.testing.assert_allclose(fused(x, sigma).numpy(), net(x, sigma).numpy(), atol=1e-5)
