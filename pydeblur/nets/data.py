"""Training data: blur synthesised on the fly from sharp photos, or pairs from a folder."""

from __future__ import annotations

import numpy as np

from ..base import as_pairs
from ..datasets import find_pairs
from ..io import imread, list_images
from ..synth import PSFSampler, degrade
from ._torch import torch


def _to_tensor(image: np.ndarray):
    image = image if image.ndim == 3 else np.repeat(image[:, :, None], 3, axis=2)
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32))


def _augment(blurry, sharp, rng):
    k = int(rng.integers(4))
    flip = bool(rng.integers(2))
    out = []
    for image in (blurry, sharp):
        image = np.rot90(image, k)
        out.append(image[:, ::-1] if flip else image)
    return out


class SyntheticBlurDataset(torch.utils.data.Dataset):
    """Random crops of sharp photos, blurred on the fly with random PSFs and noise.

    Item ``i`` of epoch ``e`` is generated from the seed ``(seed, e, i)``, so the data
    is reproducible and differs between epochs (call :meth:`set_epoch`).

    Parameters
    ----------
    sources : str, os.PathLike or list
        A folder of sharp photos (searched recursively), or a list of folders,
        files or float images.
    crop : int
        Side of the square crops.
    length : int
        Items per epoch.
    sampler : PSFSampler, optional
        PSF source; default camera-shake trajectories up to 31 px.
    noise_sigma : (float, float), optional
        Range of the Gaussian noise sigma, drawn uniformly per item; default (0, 0.02).
    recipe : BlurRecipe, optional
        The whole degradation instead (:class:`pydeblur.synth.BlurRecipe`: kernel kinds
        and sizes, non-uniform blur, camera response, saturation, noise, JPEG); give it
        or ``sampler`` / ``noise_sigma``, not both. Every crop is the whole 'valid'
        blurred result, so no pixel of a pair sees a made-up border.
    augment : bool
        Random 90-degree rotations and flips.
    seed : int
        Base seed.
    """

    def __init__(self, sources, *, crop=128, length=1000, sampler=None, noise_sigma=None, recipe=None,
                 augment=True, seed=0):
        if recipe is not None and (sampler is not None or noise_sigma is not None):
            raise ValueError("give recipe, or sampler and noise_sigma, not both: the recipe draws its "
                             "own kernels and noise.")
        self.images = [self._load(s) for s in self._expand(sources)]
        if not self.images:
            raise ValueError(f"no images found in {sources!r}.")
        self.recipe = recipe
        self.sampler = sampler or PSFSampler(("trajectory",), max_size=31)
        self.noise_sigma = (0.0, 0.02) if noise_sigma is None else tuple(noise_sigma)
        self.set_crop(crop)
        self.length = int(length)
        self.augment = augment
        self.seed = seed
        self.epoch = 0

    @staticmethod
    def _expand(sources):
        from pathlib import Path

        if isinstance(sources, (str, Path)) or isinstance(sources, np.ndarray):
            sources = [sources]
        out = []
        for source in sources:
            if isinstance(source, np.ndarray):
                out.append(source)
            elif Path(source).is_dir():
                out.extend(list_images(source))
            else:
                out.append(Path(source))
        return out

    @staticmethod
    def _load(source):
        image = source if isinstance(source, np.ndarray) else imread(source, alpha="drop")
        image = image if image.ndim == 3 else np.repeat(image[:, :, None], 3, axis=2)
        return (np.clip(image, 0, 1) * 255).round().astype(np.uint8)  # compact in memory

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def set_crop(self, crop: int) -> None:
        """Change the crop side (training with growing patches); every photo must still fit."""
        margin = self.recipe.max_kernel_size if self.recipe is not None else self.sampler.max_size
        too_small = [im.shape for im in self.images if min(im.shape[:2]) < int(crop) + margin]
        if too_small:
            raise ValueError(f"{len(too_small)} image(s) are smaller than crop + max PSF size "
                             f"({int(crop) + margin}), e.g. {too_small[0]}.")
        self.crop = int(crop)

    def __len__(self):
        return self.length

    def __getitem__(self, index):
        rng = np.random.default_rng([self.seed, self.epoch, index])
        photo = self.images[int(rng.integers(len(self.images)))]
        if self.recipe is not None:
            kernel, options, _ = self.recipe.draw(rng)
        else:
            (kernel, _), options = self.sampler(rng), None
        rows, cols = (self.crop + n - 1 for n in kernel.shape[-2:])  # 'valid' blur leaves crop x crop
        top = int(rng.integers(photo.shape[0] - rows + 1))
        left = int(rng.integers(photo.shape[1] - cols + 1))
        patch = photo[top : top + rows, left : left + cols].astype(np.float32) / 255
        if options is None:  # the plain sampler: Gaussian noise of a random sigma
            options = {"noise_sigma": float(rng.uniform(*self.noise_sigma))}
        blurry, sharp, _ = degrade(patch, psf=kernel, boundary="valid", rng=rng, **options)
        if self.augment:
            blurry, sharp = _augment(blurry, sharp, rng)
        return _to_tensor(blurry), _to_tensor(sharp)


class PairDataset(torch.utils.data.Dataset):
    """Random aligned crops of blurry/sharp pairs: in-memory arrays or a GoPro-layout folder.

    Parameters
    ----------
    pairs : str, os.PathLike or (blurry, sharp)
        A folder laid out as ``<seq>/blur/*.png`` + ``<seq>/sharp/*.png``, or a tuple of
        a blurry and a sharp image (or of two equal-length lists of images).
    crop : int or None
        Side of the square crops; None returns whole images (they must share a size
        to be batched).
    length : int, optional
        Items per epoch; default one per pair.
    augment : bool
        Random 90-degree rotations and flips.
    seed : int
        Base seed.
    """

    def __init__(self, pairs, *, crop=128, length=None, augment=True, seed=0):
        if isinstance(pairs, tuple):
            self.pairs = [(np.asarray(b, np.float32), np.asarray(s, np.float32))
                          for b, s in as_pairs(*pairs)]
        else:
            self.pairs = find_pairs(pairs)
        self.crop = crop
        self.length = len(self.pairs) if length is None else int(length)
        self.augment = augment
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def set_crop(self, crop) -> None:
        """Change the crop side (training with growing patches); None returns whole images."""
        self.crop = None if crop is None else int(crop)

    def __len__(self):
        return self.length

    def _images(self, index):
        blurry, sharp = self.pairs[index % len(self.pairs)]
        if not isinstance(blurry, np.ndarray):
            blurry, sharp = imread(blurry, alpha="drop"), imread(sharp, alpha="drop")
        if blurry.shape != sharp.shape:
            raise ValueError(f"pair {index}: blurry {blurry.shape} and sharp {sharp.shape} differ in shape.")
        return blurry, sharp

    def __getitem__(self, index):
        rng = np.random.default_rng([self.seed, self.epoch, index])
        blurry, sharp = self._images(index)
        if self.crop is not None:
            h, w = blurry.shape[:2]
            if min(h, w) < self.crop:
                raise ValueError(f"pair {index} ({h}x{w}) is smaller than crop={self.crop}.")
            top, left = int(rng.integers(h - self.crop + 1)), int(rng.integers(w - self.crop + 1))
            blurry = blurry[top : top + self.crop, left : left + self.crop]
            sharp = sharp[top : top + self.crop, left : left + self.crop]
        if self.augment:
            blurry, sharp = _augment(blurry, sharp, rng)
        return _to_tensor(blurry), _to_tensor(sharp)
