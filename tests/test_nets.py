import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from contract import check_deblurrer  # noqa: E402

from pydeblur import sample_image  # noqa: E402
from pydeblur.base import NotFittedError  # noqa: E402
from pydeblur.nets import (  # noqa: E402
    BaselineCNN,
    DeblurGAN,
    DeepDeblur,
    NAFNetDeblur,
    SRNDeblur,
    SyntheticBlurDataset,
)
from pydeblur.nets.fusion import fused_convolutions_available  # noqa: E402
from pydeblur.nets.inference import restore_image  # noqa: E402
from pydeblur.nets.precision import fast_bf16_available, resolve_device, resolve_precision  # noqa: E402
from pydeblur.nets.weights import shipped_names  # noqa: E402

TINY = {"epochs": 1, "steps_per_epoch": 2, "batch_size": 2, "crop_size": 32, "progress": False}
NETWORKS = [SRNDeblur, DeepDeblur, DeblurGAN, NAFNetDeblur, BaselineCNN]


def tiny(cls, **params):
    extra = {"n_critic": 1} if cls is DeblurGAN else {}
    return cls(**{**TINY, **extra, **params})


@pytest.fixture(scope="module")
def photo():
    return sample_image("astronaut")[100:196, 150:230]  # 96 x 80 RGB


@pytest.fixture(scope="module")
def trained(photo):
    """One tiny trained network of each kind (weights are meaningless, shapes are real)."""
    blurry = np.clip(photo + 0.05, 0, 1).astype(np.float32)
    return {cls: tiny(cls).fit(blurry, photo) for cls in NETWORKS}


def test_precision_is_detected_not_guessed():
    cpu = torch.device("cpu")
    assert resolve_precision("auto", cpu) == ("bf16" if fast_bf16_available(cpu) else "fp32")
    assert resolve_precision("fp32", cpu) == "fp32"
    with pytest.raises(ValueError, match="precision"):
        resolve_precision("fp16", cpu)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


@pytest.mark.parametrize("cls", NETWORKS)
def test_contract(cls, photo):
    blurry = np.clip(photo * 0.9, 0, 1).astype(np.float32)
    check_deblurrer(lambda: tiny(cls), blurry, photo)


@pytest.mark.parametrize("cls", NETWORKS)
@pytest.mark.parametrize("shape", [(37, 45, 3), (50, 33), (64, 64, 3)])
def test_restore_any_size_keeps_shape_dtype_and_input(cls, shape, trained):
    rng = np.random.default_rng(0)
    image = rng.random(shape, dtype=np.float32)
    before = image.copy()
    out = trained[cls].restore(image)
    assert out.shape == shape and out.dtype == np.float32 and np.isfinite(out).all()
    np.testing.assert_array_equal(image, before)
    out64 = trained[cls].restore(image.astype(np.float64))
    assert out64.dtype == np.float64


def test_restore_rejects_alpha_and_integers(trained):
    net = trained[SRNDeblur]
    with pytest.raises(ValueError, match="alpha"):
        net.restore(np.zeros((32, 32, 4), np.float32))
    with pytest.raises(TypeError, match="img_as_float"):
        net.restore(np.zeros((32, 32, 3), np.uint8))


@pytest.mark.parametrize("total,tile,overlap", [(1280, 512, 32), (720, 512, 32), (4000, 512, 32),
                                                (513, 512, 32), (100, 32, 12), (64, 32, 0), (300, 400, 32)])
def test_tiles_are_fewest_and_cover_with_the_overlap(total, tile, overlap):
    from pydeblur.nets.inference import _tiles

    starts, length = _tiles(total, tile, overlap)
    assert length <= tile and starts[0] == 0 and starts[-1] + length == total
    assert all(b - a >= 1 and a + length - b >= overlap for a, b in itertools.pairwise(starts))
    fewer = len(starts) - 1  # fewer tiles of the largest size could not cover with that overlap
    assert fewer == 0 or fewer * tile - (fewer - 1) * overlap < total


def test_tiles_blend_to_the_untiled_result():
    """With overlap wider than the receptive field, tiling changes nothing."""

    class Local(torch.nn.Module):
        stride = 1

        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 3, 5, padding=2)

        def forward(self, x):
            return [x + self.conv(x)]

    torch.manual_seed(0)
    model = Local()
    image = np.random.default_rng(1).random((70, 90, 3), dtype=np.float32)
    kwargs = {"multiple": 1, "device": torch.device("cpu"), "precision": "fp32"}
    whole = restore_image(model, image, tile=None, overlap=0, **kwargs)
    tiled = restore_image(model, image, tile=32, overlap=12, batch_size=3, **kwargs)
    # interior pixels see the same neighbourhood; only the image border differs (padding)
    np.testing.assert_allclose(tiled[4:-4, 4:-4], whole[4:-4, 4:-4], atol=1e-5)


# torch's own compiler stack imports a deprecated torch.jit helper on its first use
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
def test_compiled_inference_matches_eager_and_still_pickles(trained):
    import pickle

    net = trained[DeblurGAN]
    image = np.random.default_rng(2).random((40, 52, 3), dtype=np.float32)
    try:
        net.set_params(precision="fp32")
        eager = net.restore(image)
        net.set_params(compile=True)
        compiled = net.restore(image)
        again = pickle.loads(pickle.dumps(net))
    finally:
        net.set_params(compile=False, precision="auto")
    np.testing.assert_allclose(compiled, eager, atol=1e-4)
    np.testing.assert_array_equal(again.restore(image), compiled)
    with pytest.raises(TypeError, match="compile must be True or False"):
        again.set_params(compile="yes").restore(image)


def test_never_random_weights(tmp_path, trained):
    with pytest.raises(NotFittedError):
        SRNDeblur().restore(np.zeros((32, 32, 3), np.float32))
    with pytest.raises(FileNotFoundError, match="Nothing is downloaded"):
        SRNDeblur.from_pretrained("no-such-net")
    with pytest.raises(FileNotFoundError):
        SRNDeblur.from_pretrained(tmp_path / "missing.safetensors")
    path = trained[SRNDeblur].save(tmp_path / "srn.safetensors", record={"note": "test"})
    data = path.read_bytes()
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        SRNDeblur.from_pretrained(truncated)
    with pytest.raises(ValueError, match="not 'deepdeblur'"):
        DeepDeblur.from_pretrained(path)


def test_save_and_reload_give_the_same_output(tmp_path, trained, photo):
    net = trained[DeepDeblur]
    path = net.save(tmp_path / "dd.safetensors", record={"command": "test"})
    again = DeepDeblur.from_pretrained(path, precision="fp32")
    assert again.record_["command"] == "test" and again.history_ == net.history_
    np.testing.assert_allclose(again.restore(photo), DeepDeblur.from_pretrained(path, precision="fp32")
                               .restore(photo))
    net.precision = "fp32"
    np.testing.assert_allclose(again.restore(photo), net.restore(photo), atol=1e-6)


@pytest.mark.parametrize("small,deep", [(1, 3), (2, 4)])
def test_deepen_keeps_the_function_and_adds_trainable_blocks(small, deep):
    from pydeblur.nets._blocks import deepen
    from pydeblur.nets.deepdeblur import DeepDeblurNet
    from pydeblur.nets.srn import SRNNet

    torch.manual_seed(0)
    x = torch.rand(1, 3, 48, 64)
    for source, target in ((SRNNet((8, 16, 16), small), SRNNet((8, 16, 16), deep)),
                           (DeepDeblurNet(8, small), DeepDeblurNet(8, deep))):
        deepen(source, target)
        with torch.no_grad():
            torch.testing.assert_close(target(x)[0], source(x)[0], atol=1e-6, rtol=0)
        target(x)[0].square().mean().backward()
        blocks = target.in_block if isinstance(target, SRNNet) else target.scales[0].body
        new_block = blocks[2 + small] if isinstance(target, SRNNet) else blocks[1 + small]
        assert new_block.body[-1].weight.grad.abs().sum() > 0  # the zero conv learns


def test_deepen_refuses_other_widths_and_fewer_blocks():
    from pydeblur.nets._blocks import deepen
    from pydeblur.nets.srn import SRNNet

    with pytest.raises(ValueError, match="only the number of ResBlocks"):
        deepen(SRNNet((8, 16, 16), 1), SRNNet((8, 16, 32), 1))
    with pytest.raises(ValueError, match="can only gain ResBlocks"):
        deepen(SRNNet((8, 16, 16), 2), SRNNet((8, 16, 16), 1))


def test_warm_start_to_a_deeper_size_starts_from_the_loaded_function(tmp_path, trained, photo):
    path = trained[SRNDeblur].save(tmp_path / "srn.safetensors")
    small = SRNDeblur.from_pretrained(path, precision="fp32")
    grown = SRNDeblur.from_pretrained(path, precision="fp32", size="medium", warm_start=True,
                                      **{**TINY, "lr": 0.0}).fit(photo, photo)
    assert grown.config_["n_resblocks"] == 3 and grown.config_["size"] == "medium"
    np.testing.assert_allclose(grown.restore(photo), small.restore(photo), atol=1e-5)
    with pytest.raises(ValueError, match="only adds ResBlocks"):
        SRNDeblur.from_pretrained(path, size="paper", warm_start=True, **TINY).fit(photo, photo)


def test_float16_weights_halve_the_file_and_load_as_fp32(tmp_path, trained, photo):
    net = trained[SRNDeblur]
    full = net.save(tmp_path / "full.safetensors")
    half = net.save(tmp_path / "half.safetensors", dtype="float16")
    assert half.stat().st_size < 0.6 * full.stat().st_size
    loaded = SRNDeblur.from_pretrained(half, precision="fp32")
    assert all(p.dtype == torch.float32 for p in loaded.model_.parameters())
    reference = SRNDeblur.from_pretrained(full, precision="fp32").restore(photo)
    assert 0 < np.abs(loaded.restore(photo) - reference).max() < 5e-3
    with pytest.raises(ValueError, match="dtype must be one of"):
        net.save(tmp_path / "x.safetensors", dtype="bfloat16")


def test_save_refuses_to_overwrite_unless_asked(tmp_path, trained):
    path = tmp_path / "kept.safetensors"
    path.write_bytes(b"keep")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        trained[DeepDeblur].save(path)
    assert path.read_bytes() == b"keep"
    trained[DeepDeblur].save(path, overwrite=True)
    assert DeepDeblur.from_pretrained(path).config_ == trained[DeepDeblur].config_


def test_checkpoints_resume(tmp_path, photo):
    blurry = np.clip(photo * 0.9, 0, 1).astype(np.float32)
    first = tiny(SRNDeblur, checkpoint_dir=tmp_path, epochs=1).fit(blurry, photo)
    resumed = tiny(SRNDeblur, checkpoint_dir=tmp_path, epochs=2).fit(blurry, photo)
    assert len(resumed.history_) == 2 and resumed.history_[0] == first.history_[0]
    with pytest.raises(ValueError, match="written for"):
        tiny(DeepDeblur, checkpoint_dir=tmp_path, epochs=3).fit(blurry, photo)


def test_synthetic_dataset_is_reproducible_and_validated(photo):
    ds = SyntheticBlurDataset([photo], crop=24, length=4, seed=3)
    a, b = ds[1], ds[1]
    assert a[0].shape == (3, 24, 24) and torch.equal(a[0], b[0])
    ds.set_epoch(1)
    assert not torch.equal(ds[1][0], a[0])
    with pytest.raises(ValueError, match="smaller than crop"):
        SyntheticBlurDataset([photo], crop=90)


def test_validation_and_history(photo):
    val = SyntheticBlurDataset([photo], crop=32, length=2, seed=1, augment=False)
    train = SyntheticBlurDataset([photo], crop=32, length=4)
    net = tiny(SRNDeblur, epochs=2).fit_dataset(train, val)
    assert [h["epoch"] for h in net.history_] == [1, 2]
    assert all(np.isfinite(h["val_psnr"]) and h["loss"] > 0 for h in net.history_)


def test_deblurgan_perceptual_loss_needs_a_weights_file(photo, tmp_path):
    with pytest.raises(FileNotFoundError, match="VGG19"):
        tiny(DeblurGAN, vgg_weights=tmp_path / "vgg.pth").fit(photo, photo)


def test_size_is_validated(photo):
    with pytest.raises(ValueError, match="size"):
        SRNDeblur(size="huge").fit(photo, photo)


def _ddp_worker(rank, world, init_file, photo, out):
    torch.distributed.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank,
                                         world_size=world)
    try:
        train = SyntheticBlurDataset([photo], crop=32, length=4)
        net = tiny(SRNDeblur, precision="fp32").fit_dataset(train)
        torch.save({k: v.clone() for k, v in net.model_.state_dict().items()}, f"{out}.{rank}")
    finally:
        torch.distributed.destroy_process_group()


def test_distributed_data_parallel_with_gloo(tmp_path, photo):
    torch.multiprocessing.spawn(_ddp_worker, args=(2, tmp_path / "init", photo, tmp_path / "state"),
                                nprocs=2, join=True)
    a = torch.load(tmp_path / "state.0", weights_only=True)
    b = torch.load(tmp_path / "state.1", weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)  # replicas stay in sync


@pytest.mark.parametrize("cls", NETWORKS)
def test_onnx_export_matches_torch(cls, trained, tmp_path):
    pytest.importorskip("onnxruntime")
    diff = trained[cls].export_onnx(tmp_path / "net.onnx", example_size=(64, 64))
    assert (tmp_path / "net.onnx").exists() and diff < 1e-4
    odd = trained[cls].pad_multiple + 2 if trained[cls].pad_multiple > 2 else None
    if odd is not None:  # a network with a stride takes only its multiples
        with pytest.raises(ValueError, match="multiples"):
            trained[cls].export_onnx(tmp_path / "x.onnx", example_size=(odd, 64))


@pytest.mark.parametrize("grad", [False, True], ids=["inference", "training"])
def test_deblurgan_instance_norm_matches_torch_and_keeps_bf16_and_layout(grad):
    from pydeblur.nets.deblurgan import InstanceNorm

    x = torch.randn(2, 8, 33, 47) * 3 + 5
    reference = torch.nn.InstanceNorm2d(8)(x)
    for layout in (torch.contiguous_format, torch.channels_last):
        y = x.contiguous(memory_format=layout).requires_grad_(grad)
        torch.testing.assert_close(InstanceNorm(8)(y), reference, atol=1e-5, rtol=1e-5)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = InstanceNorm(8)(y.bfloat16())
        assert low.dtype == torch.bfloat16 and (low.float() - reference).abs().max() < 0.05
        assert low.is_contiguous(memory_format=layout)


def test_deblurgan_instance_norm_gradient_matches_torch():
    from pydeblur.nets.deblurgan import InstanceNorm

    x = (torch.randn(2, 8, 17, 19) * 2 + 1).requires_grad_()
    weights = torch.randn(2, 8, 17, 19)
    (InstanceNorm(8)(x) * weights).sum().backward()
    ours, x.grad = x.grad, None
    (torch.nn.InstanceNorm2d(8)(x) * weights).sum().backward()
    torch.testing.assert_close(ours, x.grad, atol=1e-5, rtol=1e-4)


def test_deblurgan_dropout_keeps_or_zeroes_and_rescales():
    from pydeblur.nets.deblurgan import Dropout

    x = torch.ones(4, 16, 32, 32)
    layer = Dropout(0.5)
    out = layer(x)
    assert set(out.unique().tolist()) == {0.0, 2.0} and abs(float((out == 0).float().mean()) - 0.5) < 0.02
    assert torch.equal(layer.eval()(x), x)
    assert torch.equal(Dropout(1.0)(x), torch.nn.Dropout(1.0)(x))


def test_deblurgan_reflection_pad_keeps_bf16_under_autocast():
    from pydeblur.nets.deblurgan import ReflectionPad

    x = torch.randn(1, 4, 9, 11).bfloat16().contiguous(memory_format=torch.channels_last)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        padded = ReflectionPad(2)(x)
    assert padded.dtype == torch.bfloat16
    assert torch.equal(padded, torch.nn.functional.pad(x.float(), (2, 2, 2, 2), mode="reflect").bfloat16())


def test_warm_start_fine_tunes_from_the_loaded_weights(tmp_path, trained, photo):
    blurry = np.clip(photo * 0.9, 0, 1).astype(np.float32)
    path = trained[SRNDeblur].save(tmp_path / "srn.safetensors")
    start = {k: v.clone() for k, v in SRNDeblur.from_pretrained(path).model_.state_dict().items()}
    tuned = SRNDeblur.from_pretrained(path, warm_start=True, lr=0.0, **TINY).fit(blurry, photo)
    for name, value in tuned.model_.state_dict().items():  # lr 0: the loaded weights, unchanged
        torch.testing.assert_close(value, start[name])
    fresh = SRNDeblur(lr=0.0, **TINY).fit(blurry, photo)
    assert any(not torch.equal(v, start[k]) for k, v in fresh.model_.state_dict().items())
    with pytest.raises(ValueError, match="from_pretrained"):
        SRNDeblur(warm_start=True, **TINY).fit(blurry, photo)
    with pytest.raises(ValueError, match="size"):
        SRNDeblur.from_pretrained(path, warm_start=True, size="paper", **TINY).fit(blurry, photo)


ARCHITECTURES = {"srn": SRNDeblur, "deepdeblur": DeepDeblur, "deblurgan": DeblurGAN, "nafnet": NAFNetDeblur,
                 "baseline": BaselineCNN}
NETWORK_NAMES = [n for n in shipped_names() if n.split("-")[0] in ARCHITECTURES]


@pytest.mark.parametrize("name", NETWORK_NAMES)
def test_shipped_networks_are_trained(name):
    from pydeblur import psf
    from pydeblur.metrics import psnr
    from pydeblur.synth import degrade

    cls = ARCHITECTURES[name.split("-")[0]]
    net = cls.from_pretrained(name, precision="fp32")
    assert net.config_["architecture"] == cls.architecture and net.history_
    sharp = sample_image("astronaut")[40:200, 120:280]
    blurry, sharp, _ = degrade(sharp, psf=psf.trajectory(11, rng=3), noise_sigma=0.01, rng=0)
    assert psnr(np.clip(net.restore(blurry), 0, 1), sharp) > psnr(blurry, sharp) + 0.2  # random weights lose


def _unfused_restore(net, image):
    device = torch.device("cpu")
    precision = resolve_precision(net.precision, device)
    return restore_image(net.model_, image, multiple=net.pad_multiple, device=device, precision=precision,
                         tile=net.tile, overlap=net.tile_overlap)


@pytest.mark.parametrize("cls", NETWORKS)
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_fused_inference_computes_what_the_network_does(cls, precision, trained):
    net = trained[cls]
    image = np.random.default_rng(3).random((40, 52, 3), dtype=np.float32)
    try:
        net.set_params(precision=precision)
        fused, plain = net.restore(image), _unfused_restore(net, image)
    finally:
        net.set_params(precision="auto")
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    if fused_convolutions_available(torch.device("cpu"), dtype):
        assert isinstance(net._fused[2], torch.nn.Module) and net._fused[2] is not net.model_
        assert net._fused[1][0] == dtype
    else:  # no oneDNN bf16 kernels on this CPU: the plain network ran, and gave the same result
        assert getattr(net, "_fused", (None, (None,)))[1][0] != dtype
    # fp32: the same arithmetic; bf16: the fused kernels round once where autocast rounded twice
    np.testing.assert_allclose(fused, plain, atol=1e-5 if precision == "fp32" else 0.03)


def test_fusion_absorbs_relus_and_skips_and_leaves_the_network_alone():
    from pydeblur.nets._blocks import ResBlock
    from pydeblur.nets.fusion import FusedConv, FusedResBlock, fuse_for_inference

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), ResBlock(8, kernel=3),
                                torch.nn.Conv2d(8, 3, 3, padding=1, padding_mode="reflect"))
    fused = fuse_for_inference(model, torch.float32)
    assert isinstance(fused[0], FusedConv) and fused[0].relu
    assert isinstance(fused[1], torch.nn.Identity) and isinstance(fused[2], FusedResBlock)
    assert type(fused[3]) is torch.nn.Conv2d  # reflect padding: oneDNN pads with zeros only
    assert type(model[0]) is torch.nn.Conv2d and isinstance(model[2], ResBlock)
    assert all(p.requires_grad for p in model.parameters())
    x = torch.rand(2, 3, 20, 24)
    with torch.inference_mode():
        np.testing.assert_allclose(fused(x).numpy(), model(x).numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="only zero-padded"):
        FusedConv(model[3], torch.float32)


def test_fused_copy_follows_weight_changes(trained):
    net = trained[SRNDeblur]
    image = np.random.default_rng(4).random((36, 44, 3), dtype=np.float32)
    before = net.restore(image)
    saved = {k: v.clone() for k, v in net.model_.state_dict().items()}
    try:
        with torch.no_grad():
            net.model_.out_block[-1].bias.add_(0.25)  # in place, as an optimiser step does
        after, plain = net.restore(image), _unfused_restore(net, image)
    finally:
        net.model_.load_state_dict(saved)
    np.testing.assert_allclose(after, plain, atol=0.03)
    assert np.abs(after - before).mean() > 0.2


def test_every_registered_network_ships_weights():
    from pydeblur.methods import METHODS, make, names

    assert {METHODS[n].weights for n in names("network")} - {None} <= set(shipped_names())
    with pytest.raises(ValueError, match="ships no weights"):
        make("baseline")


def test_local_mean_is_the_window_mean_kept_inside_the_image():
    from pydeblur.nets.nafnet import local_mean

    x = torch.rand(1, 2, 19, 23, dtype=torch.float64)
    out = local_mean(x, (5, 8))
    for i, j in [(0, 0), (9, 11), (18, 22), (3, 20)]:
        top, left = min(max(i - 2, 0), 19 - 5), min(max(j - 3, 0), 23 - 8)
        expected = x[..., top : top + 5, left : left + 8].mean(dim=(-2, -1))
        torch.testing.assert_close(out[..., i, j], expected)
    torch.testing.assert_close(local_mean(x, (40, 40)), x.mean(dim=(-2, -1), keepdim=True))


def test_nafnet_pools_locally_only_beyond_its_training_window():
    from pydeblur.nets.nafnet import NAFNet

    torch.manual_seed(0)
    net = NAFNet(width=8, encoder_blocks=(1, 1), middle_blocks=1, decoder_blocks=(1, 1), pool_window=32)
    net.eval()
    for p in net.parameters():  # a fresh block is the identity; give the attention something to do
        torch.nn.init.normal_(p, std=0.2)
    small, large = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        local_small, local_large = net(small)[0], net(large)[0]
        net.set_pool_window(None)
        global_small, global_large = net(small)[0], net(large)[0]
    torch.testing.assert_close(local_small, global_small)
    assert (local_large - global_large).abs().max() > 1e-3


def test_nafnet_config_records_the_pool_window_of_its_largest_crop(photo):
    net = tiny(NAFNetDeblur, crop_size=(32, 48), epochs=2).fit(photo, photo)
    assert net.config_["pool_window"] == 72
    assert [entry["crop"] for entry in net.history_] == [32, 48]
    assert net.model_.decoders[-1][0].attention.window == (72, 72)


def test_growing_crops_need_a_dataset_that_can_change_them(photo):
    class Fixed(torch.utils.data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return torch.rand(3, 32, 32), torch.rand(3, 32, 32)

    with pytest.raises(ValueError, match="set_crop"):
        tiny(SRNDeblur, crop_size=(32, 48)).fit_dataset(Fixed())
    with pytest.raises(ValueError, match="crop_size"):
        tiny(SRNDeblur, crop_size=()).fit(photo, photo)


def test_weight_average_follows_its_formula():
    from pydeblur.nets.ema import WeightAverage

    model = torch.nn.Linear(3, 2)
    average = WeightAverage(model, decay=0.9)
    expected = [p.detach().clone() for p in model.parameters()]
    for t in range(1, 30):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))
        average.update(model)
        d = min(0.9, (1 + t) / (10 + t))
        expected = [d * e + (1 - d) * p.detach() for e, p in zip(expected, model.parameters(), strict=True)]
    for kept, wanted in zip(average.model.parameters(), expected, strict=True):
        torch.testing.assert_close(kept, wanted)


def test_kept_weights_are_the_moving_average(photo):
    blurry = np.clip(photo * 0.9, 0, 1).astype(np.float32)
    last = tiny(BaselineCNN, ema_decay=0.0, steps_per_epoch=4).fit(blurry, photo)
    averaged = tiny(BaselineCNN, ema_decay=0.5, steps_per_epoch=4).fit(blurry, photo)
    ends = last.model_.state_dict()
    assert any(not torch.equal(v, ends[k]) for k, v in averaged.model_.state_dict().items())
    frozen = tiny(BaselineCNN, ema_decay=0.5, steps_per_epoch=4, lr=0.0).fit(blurry, photo)
    initial = tiny(BaselineCNN, ema_decay=0.0, steps_per_epoch=4, lr=0.0).fit(blurry, photo)
    for name, value in frozen.model_.state_dict().items():  # an average of unchanged weights is them
        torch.testing.assert_close(value, initial.model_.state_dict()[name])


@pytest.mark.parametrize("params,match", [({"loss": "huber"}, "loss"),
                                          ({"frequency_weight": -1}, "frequency"),
                                          ({"ema_decay": 1.0}, "ema_decay"), ({"warmup_steps": -2}, "warmup"),
                                          ({"weight_decay": -1.0}, "weight_decay"),
                                          ({"checkpoint_dtype": "bfloat16"}, "checkpoint_dtype")])
def test_training_parameters_are_validated(params, match, photo):
    with pytest.raises((ValueError, TypeError), match=match):
        tiny(BaselineCNN, **params).fit(photo, photo)


def test_float16_checkpoints_are_smaller_and_resume(tmp_path, photo):
    blurry = np.clip(photo * 0.9, 0, 1).astype(np.float32)
    tiny(BaselineCNN, checkpoint_dir=tmp_path / "full").fit(blurry, photo)
    tiny(BaselineCNN, checkpoint_dir=tmp_path / "half", checkpoint_dtype="float16").fit(blurry, photo)
    full, half = ((tmp_path / d / "checkpoint.safetensors").stat().st_size for d in ("full", "half"))
    assert half < 0.6 * full
    resumed = tiny(BaselineCNN, checkpoint_dir=tmp_path / "half", checkpoint_dtype="float16", epochs=2)
    resumed.fit(blurry, photo)
    assert len(resumed.history_) == 2
    assert all(p.dtype == torch.float32 for p in resumed.model_.parameters())


def test_losses_vanish_only_at_the_target():
    from pydeblur.nets.losses import charbonnier_loss, frequency_loss, multiscale_content_loss

    x = torch.rand(2, 3, 16, 16)
    y = x + 0.1 * torch.randn_like(x)
    assert frequency_loss(x, x) == 0 and frequency_loss(x, y) > 0
    assert charbonnier_loss(x, x) == pytest.approx(1e-3) and charbonnier_loss(x, y) > 0.05
    plain = multiscale_content_loss([y], x, kind="l1")
    assert multiscale_content_loss([y], x, kind="l1", frequency_weight=0.5) == pytest.approx(
        float(plain + 0.5 * frequency_loss(y, x)), rel=1e-5)


def test_recipe_dataset_gives_aligned_crops_of_every_size(photo):
    from pydeblur.synth import BlurRecipe

    big = np.pad(photo, ((40, 40), (40, 40), (0, 0)), mode="reflect")
    ds = SyntheticBlurDataset([big], crop=48, length=6, recipe=BlurRecipe(kernel_sizes=(3, 21)), seed=1)
    items = [ds[i] for i in range(6)]
    assert all(b.shape == s.shape == (3, 48, 48) for b, s in items)
    torch.testing.assert_close(ds[2][0], items[2][0])
    ds.set_crop(64)
    assert ds[0][0].shape == (3, 64, 64)
    with pytest.raises(ValueError, match="smaller than crop"):
        ds.set_crop(150)
    with pytest.raises(ValueError, match="not both"):
        SyntheticBlurDataset([big], recipe=BlurRecipe(), noise_sigma=(0, 0.01))


def test_int8_onnx_export_is_smaller_and_close(trained, tmp_path, photo):
    pytest.importorskip("onnxruntime")
    import onnxruntime

    net = trained[SRNDeblur]
    net.export_onnx(tmp_path / "fp32.onnx")
    calibration = [photo, photo[::-1].copy()]
    error = net.export_onnx(tmp_path / "int8.onnx", quantize="int8", calibration=calibration)
    assert (tmp_path / "int8.onnx").stat().st_size < 0.6 * (tmp_path / "fp32.onnx").stat().st_size
    session = onnxruntime.InferenceSession(str(tmp_path / "int8.onnx"), providers=["CPUExecutionProvider"])
    x = np.ascontiguousarray(photo[:64, :64].transpose(2, 0, 1)[None])
    out = session.run(None, {"blurry": x})[0]
    reference = net.restore(photo[:64, :64]).transpose(2, 0, 1)[None]
    assert 0 < error < 0.5 and np.abs(out - reference).mean() < 0.02
    with pytest.raises(ValueError, match="calibration"):
        net.export_onnx(tmp_path / "x.onnx", quantize="int8")
    with pytest.raises(ValueError, match="quantize"):
        net.export_onnx(tmp_path / "x.onnx", quantize="int4", calibration=calibration)
    with pytest.raises(ValueError, match="smaller than"):
        net.export_onnx(tmp_path / "x.onnx", quantize="int8", calibration=[photo[:2, :2]])
    with pytest.raises(FileExistsError, match="overwrite"):
        net.export_onnx(tmp_path / "int8.onnx", quantize="int8", calibration=calibration)
    assert not (tmp_path / "x.onnx").exists()


def test_export_command(trained, tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    from pydeblur.cli import main

    weights = trained[DeepDeblur].save(tmp_path / "dd.safetensors")
    assert main(["export", str(weights), str(tmp_path / "dd.onnx")]) == 0
    assert "fp32" in capsys.readouterr().out and (tmp_path / "dd.onnx").exists()
    photos = tmp_path / "photos"
    photos.mkdir()
    from pydeblur.io import imwrite

    imwrite(photos / "a.png", sample_image("coffee")[:96, :96])
    int8 = ["export", str(weights), str(tmp_path / "dd8.onnx"), "--int8", "--calibration", str(photos)]
    assert main(int8) == 0
    assert "int8" in capsys.readouterr().out
    assert main(["export", str(weights), str(tmp_path / "dd.onnx")]) == 1  # exists
    assert main(["export", str(weights), str(tmp_path / "dd.txt")]) == 2
    assert main(["export", str(weights), str(tmp_path / "z.onnx"), "--calibration", str(photos)]) == 2
    assert main(["export", "denoiser", str(tmp_path / "den.onnx")]) == 1  # not a deblurring network
