"""The one place that imports torch for pydeblur.nets, with an actionable error."""

INSTALL_HINT = (
    "pydeblur's networks need PyTorch: install the extra with "
    "`python -m pip install \"pydeblur[torch]\"` (or `pip install torch==2.13.0` for the "
    "CPU build this project is developed with)."
)

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as error:  # pragma: no cover - exercised only without torch
    raise ImportError(INSTALL_HINT) from error

__all__ = ["F", "nn", "torch"]
