import numpy as np
import pytest
from conftest import smooth_image
from contract import check_deblurrer

from pydeblur.base import BaseDeblurrer, NotFittedError, as_pairs, check_is_fitted


class OffsetDeblurrer(BaseDeblurrer):
    """A minimal estimator that learns a brightness offset (exercises the contract)."""

    _fitted_attributes = ("offset_",)

    def __init__(self, *, gain=1.0, tag=None):
        self.gain = gain
        self.tag = tag

    def fit(self, blurry, sharp=None):
        if sharp is None:
            raise ValueError("OffsetDeblurrer learns its offset from pairs: pass sharp images.")
        self.offset_ = float(np.mean([np.mean(s - b) for b, s in as_pairs(blurry, sharp)]))
        return self

    def _restore_one(self, image):
        return (image * self.gain + self.offset_).astype(image.dtype)


def test_contract_battery_on_a_minimal_estimator():
    sharp = smooth_image((24, 24), np.float32)
    check_deblurrer(lambda: OffsetDeblurrer(gain=0.9), sharp - 0.1, sharp)


def test_params_repr_and_nested_set():
    est = OffsetDeblurrer(gain=2.0)
    assert est.get_params() == {"gain": 2.0, "tag": None}
    assert repr(est) == "OffsetDeblurrer(gain=2.0)"
    outer = OffsetDeblurrer(tag=OffsetDeblurrer())
    outer.set_params(tag__gain=3.0)
    assert outer.tag.gain == 3.0 and outer.get_params()["tag__gain"] == 3.0
    assert "array(shape=(2, 2)" in repr(OffsetDeblurrer(tag=np.zeros((2, 2))))


def test_not_fitted_and_pairs_errors():
    with pytest.raises(NotFittedError, match=r"OffsetDeblurrer\.fit"):
        OffsetDeblurrer().restore(np.zeros((4, 4)))
    with pytest.raises(NotFittedError):
        check_is_fitted(OffsetDeblurrer(), ["offset_"])
    with pytest.raises(ValueError, match="one sharp image per blurry"):
        as_pairs([np.zeros((2, 2))] * 2, [np.zeros((2, 2))])
    with pytest.raises(ValueError, match="empty list"):
        OffsetDeblurrer().fit([], [])


def test_var_kwargs_constructors_are_refused():
    class Bad(BaseDeblurrer):
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    with pytest.raises(TypeError, match="name its parameters"):
        Bad().get_params()
