"""Training checkpoints without pickle: tensors in safetensors, everything else as JSON.

A checkpoint is a nested structure of dicts, lists, tuples, tensors and plain values
(the model's and optimisers' state dicts, the epoch, the history). :func:`save_checkpoint`
stores every tensor under a path-like key in a safetensors file and the rest of the
structure, with each tensor replaced by its key, as JSON in the file's metadata. Dict
keys keep their type (optimiser states are keyed by integers). Loading never runs code
from the file: a planted file can at worst hold wrong numbers, which the config check
and ``load_state_dict`` then refuse.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..io import write_bytes_atomic
from ._torch import torch

CHECKPOINT_NAME = "checkpoint.safetensors"
#: Written by pydeblur before checkpoints stopped being pickles; never read.
LEGACY_CHECKPOINT_NAME = "checkpoint.pt"
FORMAT = "pydeblur-checkpoint-1"


def _flatten(value, prefix: str, tensors: dict):
    if isinstance(value, torch.Tensor):
        key = prefix or "tensor"
        tensors[key] = value.detach().to("cpu").contiguous()
        return {"tensor": key}
    if isinstance(value, dict):
        items = []
        for index, (k, v) in enumerate(value.items()):
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"checkpoint dict keys must be str or int, got {k!r} at {prefix or 'top'}.")
            items.append([k, _flatten(v, f"{prefix}.{index}" if prefix else str(index), tensors)])
        return {"dict": items}
    if isinstance(value, (list, tuple)):
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [_flatten(v, f"{prefix}.{i}" if prefix else str(i), tensors)
                       for i, v in enumerate(value)]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    raise TypeError(f"cannot store {type(value).__name__} in a checkpoint (at {prefix or 'top'}).")


def _unflatten(node, tensors: dict):
    (kind, content), = node.items()
    if kind == "tensor":
        return tensors[content]
    if kind == "dict":
        return {k: _unflatten(v, tensors) for k, v in content}
    if kind == "list":
        return [_unflatten(v, tensors) for v in content]
    if kind == "tuple":
        return tuple(_unflatten(v, tensors) for v in content)
    if kind == "value":
        return content
    raise ValueError(f"unknown entry {kind!r}")


def save_checkpoint(path, state: dict, *, dtype: str = "float32") -> Path:
    """Write ``state`` to ``path`` atomically (a uniquely named temporary file, then a rename).

    A symlink at ``path`` is replaced, never written through. ``dtype='float16'`` stores
    floating tensors of more than one element in half precision (a checkpoint small
    enough to commit; loading into a model or optimiser casts them back), scalars such
    as step counters as they are.
    """
    from safetensors.torch import save

    if dtype not in ("float32", "float16"):
        raise ValueError(f"checkpoint dtype must be 'float32' or 'float16', got {dtype!r}.")
    tensors: dict = {}
    structure = _flatten(state, "", tensors)
    if dtype == "float16":
        tensors = {k: v.half() if v.is_floating_point() and v.numel() > 1 else v for k, v in tensors.items()}
    data = save(tensors, metadata={"format": FORMAT, "structure": json.dumps(structure)})
    return write_bytes_atomic(path, data, overwrite=True)


def load_checkpoint(path, *, device="cpu") -> dict:
    """The state saved by :func:`save_checkpoint`, tensors on ``device``.

    Raises
    ------
    ValueError
        The file is not a pydeblur checkpoint (corrupt, truncated, or another format).
    """
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load

    path = Path(path)
    try:
        tensors = load(path.read_bytes())
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        if metadata.get("format") != FORMAT:
            raise ValueError(f"metadata format {metadata.get('format')!r}, expected {FORMAT!r}")
        state = _unflatten(json.loads(metadata["structure"]), tensors)
    except (SafetensorError, ValueError, KeyError, TypeError, RuntimeError, OSError) as error:
        raise ValueError(f"{path} is not a readable pydeblur checkpoint (truncated, corrupt or another "
                         f"format): {error}. Delete it, or pass resume=False to start afresh.") from None
    return _to_device(state, device)


def _to_device(value, device):
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, dict):
        return {k: _to_device(v, device) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_device(v, device) for v in value)
    return value
