"""Blur synthesis: degradation pipeline, camera effects, frame averaging, pair writer."""

from ._camera import add_noise, crf, inverse_crf, jpeg
from ._frames import average_frames
from ._pipeline import DegradedPair, degrade, valid_crop
from ._recipe import RECIPE_KINDS, BlurRecipe
from ._sampler import FAMILIES, PSFSampler
from ._writer import synthesize_folder

__all__ = [
    "FAMILIES",
    "RECIPE_KINDS",
    "BlurRecipe",
    "DegradedPair",
    "PSFSampler",
    "add_noise",
    "average_frames",
    "crf",
    "degrade",
    "inverse_crf",
    "jpeg",
    "synthesize_folder",
    "valid_crop",
]
