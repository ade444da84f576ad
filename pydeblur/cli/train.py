"""``pydeblur train`` (a deblurring network) and ``pydeblur train-prior`` (the learned blind prior)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ._exit import EXIT_OK, UsageError, non_negative_float, positive_int


def add_parser(commands) -> None:
    """Register ``train`` on the command's subparsers."""
    from ..methods import PRECISIONS, names
    from ..synth import FAMILIES

    parser = commands.add_parser(
        "train", help="train a deblurring network",
        description="Train SRN-DeblurNet, DeepDeblur, DeblurGAN, NAFNet or the 3-layer baseline on blur "
                    "synthesised from sharp photos (--sharp-dir; --recipe for the wide blur of the shipped "
                    "networks) or on GoPro-layout pairs (--pairs-dir); writes safetensors.")
    parser.add_argument("network", choices=names("network"))
    parser.add_argument("-o", "--output", type=Path, required=True, help="weights file (.safetensors)")
    parser.add_argument("--sharp-dir", type=Path, nargs="+", help="folder(s) of sharp photos")
    parser.add_argument("--pairs-dir", type=Path, help="GoPro-layout folder of pairs")
    parser.add_argument("--val-dir", type=Path, help="validation photos (or pairs) folder")
    parser.add_argument("--val-items", type=positive_int, default=16, help="validation crops per epoch")
    parser.add_argument("--val-crop", type=positive_int, default=192, help="validation crop size")
    parser.add_argument("--size", choices=("small", "medium", "paper"),
                         help="network size (default small; medium: srn only, grown from small weights)")
    parser.add_argument("--init-weights", help="fine-tune: start from these weights (shipped name or file)")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS)
    parser.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: CUDA when available)")
    parser.add_argument("--epochs", type=positive_int, default=10)
    parser.add_argument("--steps-per-epoch", type=positive_int, default=200)
    parser.add_argument("--batch-size", type=positive_int, default=8)
    parser.add_argument("--crop", type=positive_int, nargs="+", default=[128],
                        help="crop side; several grow the crops over equal parts of the epochs")
    parser.add_argument("--lr", type=non_negative_float, help="learning rate (default: the network's)")
    parser.add_argument("--loss", choices=("charbonnier", "l1", "mse"), default="charbonnier")
    parser.add_argument("--frequency-weight", type=non_negative_float, default=0.1,
                        help="weight of the spectrum L1 term")
    parser.add_argument("--weight-decay", type=non_negative_float, default=1e-4)
    parser.add_argument("--warmup-steps", type=int, help="linear warm-up steps (default 2 %% of the steps)")
    parser.add_argument("--ema-decay", type=non_negative_float, default=0.999,
                        help="keep an average of the weights with this decay (0: the last weights)")
    parser.add_argument("--recipe", action="store_true",
                        help="the wide training blur (pydeblur.synth.BlurRecipe: kernels 3 px to --max-size "
                             "of every kind, non-uniform blur, camera response, saturation, Gaussian + "
                             "Poisson noise, JPEG) instead of --families / --max-noise")
    parser.add_argument("--families", nargs="+", choices=FAMILIES, help="PSF families (default trajectory)")
    parser.add_argument("--max-size", type=positive_int, help="largest synthetic kernel, odd "
                                                               "(default 31; 45 with --recipe)")
    parser.add_argument("--max-noise", type=non_negative_float, help="largest noise sigma (default 0.02)")
    parser.add_argument("--num-workers", type=int, default=0)
    parser.add_argument("--checkpoint-dir", type=Path, help="checkpoints; an existing one is resumed")
    parser.add_argument("--checkpoint-dtype", default="float32", choices=("float32", "float16"),
                        help="stored precision of the checkpoints (float16: small enough to commit)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weights-dtype", default="float32", choices=("float32", "float16"),
                         help="stored precision of the weights (float16 halves the file)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    parser.add_argument("--no-progress", action="store_true")


def _small_model_parser(commands, name: str, *, help: str, description: str, steps: int, batch_size: int,
                        crop: int, width: int, width_help: str, device: bool = True):
    """A ``train-*`` subparser with the options every small-model trainer shares."""
    from ..methods import PRECISIONS

    parser = commands.add_parser(name, help=help, description=description)
    parser.add_argument("-o", "--output", type=Path, required=True, help="weights file (.safetensors)")
    parser.add_argument("--sharp-dir", type=Path, nargs="+", required=True, help="folder(s) of sharp photos")
    parser.add_argument("--steps", type=positive_int, default=steps)
    parser.add_argument("--batch-size", type=positive_int, default=batch_size)
    parser.add_argument("--crop", type=positive_int, default=crop)
    parser.add_argument("--width", type=positive_int, default=width, help=width_help)
    parser.add_argument("--lr", type=non_negative_float, default=1e-3)
    parser.add_argument("--precision", default="auto", choices=PRECISIONS)
    if device:
        parser.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: CUDA when available)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    return parser


def add_prior_parser(commands) -> None:
    """Register ``train-prior`` on the command's subparsers."""
    parser = _small_model_parser(
        commands, "train-prior", help="train the blur classifier of the learned blind prior",
        description="Train the CNN that tells sharp from blurred crops (Li et al. 2018), used by "
                    "blind deconvolution with prior='learned'; writes safetensors.",
        steps=3000, batch_size=32, crop=64, width=32, width_help="channels of the first stage x 2",
        device=False)
    parser.add_argument("--max-size", type=positive_int, default=25, help="largest blur kernel (odd)")


def _check_folders(folders, option: str) -> None:
    missing = [str(f) for f in folders if not Path(f).is_dir()]
    if missing:
        raise UsageError(f"{option}: {', '.join(missing)} is not a folder.")


def _print_epoch(entry: dict) -> None:
    print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in entry.items()),
          flush=True)


def run(args) -> int:
    from ..methods import METHODS
    from ..nets import PairDataset, SyntheticBlurDataset
    from ..synth import BlurRecipe, PSFSampler

    if (args.sharp_dir is None) == (args.pairs_dir is None):
        raise UsageError("give exactly one of --sharp-dir (synthesise blur) or --pairs-dir (GoPro layout).")
    if args.recipe and (args.families is not None or args.max_noise is not None):
        raise UsageError("--recipe draws its own kernels and noise; leave out --families and --max-noise.")
    if (args.recipe or args.families or args.max_noise is not None) and args.pairs_dir is not None:
        raise UsageError("--recipe, --families and --max-noise synthesise blur: they go with --sharp-dir.")
    _check_folders(args.sharp_dir or [], "--sharp-dir")
    _check_folders([args.pairs_dir] if args.pairs_dir else [], "--pairs-dir")
    _check_folders([args.val_dir] if args.val_dir else [], "--val-dir")
    if args.output.exists() and not args.overwrite:
        raise FileExistsError(f"{args.output} already exists; pass --overwrite to replace it.")
    import os

    import torch

    cls = METHODS[args.network].load()
    device = args.device
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # launched by torchrun: one process per device
        use_cuda = torch.cuda.is_available() and (device is None or device.startswith("cuda"))
        torch.distributed.init_process_group("nccl" if use_cuda else "gloo")
        if use_cuda:
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
            torch.cuda.set_device(device)
    crops = args.crop[0] if len(args.crop) == 1 else tuple(args.crop)
    params = dict(precision=args.precision, device=device, epochs=args.epochs,
                  steps_per_epoch=args.steps_per_epoch, batch_size=args.batch_size, crop_size=crops,
                  loss=args.loss, frequency_weight=args.frequency_weight, weight_decay=args.weight_decay,
                  warmup_steps=args.warmup_steps, ema_decay=args.ema_decay,
                  checkpoint_dir=args.checkpoint_dir, checkpoint_dtype=args.checkpoint_dtype, seed=args.seed,
                  progress=not args.no_progress, num_workers=args.num_workers, callback=_print_epoch,
                  **({} if args.lr is None else {"lr": args.lr}))
    if args.init_weights is not None:  # --size, if given, may only add ResBlocks (e.g. srn small -> medium)
        net = cls.from_pretrained(args.init_weights, warm_start=True, **params,
                                  **({"size": args.size} if args.size else {}))
        net._check_warm_start(net._config())  # before loading any data
    else:
        net = cls(size=args.size or "small", **params)
    length = args.steps_per_epoch * args.batch_size
    if args.sharp_dir is not None and args.recipe:
        recipe = BlurRecipe(kernel_sizes=(3, args.max_size or 45))
        train = SyntheticBlurDataset(args.sharp_dir, crop=args.crop[0], length=length, recipe=recipe,
                                     seed=args.seed)
        val = (SyntheticBlurDataset(args.val_dir, crop=args.val_crop, length=args.val_items, recipe=recipe,
                                    augment=False, seed=args.seed + 1) if args.val_dir else None)
    elif args.sharp_dir is not None:
        sampler = PSFSampler(args.families or ["trajectory"], max_size=args.max_size or 31)
        max_noise = 0.02 if args.max_noise is None else args.max_noise
        train = SyntheticBlurDataset(args.sharp_dir, crop=args.crop[0], length=length, sampler=sampler,
                                     noise_sigma=(0.0, max_noise), seed=args.seed)
        val = (SyntheticBlurDataset(args.val_dir, crop=args.val_crop, length=args.val_items,
                                    sampler=sampler, noise_sigma=(0.01, 0.01), augment=False,
                                    seed=args.seed + 1) if args.val_dir else None)
    else:
        train = PairDataset(args.pairs_dir, crop=args.crop[0], length=length, seed=args.seed)
        val = PairDataset(args.val_dir, crop=args.val_crop, augment=False) if args.val_dir else None
    start = time.perf_counter()
    net.fit_dataset(train, val)
    record = {"command": "pydeblur " + " ".join(sys.argv[1:]) if sys.argv else "",
              "wall_seconds": round(time.perf_counter() - start, 1),
              "steps": args.epochs * args.steps_per_epoch, "batch_size": args.batch_size,
              "data": _data_record(args),
              "precision": args.precision, "torch": __import__("torch").__version__}
    if not torch.distributed.is_initialized() or torch.distributed.get_rank() == 0:
        net.save(args.output, record=record, overwrite=args.overwrite, dtype=args.weights_dtype)
        print(f"wrote {args.output} after {record['wall_seconds']:.0f} s")
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    return EXIT_OK


def _data_record(args) -> dict:
    """What the network was trained on, for the weights file's record."""
    if args.pairs_dir is not None:
        return {"pairs": str(args.pairs_dir)}
    if args.recipe:
        import dataclasses

        from ..synth import BlurRecipe

        return {"sharp": [str(d) for d in args.sharp_dir],
                "recipe": dataclasses.asdict(BlurRecipe(kernel_sizes=(3, args.max_size or 45)))}
    return {"sharp": [str(d) for d in args.sharp_dir], "families": args.families or ["trajectory"],
            "max_size": args.max_size or 31, "max_noise": 0.02 if args.max_noise is None else args.max_noise}


def _run_small_model(train, args, **options) -> int:
    """Run a small-model trainer on the options of :func:`_small_model_parser` plus ``options``."""
    _check_folders(args.sharp_dir, "--sharp-dir")
    record = train(args.sharp_dir, args.output, steps=args.steps, batch_size=args.batch_size, crop=args.crop,
                   width=args.width, lr=args.lr, precision=args.precision, seed=args.seed,
                   overwrite=args.overwrite, command="pydeblur " + " ".join(sys.argv[1:]),
                   callback=lambda entry: print(entry, flush=True), **options)
    print(f"wrote {args.output} after {record['wall_seconds']:.0f} s")
    return EXIT_OK


def run_prior(args) -> int:
    from ..nets.blur_classifier import train_classifier

    return _run_small_model(train_classifier, args, max_size=args.max_size)


def add_denoiser_parser(commands) -> None:
    """Register ``train-denoiser`` on the command's subparsers."""
    parser = _small_model_parser(
        commands, "train-denoiser", help="train the CNN denoiser of plug-and-play deconvolution",
        description="Train the noise-level-conditioned denoiser (IRCNN-style or a small U-Net) on crops "
                    "of sharp photos with Gaussian noise of random sigma; writes float16 safetensors. With "
                    "--checkpoint-dir a rerun resumes.",
        steps=20000, batch_size=16, crop=48, width=64, width_help="channels of the hidden layers")
    parser.add_argument("--max-sigma", type=non_negative_float, default=50 / 255,
                        help="largest training noise sigma")
    parser.add_argument("--architecture", choices=("ircnn", "unet"), default="ircnn",
                        help="dilated 7-layer network (ircnn) or a 4-scale bias-free U-Net (unet; "
                             "--width is then its full-size width)")
    parser.add_argument("--blocks", type=positive_int,
                        help="residual blocks per scale of the U-Net (default 1)")
    parser.add_argument("--checkpoint-dir", type=Path, help="checkpoints; an existing one is resumed")
    parser.add_argument("--init-weights", help="continue from these weights (shipped name or file)")
    parser.add_argument("--stop-at", type=positive_int,
                        help="end this run after that step of the --steps schedule and write the "
                             "weights reached; a rerun with the same --checkpoint-dir goes on")


def run_denoiser(args) -> int:
    from ..nets.denoiser import train_denoiser

    return _run_small_model(train_denoiser, args, max_sigma=args.max_sigma, device=args.device,
                            checkpoint_dir=args.checkpoint_dir, init_weights=args.init_weights,
                            stop_at=args.stop_at, architecture=args.architecture, blocks=args.blocks)


def add_blur_map_parser(commands) -> None:
    """Register ``train-blur-map`` on the command's subparsers."""
    _small_model_parser(
        commands, "train-blur-map", help="train the blur-detection network of pydeblur detect",
        description="Train the network behind blur_map / blur_score / pydeblur detect on sharp photos in "
                    "which random regions are blurred (motion and defocus, 3-31 px, with noise and "
                    "JPEG); writes float16 safetensors.",
        steps=3000, batch_size=16, crop=128, width=32, width_help="channels of the middle stage")


def run_blur_map(args) -> int:
    from ..nets.blur_map import train_blur_map

    return _run_small_model(train_blur_map, args, device=args.device)
