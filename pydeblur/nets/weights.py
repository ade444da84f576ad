"""Weights files: safetensors with the network's config and training record as metadata.

Shipped files live in ``pydeblur/weights/<name>.safetensors``; ``from_pretrained``
takes one of those names or a path. Nothing is ever downloaded, and a missing,
truncated, corrupt or mismatched file is an error, never random weights.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..io import write_bytes_atomic
from ._torch import torch

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
FORMAT = "pydeblur-weights-1"


def shipped_names() -> list[str]:
    """Names of the weights files that ship with pydeblur."""
    return sorted(p.stem for p in WEIGHTS_DIR.glob("*.safetensors"))


def resolve_weights_path(name_or_path) -> Path:
    """Path of a shipped name (e.g. 'srn-small') or an existing file."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".safetensors" or candidate.exists():
        if not candidate.is_file():
            raise FileNotFoundError(f"weights file {candidate} does not exist.")
        return candidate
    shipped = WEIGHTS_DIR / f"{name_or_path}.safetensors"
    if shipped.is_file():
        return shipped
    names = ", ".join(shipped_names()) or "none"
    raise FileNotFoundError(
        f"no shipped weights named {name_or_path!r} (shipped: {names}); pass a name from that list "
        "or the path of a .safetensors file written by pydeblur. Nothing is downloaded."
    )


WEIGHT_DTYPES = {"float32": torch.float32, "float16": torch.float16}


def save_weights(path, model, *, config: dict, record: dict, overwrite: bool = False,
                 dtype: str = "float32") -> Path:
    """Write ``model``'s parameters with ``config`` and ``record`` to ``path``, atomically.

    ``dtype='float16'`` halves the file (loading casts back to the model's dtype; the
    weights are rounded to 11 significant bits). An existing ``path`` is a
    FileExistsError unless ``overwrite`` is True.
    """
    from safetensors.torch import save

    if dtype not in WEIGHT_DTYPES:
        raise ValueError(f"dtype must be one of {sorted(WEIGHT_DTYPES)}, got {dtype!r}.")
    path = Path(path)
    state = {k: v.detach().to("cpu", WEIGHT_DTYPES[dtype] if v.is_floating_point() else v.dtype).contiguous()
             for k, v in model.state_dict().items()}
    metadata = {"format": FORMAT, "config": json.dumps(config), "record": json.dumps(record)}
    data = save(state, metadata=metadata)
    return write_bytes_atomic(path, data, overwrite=overwrite)


def load_weights(path) -> tuple[dict, dict, dict]:
    """``(state_dict, config, record)`` from a pydeblur weights file."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    path = Path(path)
    data = path.read_bytes()
    try:
        state = load(data)
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, ValueError, RuntimeError, OSError) as error:
        raise ValueError(
            f"{path} is not a readable safetensors file (truncated or corrupt?): {error}") from None
    if metadata.get("format") != FORMAT:
        raise ValueError(f"{path} was not written by pydeblur (metadata format {metadata.get('format')!r}).")
    return state, json.loads(metadata["config"]), json.loads(metadata["record"])


def read_record(path) -> dict:
    """The training record stored in a weights file."""
    return load_weights(path)[2]


def load_into(model, state: dict, path) -> None:
    """Load ``state`` into ``model`` strictly; a mismatch is a ValueError naming the file."""
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise ValueError(f"{path} does not match this network's architecture: {str(error)[:300]}") from None


def load_model(name_or_path, *, architecture: str, what: str, build, device=None):
    """A trained network of one ``architecture`` from a shipped name or a weights file.

    ``architecture`` is one name or a tuple of the names accepted. ``build(config)``
    makes the untrained module the file's config describes; the weights are loaded
    strictly, so a missing, corrupt or mismatched file is an error, never random weights.
    ``what`` names the network in the error for another kind.
    """
    from .precision import resolve_device

    accepted = (architecture,) if isinstance(architecture, str) else tuple(architecture)
    path = resolve_weights_path(name_or_path)
    state, config, _ = load_weights(path)
    if config.get("architecture") not in accepted:
        raise ValueError(f"{path} holds {config.get('architecture')!r} weights, not {what} "
                         f"({' or '.join(map(repr, accepted))}).")
    model = build(config)
    load_into(model, state, path)
    return model.to(resolve_device(device)).eval()
