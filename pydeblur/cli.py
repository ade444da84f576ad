"""The ``pydeblur`` command.

Exit codes: 0 success, 1 the command failed (bad input, unreadable file, refused
overwrite), 2 the command line itself was wrong, 3 ``restore`` failed on some files.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _write_psf(kernel: np.ndarray, outputs: list[Path], *, scale: int, overwrite: bool) -> None:
    import io

    from .io import imwrite, write_bytes_atomic
    from .psf import to_image

    for out in outputs:
        suffix = out.suffix.lower()
        if suffix == ".npy":
            buffer = io.BytesIO()
            np.save(buffer, kernel)
            write_bytes_atomic(out, buffer.getvalue(), overwrite=overwrite)
        elif suffix in (".png", ".tif", ".tiff"):
            imwrite(out, to_image(kernel, scale=scale), bit_depth=16, overwrite=overwrite)
        else:
            raise ValueError(f"{out}: a PSF is saved as .npy (exact) or .png / .tif (to view).")
        print(f"wrote {out}")


def _cmd_psf(args) -> int:
    from . import psf

    if args.family == "gaussian":
        sigma = args.sigma if args.sigma_across is None else (args.sigma, args.sigma_across)
        kernel = psf.gaussian(sigma, size=args.size, angle=args.angle)
    elif args.family == "defocus":
        kernel = psf.defocus(args.radius, size=args.size)
    elif args.family == "motion":
        kernel = psf.motion(args.length, args.angle, size=args.size)
    else:
        kernel = psf.trajectory(args.size, length=args.length, anxiety=args.anxiety,
                                exposure=args.exposure, rng=args.seed)
    _write_psf(kernel, args.output, scale=args.scale, overwrite=args.overwrite)
    print(f"{args.family} PSF {kernel.shape[0]}x{kernel.shape[1]}, sum {kernel.sum():.6f}")
    return EXIT_OK


def _cmd_synth(args) -> int:
    from .synth import PSFSampler, synthesize_folder

    sampler = PSFSampler(args.families, max_size=args.max_size)
    start = time.perf_counter()
    manifest = synthesize_folder(
        args.sharp_dir, args.out_dir, per_image=args.per_image, seed=args.seed, sampler=sampler,
        noise_sigma=args.noise_sigma, poisson_peak=args.poisson_peak, gamma=args.gamma,
        exposure=args.exposure, jpeg_quality=args.jpeg_quality, boundary=args.boundary,
        bit_depth=args.bit_depth, progress=not args.no_progress,
    )
    print(f"{len(manifest)} pairs in {args.out_dir} ({time.perf_counter() - start:.1f} s); "
          f"manifest: {Path(args.out_dir) / 'manifest.json'}")
    return EXIT_OK


def _cmd_demo(args) -> int:
    from . import psf
    from ._figures import montage
    from .blind import blind_deconvolve
    from .datasets import sample_image
    from .io import imwrite
    from .metrics import kernel_similarity, psnr_upto_shift, ssim_upto_shift
    from .restoration import hyper_laplacian, wiener
    from .synth import degrade

    sharp = sample_image(args.image)
    kernel = psf.trajectory(length=25, rng=args.seed)
    blurry, target, _ = degrade(sharp, psf=kernel, noise_sigma=0.01, rng=args.seed)
    rows = [("blurry input", blurry, 0.0)]
    for name, method in (("wiener (true PSF)", wiener), ("hyper-Laplacian (true PSF)", hyper_laplacian)):
        start = time.perf_counter()
        restored = method(blurry, kernel, clip=True)
        rows.append((name, restored, time.perf_counter() - start))
    start = time.perf_counter()
    restored, estimate = blind_deconvolve(blurry, kernel.shape[0] + 4 | 1, clip=True)
    rows.append(("blind, L0 prior (no PSF)", restored, time.perf_counter() - start))
    try:
        from .nets import SRNDeblur, shipped_names
    except ImportError:
        print("srn-small skipped: torch is not installed (python -m pip install \"pydeblur[torch]\")")
    else:
        if "srn-small" in shipped_names():
            start = time.perf_counter()
            restored = np.clip(SRNDeblur.from_pretrained("srn-small").restore(blurry), 0, 1)
            rows.append(("srn-small (no PSF)", restored, time.perf_counter() - start))
    panels = [target, blurry] + [image for _, image, _ in rows[1:]]
    labels = ["sharp", "blurry + 1% noise"] + [name for name, _, _ in rows[1:]]
    print(f"{'method':<30}{'PSNR (dB)':>10}{'SSIM':>8}{'seconds':>9}")
    for name, image, seconds in rows:
        scores = psnr_upto_shift(image, target), ssim_upto_shift(image, target)
        print(f"{name:<30}{scores[0]:>10.2f}{scores[1]:>8.3f}{seconds:>9.2f}")
    print(f"estimated kernel: similarity {kernel_similarity(estimate, kernel):.3f} to the true one "
          "(PSNR / SSIM after the best shift within 10 px, 15 px border)")
    out = Path(args.output_dir)
    figure = imwrite(out / "demo.png", montage(panels, labels, psf=kernel), overwrite=True)
    print(f"wrote {figure}")
    return EXIT_OK


NETWORKS = ("srn", "deepdeblur", "deblurgan")


def _cmd_train(args) -> int:
    from .nets import DeblurGAN, DeepDeblur, PairDataset, SRNDeblur, SyntheticBlurDataset
    from .synth import PSFSampler

    if (args.sharp_dir is None) == (args.pairs_dir is None):
        raise ValueError("give exactly one of --sharp-dir (synthesise blur) or --pairs-dir (GoPro layout).")
    if args.output.exists() and not args.overwrite:
        raise FileExistsError(f"{args.output} already exists; pass --overwrite to replace it.")
    import os

    import torch

    cls = {"srn": SRNDeblur, "deepdeblur": DeepDeblur, "deblurgan": DeblurGAN}[args.network]
    device = args.device
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # launched by torchrun: one process per device
        use_cuda = torch.cuda.is_available() and (device is None or device.startswith("cuda"))
        torch.distributed.init_process_group("nccl" if use_cuda else "gloo")
        if use_cuda:
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
            torch.cuda.set_device(device)
    params = dict(precision=args.precision, device=device, epochs=args.epochs,
                  steps_per_epoch=args.steps_per_epoch, batch_size=args.batch_size, crop_size=args.crop,
                  lr=args.lr, checkpoint_dir=args.checkpoint_dir, seed=args.seed,
                  progress=not args.no_progress, num_workers=args.num_workers)
    if args.init_weights is not None:  # --size, if given, may only add ResBlocks (e.g. srn small -> medium)
        net = cls.from_pretrained(args.init_weights, warm_start=True, **params,
                                  **({"size": args.size} if args.size else {}))
        net._check_warm_start(net._config())  # before loading any data
    else:
        net = cls(size=args.size or "small", **params)
    length = args.steps_per_epoch * args.batch_size
    if args.sharp_dir is not None:
        sampler = PSFSampler(args.families, max_size=args.max_size)
        train = SyntheticBlurDataset(args.sharp_dir, crop=args.crop, length=length, sampler=sampler,
                                     noise_sigma=(0.0, args.max_noise), seed=args.seed)
        val = (SyntheticBlurDataset(args.val_dir, crop=args.val_crop, length=args.val_items,
                                    sampler=sampler, noise_sigma=(0.01, 0.01), augment=False,
                                    seed=args.seed + 1) if args.val_dir else None)
    else:
        train = PairDataset(args.pairs_dir, crop=args.crop, length=length, seed=args.seed)
        val = PairDataset(args.val_dir, crop=args.val_crop, augment=False) if args.val_dir else None
    start = time.perf_counter()
    net.fit_dataset(train, val)
    record = {"command": "pydeblur " + " ".join(sys.argv[1:]) if sys.argv else "",
              "wall_seconds": round(time.perf_counter() - start, 1),
              "precision": args.precision, "torch": __import__("torch").__version__}
    if not torch.distributed.is_initialized() or torch.distributed.get_rank() == 0:
        net.save(args.output, record=record, overwrite=args.overwrite, dtype=args.weights_dtype)
        print(f"wrote {args.output} after {record['wall_seconds']:.0f} s")
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    return EXIT_OK


def _cmd_train_prior(args) -> int:
    from .blind._learned import train_classifier

    record = train_classifier(args.sharp_dir, args.output, steps=args.steps, batch_size=args.batch_size,
                              crop=args.crop, width=args.width, lr=args.lr, max_size=args.max_size,
                              precision=args.precision, seed=args.seed, overwrite=args.overwrite,
                              command="pydeblur " + " ".join(sys.argv[1:]))
    print(f"wrote {args.output} after {record['wall_seconds']:.0f} s")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``pydeblur`` command."""
    from . import __version__
    from .synth import FAMILIES

    parser = argparse.ArgumentParser(
        prog="pydeblur", description="Image deconvolution: PSFs, blur synthesis, deblurring.")
    parser.add_argument("--version", action="version", version=f"pydeblur {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p_psf = commands.add_parser("psf", help="make a PSF and save it as .npy / .png",
                                description="Make a PSF and save it (.npy exact, .png to view).")
    families = p_psf.add_subparsers(dest="family", required=True, metavar="FAMILY")

    def family_parser(name, help_text):
        sub = families.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("-o", "--output", type=Path, action="append", required=True,
                         help="output .npy or .png path (repeat for both)")
        sub.add_argument("--size", type=int, help="kernel side in pixels (default: automatic)")
        sub.add_argument("--scale", type=int, default=1, help="enlarge the .png view by this factor")
        sub.add_argument("--overwrite", action="store_true", help="replace existing files")
        return sub

    sub = family_parser("gaussian", "Gaussian PSF, isotropic or anisotropic")
    sub.add_argument("--sigma", type=float, required=True, help="sigma (along --angle) in pixels")
    sub.add_argument("--sigma-across", type=float, help="sigma across --angle (anisotropic)")
    sub.add_argument("--angle", type=float, default=0.0, help="degrees counter-clockwise")
    sub = family_parser("defocus", "out-of-focus disk PSF")
    sub.add_argument("--radius", type=float, required=True, help="disk radius in pixels")
    sub = family_parser("motion", "linear motion PSF")
    sub.add_argument("--length", type=float, required=True, help="streak length in pixels")
    sub.add_argument("--angle", type=float, default=0.0, help="degrees counter-clockwise")
    sub = family_parser("trajectory", "random camera-shake PSF")
    sub.add_argument("--length", type=float, default=30.0, help="camera path length in pixels")
    sub.add_argument("--anxiety", type=float, default=0.005, help="strength of the shake")
    sub.add_argument("--exposure", type=float, default=1.0, help="fraction of the path exposed")
    sub.add_argument("--seed", type=int, default=0, help="random seed")

    p_synth = commands.add_parser(
        "synth", help="synthesise blurry/sharp pairs from a folder of sharp photos",
        description="Write blurry/sharp pairs in GoPro layout (OUT_DIR/<seq>/blur, sharp, "
                    "kernel, meta) plus manifest.json. Re-running resumes.")
    p_synth.add_argument("sharp_dir", type=Path, metavar="SHARP_DIR")
    p_synth.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    p_synth.add_argument("--per-image", type=int, default=1, help="pairs per photo")
    p_synth.add_argument("--seed", type=int, default=0, help="seed of the run")
    p_synth.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES),
                         help="PSF families to draw from")
    p_synth.add_argument("--max-size", type=int, default=31, help="largest kernel side (odd)")
    p_synth.add_argument("--noise-sigma", type=float, default=0.01, help="Gaussian noise sigma")
    p_synth.add_argument("--poisson-peak", type=float, help="photons at value 1 (shot noise)")
    p_synth.add_argument("--gamma", type=float, help="camera response exponent, e.g. 2.2")
    p_synth.add_argument("--exposure", type=float, default=1.0, help="gain before saturation")
    p_synth.add_argument("--jpeg-quality", type=int, help="JPEG quality 1-100")
    p_synth.add_argument("--boundary", default="valid",
                         choices=("valid", "reflect", "periodic", "zero"), help="blur boundary")
    p_synth.add_argument("--bit-depth", type=int, default=8, choices=(8, 16), help="PNG bit depth")
    p_synth.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    p_train = commands.add_parser(
        "train", help="train a deblurring network",
        description="Train SRN-DeblurNet, DeepDeblur or DeblurGAN on blur synthesised from sharp "
                    "photos (--sharp-dir) or on GoPro-layout pairs (--pairs-dir); writes safetensors.")
    p_train.add_argument("network", choices=NETWORKS)
    p_train.add_argument("-o", "--output", type=Path, required=True, help="weights file (.safetensors)")
    p_train.add_argument("--sharp-dir", type=Path, nargs="+", help="folder(s) of sharp photos")
    p_train.add_argument("--pairs-dir", type=Path, help="GoPro-layout folder of pairs")
    p_train.add_argument("--val-dir", type=Path, help="validation photos (or pairs) folder")
    p_train.add_argument("--val-items", type=int, default=16, help="validation crops per epoch")
    p_train.add_argument("--val-crop", type=int, default=192, help="validation crop size")
    p_train.add_argument("--size", choices=("small", "medium", "paper"),
                         help="network size (default small; medium: srn only, grown from small weights)")
    p_train.add_argument("--init-weights", help="fine-tune: start from these weights (shipped name or file)")
    p_train.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"))
    p_train.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: CUDA when available)")
    p_train.add_argument("--epochs", type=int, default=10)
    p_train.add_argument("--steps-per-epoch", type=int, default=200)
    p_train.add_argument("--batch-size", type=int, default=8)
    p_train.add_argument("--crop", type=int, default=128)
    p_train.add_argument("--lr", type=float, default=1e-4)
    p_train.add_argument("--families", nargs="+", choices=FAMILIES, default=["trajectory"])
    p_train.add_argument("--max-size", type=int, default=31, help="largest synthetic kernel (odd)")
    p_train.add_argument("--max-noise", type=float, default=0.02, help="largest noise sigma")
    p_train.add_argument("--num-workers", type=int, default=0)
    p_train.add_argument("--checkpoint-dir", type=Path, help="checkpoints; an existing one is resumed")
    p_train.add_argument("--seed", type=int, default=0)
    p_train.add_argument("--weights-dtype", default="float32", choices=("float32", "float16"),
                         help="stored precision of the weights (float16 halves the file)")
    p_train.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p_train.add_argument("--no-progress", action="store_true")

    p_prior = commands.add_parser(
        "train-prior", help="train the blur classifier of the learned blind prior",
        description="Train the CNN that tells sharp from blurred crops (Li et al. 2018), used by "
                    "blind deconvolution with prior='learned'; writes safetensors.")
    p_prior.add_argument("-o", "--output", type=Path, required=True, help="weights file (.safetensors)")
    p_prior.add_argument("--sharp-dir", type=Path, nargs="+", required=True, help="folder(s) of sharp photos")
    p_prior.add_argument("--steps", type=int, default=3000)
    p_prior.add_argument("--batch-size", type=int, default=32, help="half sharp, half blurred")
    p_prior.add_argument("--crop", type=int, default=64)
    p_prior.add_argument("--width", type=int, default=32, help="channels of the first stage x 2")
    p_prior.add_argument("--lr", type=float, default=1e-3)
    p_prior.add_argument("--max-size", type=int, default=25, help="largest blur kernel (odd)")
    p_prior.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"))
    p_prior.add_argument("--seed", type=int, default=0)
    p_prior.add_argument("--overwrite", action="store_true", help="replace an existing output file")

    from ._cli_restore import add_parser as add_restore_parser

    add_restore_parser(commands)
    from ._cli_bench import add_parser as add_bench_parser

    add_bench_parser(commands)

    p_demo = commands.add_parser("demo", help="blur a bundled photo and deblur it",
                                 description="Blur a bundled photo, deblur it, write a figure.")
    p_demo.add_argument("-o", "--output-dir", type=Path, default=Path("pydeblur-demo"),
                        help="folder for demo.png (default: ./pydeblur-demo)")
    p_demo.add_argument("--image", default="astronaut", help="bundled photo to use")
    p_demo.add_argument("--seed", type=int, default=0, help="random seed")
    return parser


def _cmd_restore(args) -> int:
    from ._cli_restore import run

    return run(args)


def _cmd_bench(args) -> int:
    from ._cli_bench import run_quality, run_speed

    return run_quality(args) if args.bench == "quality" else run_speed(args)


_COMMANDS = {"psf": _cmd_psf, "synth": _cmd_synth, "demo": _cmd_demo, "train": _cmd_train,
             "restore": _cmd_restore, "bench": _cmd_bench, "train-prior": _cmd_train_prior}


def main(argv=None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (ValueError, TypeError, OSError) as error:
        print(f"pydeblur: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("pydeblur: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
