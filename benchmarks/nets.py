"""Deep networks: quality on BSDS val, bf16 vs fp32, throughput, and tiled memory.

Quality: BSDS500 *val* photos (centre 256x256 crops) blurred ('valid') with random
camera-shake trajectories up to 21 px and 1 % Gaussian noise; every shipped network
restores them in fp32 and in bf16. The classical references are pydeblur's blind
deconvolution (no PSF, like the networks) and its hyper-Laplacian given the *true*
PSF. PSNR / SSIM after the best integer shift within 10 px, 15 px border, for all.

Speed: megapixels per second of ``restore`` on a 1280x720 float frame for each
architecture (small and paper size) with ``precision="auto"`` (bf16 + channels-last
here) and the default tiling (1024 px tiles, 32 px overlap: two tiles of 656x720), eager
(with the fused convolutions of pydeblur.nets.fusion) and with ``compile=True``, against
a plain fp32 eager forward of the same network on the whole frame (no tiling, no
channels-last, no fusion), all in one run: the three are timed in turn, round after
round, and each keeps its best round, so a slow spell of the shared machine hits all
three. Weights do not change speed, so untrained networks are timed.

Memory: peak RSS growth (VmHWM reset just before) restoring a 4000x3000 RGB image through
the default 1024 px tiles.

Real blur (--real): BSDS500 *val* photos (centre 256x256 crops) blurred ('valid') by the
8 real camera-shake kernels of the Levin et al. 2009 development half
(``levin09_dev/kernels``, recorded, not drawn by any generator the networks trained on)
with 1 % Gaussian noise, and the real dynamic-scene pairs of ``gopro_dev`` (1280x720,
frame averages). Every shipped network in its default ``precision="auto"``; PSNR after
the best shift (synthetic set) and pixel for pixel (GoPro), gain over the blurry input.
The 3-layer baseline (``BaselineCNN``, no shipped weights) is trained first on the same
recipe as nafnet-small for 600 steps (minutes), or loaded with ``--baseline FILE`` (the
file ``pydeblur train baseline ... --recipe`` writes).

ONNX (--onnx): every shipped network exported to fp32 ONNX and to int8 ONNX (static
quantisation calibrated on four scikit-image photos, 256 px crops), run by onnxruntime on
a real 1280x720 GoPro frame against torch ``precision="auto"``: PSNR of each against the
torch fp32 output, seconds per frame (best of three), file size.

Training (only with --training): seconds per optimisation step with ``precision="auto"``
at the shipped networks' settings (batch 8, 128x128 crops; DeblurGAN with 5 critic steps
per generator step), small and paper size; the first epoch is a warm-up.

    python benchmarks/nets.py [BSDS_ROOT] [--quick] [--quality] [--real] [--onnx] [--speed] [--memory]
                              [--training]

(no section flag runs quality, speed and memory into results/nets.md; with flags, only
those sections run, into results/nets_<sections>.md.)
"""

import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch
from _common import PEAK_RSS_CODE, markdown_table, report

from pydeblur import psf, sample_image
from pydeblur.blind import blind_deconvolve
from pydeblur.io import imread, list_images
from pydeblur.metrics import psnr, psnr_upto_shift, ssim_upto_shift
from pydeblur.nets import (
    BaselineCNN,
    DeblurGAN,
    DeepDeblur,
    NAFNetDeblur,
    SRNDeblur,
    SyntheticBlurDataset,
    shipped_names,
)
from pydeblur.restoration import hyper_laplacian
from pydeblur.synth import degrade

ARGS = [a for i, a in enumerate(sys.argv[1:]) if not a.startswith("--") and sys.argv[i] != "--baseline"]
QUICK = "--quick" in sys.argv
ROOT = Path(ARGS[0]) if ARGS else Path(__file__).resolve().parents[2] / "shared/data/bsds500"
CLASSES = {"srn": SRNDeblur, "deepdeblur": DeepDeblur, "deblurgan": DeblurGAN, "nafnet": NAFNetDeblur,
           "baseline": BaselineCNN}
DATA = Path(__file__).resolve().parents[2] / "shared/data"
BLIND_PRIORS = ("l0",) if QUICK else ("l0", "learned")


def val_pairs(n):
    rng = np.random.default_rng(7)
    pairs = []
    for i, path in enumerate(list_images(ROOT / "val")[:n]):
        photo = imread(path)
        top, left = (photo.shape[0] - 256) // 2, (photo.shape[1] - 256) // 2
        crop = photo[top : top + 276, left : left + 276]
        kernel = psf.trajectory(length=rng.uniform(8, 30), rng=rng)
        if kernel.shape[0] > 21:
            kernel = psf.trajectory(21, length=rng.uniform(8, 30), rng=i)
        blurry, sharp, _ = degrade(crop, psf=kernel, noise_sigma=0.01, rng=i)
        pairs.append((blurry, sharp, kernel))
    return pairs


def _scores(outputs, pairs):
    """Mean PSNR and SSIM after the best shift within 10 px (15 px border), as for blind methods."""
    return (np.mean([psnr_upto_shift(o, s) for o, (_, s, _) in zip(outputs, pairs, strict=True)]),
            np.mean([ssim_upto_shift(o, s) for o, (_, s, _) in zip(outputs, pairs, strict=True)]))


def quality():
    pairs = val_pairs(8 if QUICK else 50)
    rows = []
    for label, outputs, seconds in (
        ("blurry input", [b for b, _, _ in pairs], None),
        ("hyper_laplacian, true PSF (classical non-blind reference)",
         [hyper_laplacian(b, k, clip=True) for b, _, k in pairs], None),
        *_blind_rows(pairs),
    ):
        p, s = _scores(outputs, pairs)
        rows.append((label, f"{p:.2f}", f"{s:.3f}", "", "" if seconds is None else f"{seconds:.2f}"))
    for name in shipped_names():
        if name.split("-")[0] not in CLASSES:
            continue
        cls = CLASSES[name.split("-")[0]]
        results = {}
        for precision in ("fp32", "bf16"):
            net = cls.from_pretrained(name, precision=precision)
            start = time.perf_counter()
            outs = [np.clip(net.restore(b), 0, 1) for b, _, _ in pairs]
            results[precision] = (outs, time.perf_counter() - start)
        p32, _ = _scores(results["fp32"][0], pairs)
        p16, s16 = _scores(results["bf16"][0], pairs)
        rows.append((f"{name} (bf16)", f"{p16:.2f}", f"{s16:.3f}", f"{p16 - p32:+.3f}",
                     f"{results['bf16'][1] / len(pairs):.2f}"))
    return markdown_table(["method", "PSNR (dB)", "SSIM", "bf16 - fp32 (dB)", "s / image"], rows)


def real_kernel_pairs(n):
    """BSDS val crops blurred ('valid', 1 % noise) by the recorded Levin development kernels."""
    kernels = [np.load(p, allow_pickle=False) for p in sorted((DATA / "levin09_dev/kernels").glob("*.npy"))]
    pairs = []
    for i, path in enumerate(list_images(ROOT / "val")[:n]):
        photo, kernel = imread(path), kernels[i % len(kernels)]
        margin = kernel.shape[0] - 1
        top, left = (photo.shape[0] - 256 - margin) // 2, (photo.shape[1] - 256 - margin) // 2
        crop = photo[top : top + 256 + margin, left : left + 256 + margin]
        blurry, sharp, _ = degrade(crop, psf=kernel, noise_sigma=0.01, rng=i)
        pairs.append((blurry, sharp, kernel))
    return pairs


def gopro_pairs():
    folder = DATA / "gopro_dev"
    blurry = sorted((folder / "blur").glob("*.png"))
    return [(imread(path), imread(folder / "sharp" / path.name)) for path in blurry]


def baseline_network():
    """The 3-layer baseline: loaded from --baseline FILE, or trained here on the networks' recipe."""
    from pydeblur.synth import BlurRecipe

    if "--baseline" in sys.argv:
        return BaselineCNN.from_pretrained(sys.argv[sys.argv.index("--baseline") + 1]), "--baseline file"
    train = SyntheticBlurDataset([ROOT / "train", ROOT / "test"], crop=128, length=100 * 8,
                                 recipe=BlurRecipe())
    steps = 1 if QUICK else 6
    net = BaselineCNN(epochs=steps, steps_per_epoch=100, batch_size=8, progress=False).fit_dataset(train)
    return net, f"trained here, {steps * 100} steps"


def real():
    synthetic = real_kernel_pairs(8 if QUICK else 32)
    gopro = gopro_pairs()[:1 if QUICK else None]
    base_synthetic = np.mean([psnr_upto_shift(b, s) for b, s, _ in synthetic])
    base_gopro = np.mean([psnr(b, s) for b, s in gopro])
    rows = [("blurry input", f"{base_synthetic:.2f}", "", f"{base_gopro:.2f}", "", "")]
    reference = np.mean([psnr_upto_shift(hyper_laplacian(b, k, clip=True), s) for b, s, k in synthetic])
    rows.append(("hyper_laplacian, true PSF (non-blind reference)", f"{reference:.2f}",
                 f"{reference - base_synthetic:+.2f}", "", "", ""))
    networks = [(name, CLASSES[name.split("-")[0]].from_pretrained(name)) for name in shipped_names()
                if name.split("-")[0] in CLASSES]
    baseline, how = baseline_network()
    for name, net in [*networks, (f"BaselineCNN (3 layers, {how})", baseline)]:
        p = np.mean([psnr_upto_shift(np.clip(net.restore(b), 0, 1), s) for b, s, _ in synthetic])
        start = time.perf_counter()
        g = np.mean([psnr(np.clip(net.restore(b), 0, 1), s) for b, s in gopro])
        seconds = (time.perf_counter() - start) / len(gopro)
        rows.append((name, f"{p:.2f}", f"**{p - base_synthetic:+.2f}**", f"{g:.2f}",
                     f"**{g - base_gopro:+.2f}**", f"{seconds:.1f}"))
    header = [f"method ({len(synthetic)} BSDS val crops x Levin kernels / {len(gopro)} GoPro frames)",
              "Levin kernels PSNR (dB)", "gain", "GoPro PSNR (dB)", "gain", "s / GoPro frame"]
    return markdown_table(header, rows)


def onnx_rows():
    import tempfile

    import onnxruntime

    from pydeblur.cli.export import DEFAULT_CALIBRATION

    frame = gopro_pairs()[0][0]
    calibration = [sample_image(n)[:256, :256] for n in DEFAULT_CALIBRATION]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name in shipped_names():
            if name.split("-")[0] not in CLASSES:
                continue
            cls = CLASSES[name.split("-")[0]]
            reference = cls.from_pretrained(name, precision="fp32", tile=None).restore(frame)
            auto = cls.from_pretrained(name, tile=None)
            t_auto = min(_timed(partial(auto.restore, frame)) for _ in range(3))
            agreement = psnr(np.clip(auto.restore(frame), 0, 1), np.clip(reference, 0, 1))
            rows.append((name, "torch auto", f"{agreement:.1f}", f"{t_auto:.2f}", ""))
            for kind, options in (("fp32", {}), ("int8", {"quantize": "int8", "calibration": calibration})):
                path = Path(folder) / f"{name}-{kind}.onnx"
                auto.export_onnx(path, **options)
                session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
                m = auto.pad_multiple
                h, w = frame.shape[0] // m * m, frame.shape[1] // m * m
                x = np.ascontiguousarray(frame[:h, :w].transpose(2, 0, 1)[None])
                run = partial(session.run, None, {"blurry": x})
                seconds = min(_timed(run) for _ in range(3))
                out = np.clip(run()[0][0].transpose(1, 2, 0), 0, 1)
                rows.append((name, f"ONNX {kind}", f"{psnr(out, np.clip(reference[:h, :w], 0, 1)):.1f}",
                             f"{seconds:.2f}", f"{path.stat().st_size / 1e6:.1f}"))
    header = ["network", "runtime", "PSNR vs torch fp32 (dB)", "s / 1280x720 frame", "file (MB)"]
    return markdown_table(header, rows)


def _blind_rows(pairs):
    """The classical blind method (no PSF) on the same images, for each prior in BLIND_PRIORS."""
    for prior in BLIND_PRIORS:
        start = time.perf_counter()
        outputs = [blind_deconvolve(b, 25, prior=prior, clip=True)[0] for b, _, _ in pairs]
        yield f"blind_deconvolve, prior={prior!r} (classical, no PSF)", outputs, \
            (time.perf_counter() - start) / len(pairs)


def _untrained(cls, size, **params):
    """A network with fresh weights, ready to restore (weights do not change speed)."""
    net = cls(size=size, **params)
    net.config_ = net._config()
    net.model_ = net._build(net.config_).eval()
    return net


def throughput():
    frame = np.random.default_rng(0).random((720, 1280, 3), dtype=np.float32)
    rows = [_speed_row(name, cls, size, frame)
            for name, cls in CLASSES.items() for size in ("small", "paper") if size in cls.sizes]
    header = ["network", "size", "fp32 eager forward s/frame", "restore, auto s/frame", "MP/s", "speed-up",
              "restore, auto + compile s/frame", "MP/s", "speed-up", "first call (compiling) s"]
    return markdown_table(header, rows)


def _speed_row(name, cls, size, frame):
    net = _untrained(cls, size, precision="auto")
    compiled = _untrained(cls, size, precision="auto", compile=True)
    compiled.model_.load_state_dict(net.model_.state_dict())
    batch = torch.from_numpy(frame.transpose(2, 0, 1).copy())[None]
    repeat = 1 if QUICK else 2 if size == "paper" else 4

    def plain():
        with torch.inference_mode():
            net.model_(batch)

    net.restore(frame)
    t_compile = _timed(lambda: compiled.restore(frame))  # the first call compiles
    rounds = [(_timed(plain), _timed(lambda: net.restore(frame)), _timed(lambda: compiled.restore(frame)))
              for _ in range(repeat)]  # interleaved, so a slow spell of the machine hits all three
    t_plain, t_fast, t_compiled = (min(times) for times in zip(*rounds, strict=True))
    mp = frame.shape[0] * frame.shape[1] / 1e6
    return (name, size, f"{t_plain:.2f}",
            f"{t_fast:.2f}", f"{mp / t_fast:.3f}", f"**{t_plain / t_fast:.1f}x**",
            f"{t_compiled:.2f}", f"{mp / t_compiled:.3f}", f"**{t_plain / t_compiled:.1f}x**",
            f"{t_compile:.0f}")


def _timed(func):
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


MEMORY_CODE = PEAK_RSS_CODE + """
import numpy as np
from pydeblur.nets import {cls}
net = {cls}(size="{size}")
net.config_ = net._config()
net.model_ = net._build(net.config_).eval()
image = np.full((3000, 4000, 3), 0.5, dtype=np.float32)  # no temporaries before the baseline
before = reset_peak()
net.restore(image)
print((rss_kb("VmHWM") - before) / 1024)
"""


def memory():
    rows = []
    for cls in CLASSES.values():
        row = [cls.__name__]
        for size in ("small", "paper"):
            if size not in cls.sizes:
                row.append("(one size)")
                continue
            code = MEMORY_CODE.format(cls=cls.__name__, size=size)
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True).stdout
            row.append(f"{float(out.split()[-1]):.0f}")
        rows.append(row)
    header = ["network (default 1024 px tiles)", "small: peak growth over the image (MB)", "paper (MB)"]
    return markdown_table(header, rows)


def training_speed():
    sharp = sample_image("astronaut")
    blurry = np.clip(sharp + 0.02, 0, 1).astype(np.float32)  # content does not change speed
    steps = 1 if QUICK else 3
    rows = []
    for name, cls in CLASSES.items():
        for size in ("small", "paper"):
            if size not in cls.sizes:
                continue
            net = cls(size=size, precision="auto", epochs=2, steps_per_epoch=steps, batch_size=8,
                      crop_size=128, progress=False).fit(blurry, sharp)
            seconds = net.history_[-1]["seconds"] / steps
            rows.append((name, size, f"{seconds:.2f}", f"{3600 / seconds:.0f}"))
    return markdown_table(["network", "size", "s / step (auto)", "steps / hour"], rows)


SECTIONS = {
    "quality": ("### Quality: BSDS val, trajectory blur <= 21 px, 1 % noise\n", quality),
    "real": ("### Real blur: recorded camera-shake kernels (Levin 2009) and GoPro frames\n", real),
    "onnx": ("### ONNX fp32 and int8 vs torch on a 1280x720 frame, 2 CPU cores\n", onnx_rows),
    "speed": ("### Speed: 1280x720 frame, 2 CPU cores (auto = bf16 + channels-last here)\n", throughput),
    "memory": ("### Memory: 4000x3000 RGB through tiles\n", memory),
    "training": ("### Training step: batch 8, 128x128 crops, 2 CPU cores\n", training_speed),
}
DEFAULT_SECTIONS = ("quality", "speed", "memory")


def main():
    chosen = [name for name in SECTIONS if f"--{name}" in sys.argv] or list(DEFAULT_SECTIONS)
    parts = [f"{SECTIONS[name][0]}\n{SECTIONS[name][1]()}\n" for name in chosen]
    default = tuple(chosen) == DEFAULT_SECTIONS
    command = "python benchmarks/nets.py" + "".join("" if default else f" --{n}" for n in chosen)
    report("nets" if default else "nets_" + "_".join(chosen), "Deep networks",
           "\n".join(parts), command)


if __name__ == "__main__":
    main()
