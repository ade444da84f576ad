import numpy as np
import pytest

#: One tolerance per dtype, used by every numerical comparison in the suite.
TOLERANCE = {np.dtype(np.float32): 2e-5, np.dtype(np.float64): 1e-10}

SHAPES = [(32, 32), (33, 47), (40, 31, 3), (30, 28, 2)]


def tolerance(dtype) -> float:
    return TOLERANCE[np.dtype(dtype)]


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def smooth_image(shape, dtype=np.float64, seed=0):
    """A test image in [0, 1] with structure at several scales."""
    rng = np.random.default_rng(seed)
    h, w = shape[:2]
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    base = 0.5 + 0.25 * np.sin(7 * x + 3 * y) * np.cos(5 * y - 2 * x)
    if len(shape) == 3:
        base = base[:, :, None] + 0.1 * np.arange(shape[2])[None, None, :] / shape[2]
    image = np.clip(base + 0.05 * rng.standard_normal(shape), 0, 1)
    return image.astype(dtype)
