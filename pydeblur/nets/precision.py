"""Device and numeric precision: fp32 or bf16 autocast, chosen by measurement of the hardware.

bf16 autocast runs convolutions on AMX / AVX512-BF16 units on recent x86 CPUs and on
bf16 tensor cores on GPUs (compute capability >= 8.0). Losses, normalisation
statistics and network outputs stay fp32: autocast keeps reductions and norms in fp32
and the callers cast outputs back with ``.float()``.
"""

from __future__ import annotations

import contextlib

from ..methods import PRECISIONS
from ._torch import torch


def resolve_device(device=None) -> torch.device:
    """``torch.device`` from a name, a device, or None (CUDA when available, else CPU)."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or a torch.device, "
                         f"got {device!r}.") from None
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device {device} is not supported; use 'cpu' or 'cuda' ('cuda:N').")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device} was asked for but CUDA is not available; use device='cpu'.")
    return device


def fast_bf16_available(device: torch.device) -> bool:
    """Whether this device runs bf16 matrix maths natively (not emulated)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported() and torch.cuda.get_device_capability(device)[0] >= 8
    if device.type == "cpu":
        return bool(torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())
    return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """'fp32' or 'bf16' for ``precision`` in {'auto', 'fp32', 'bf16'} on ``device``."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}.")
    if precision == "auto":
        return "bf16" if fast_bf16_available(device) else "fp32"
    return precision


def autocast(device: torch.device, precision: str):
    """Context that runs the forward pass in ``precision`` ('fp32' or 'bf16')."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
