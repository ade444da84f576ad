"""``pydeblur export``: a network to ONNX, optionally quantised to int8."""

from __future__ import annotations

from pathlib import Path

from ._exit import EXIT_OK, UsageError, positive_int

#: Photos that calibrate an int8 export when no --calibration folder is given.
DEFAULT_CALIBRATION = ("astronaut", "coffee", "chelsea", "rocket")


def add_parser(commands) -> None:
    """Register ``export`` on the command's subparsers."""
    from ..methods import names

    parser = commands.add_parser(
        "export", help="export a network to ONNX (fp32 or int8)",
        description="Write a network's finest output as an ONNX graph with dynamic batch, height and "
                    "width, checked against torch with onnxruntime. --int8 quantises it statically (QDQ, "
                    "per-channel int8 weights), calibrated on --calibration photos or, without them, on "
                    "scikit-image's bundled photos.")
    parser.add_argument("weights", help="shipped name (e.g. srn-small) or .safetensors file")
    parser.add_argument("output", type=Path, help="destination .onnx file")
    parser.add_argument("--network", choices=names("network"),
                        help="architecture of the weights (default: the one the weights file records)")
    parser.add_argument("--int8", action="store_true", help="static int8 quantisation")
    parser.add_argument("--calibration", type=Path, help="folder of photos to calibrate the int8 ranges")
    parser.add_argument("--calibration-size", type=positive_int, default=256,
                        help="calibrate on centre crops of this side (default 256)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")


def _network_name(args) -> str:
    from ..methods import names
    from ..nets.weights import load_weights, resolve_weights_path

    if args.network is not None:
        return args.network
    architecture = load_weights(resolve_weights_path(args.weights))[1].get("architecture")
    if architecture not in names("network"):
        raise ValueError(f"{args.weights} holds {architecture!r} weights, not a deblurring network "
                         f"({', '.join(names('network'))}).")
    return architecture


def _calibration(args) -> list:
    import numpy as np

    from ..datasets import sample_image
    from ..io import imread, list_images

    images = ([imread(p, alpha="drop") for p in list_images(args.calibration)] if args.calibration
              else [sample_image(name) for name in DEFAULT_CALIBRATION])
    side = args.calibration_size
    crops = []
    for image in images:
        top, left = max(0, (image.shape[0] - side) // 2), max(0, (image.shape[1] - side) // 2)
        crops.append(np.ascontiguousarray(image[top : top + side, left : left + side]))
    return crops


def run(args) -> int:
    from ..methods import METHODS

    if args.output.suffix.lower() != ".onnx":
        raise UsageError(f"{args.output}: the output must end in .onnx.")
    if args.calibration is not None and not args.int8:
        raise UsageError("--calibration calibrates an int8 export; add --int8.")
    if args.calibration is not None and not args.calibration.is_dir():
        raise UsageError(f"--calibration {args.calibration} is not a folder.")
    if args.output.exists() and not args.overwrite:
        raise FileExistsError(f"{args.output} already exists; pass --overwrite to replace it.")
    cls = METHODS[_network_name(args)].load()
    net = cls.from_pretrained(args.weights, precision="fp32", device="cpu")
    options = {"quantize": "int8", "calibration": _calibration(args)} if args.int8 else {}
    error = net.export_onnx(args.output, overwrite=args.overwrite, **options)
    kind = "int8" if args.int8 else "fp32"
    print(f"wrote {args.output} ({kind}, {args.output.stat().st_size / 1e6:.1f} MB); largest difference from "
          f"the torch output: {error:.2e}")
    return EXIT_OK
