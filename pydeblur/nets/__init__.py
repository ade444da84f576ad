"""Deep deblurring networks (needs the ``torch`` extra).

``SRNDeblur``, ``DeepDeblur``, ``DeblurGAN``, ``NAFNetDeblur`` and ``BaselineCNN`` are
Deblurrers: ``from_pretrained`` loads shipped weights (offline), ``fit`` / ``fit_dataset``
train, ``restore`` runs tiled inference in fp32 or bf16.
"""

from ._models import BaselineCNN, DeblurGAN, DeepDeblur, NAFNetDeblur, SRNDeblur
from ._torch import torch  # noqa: F401  (raises the install hint without torch)
from .data import PairDataset, SyntheticBlurDataset
from .precision import fast_bf16_available, resolve_precision
from .weights import shipped_names

__all__ = [
    "BaselineCNN",
    "DeblurGAN",
    "DeepDeblur",
    "NAFNetDeblur",
    "PairDataset",
    "SRNDeblur",
    "SyntheticBlurDataset",
    "fast_bf16_available",
    "resolve_precision",
    "shipped_names",
]
