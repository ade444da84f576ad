"""The contract every Deblurrer passes (see pydeblur.base)."""

import inspect

import numpy as np
import pytest
import sklearn.base

from pydeblur.base import BaseDeblurrer, NotFittedError


def _public_state(est):
    return {k: v for k, v in vars(est).items() if not k.startswith("_")}


def check_deblurrer(make, blurry, sharp):
    """Run the whole battery on estimators made by ``make()`` with one training pair."""
    est = make()
    assert isinstance(est, BaseDeblurrer)

    # __init__ stores every parameter under its own name and nothing else happens.
    params = est.get_params(deep=False)
    signature = inspect.signature(type(est).__init__)
    for name, value in params.items():
        assert value is getattr(est, name)
        parameter = signature.parameters[name]
        assert parameter.kind is parameter.KEYWORD_ONLY or parameter.default is not parameter.empty
    assert not [a for a in vars(est) if a.endswith("_") and not a.startswith("_")], \
        "constructor set fitted attributes"

    # get_params / set_params round trip; unknown parameters are refused.
    clone = type(est)(**est.get_params(deep=False))
    assert clone.get_params(deep=False).keys() == params.keys()
    assert est.set_params(**params) is est
    with pytest.raises(ValueError, match="no parameter"):
        est.set_params(not_a_parameter=1)
    assert type(est).__name__ in repr(est)

    # Restoring before fitting either works or raises NotFittedError.
    if est._fitted_attributes:
        with pytest.raises(NotFittedError, match="fit"):
            est.restore(blurry)

    # fit without sharp images: the unsupervised rule, or a clear error that asks for pairs.
    unsupervised = make()
    try:
        fitted = unsupervised.fit(blurry)
    except ValueError as error:
        assert "sharp" in str(error)
    else:
        assert fitted is unsupervised
        assert [a for a in vars(unsupervised) if a.endswith("_") and not a.startswith("_")]
        restored = unsupervised.restore(blurry)
        assert restored.shape == blurry.shape and restored.dtype == blurry.dtype
        np.testing.assert_allclose(make().fit_restore(blurry), restored)

    # fit returns self and sets fitted attributes; restore maps image->image, list->list.
    assert est.fit(blurry, sharp) is est
    state = _public_state(est)
    out = est.restore(blurry)
    assert isinstance(out, np.ndarray) and out.shape == blurry.shape and out.dtype == blurry.dtype
    outs = est.restore([blurry, blurry])
    assert isinstance(outs, list) and len(outs) == 2
    np.testing.assert_allclose(outs[0], out)
    score = est.score(blurry, sharp)
    assert np.isfinite(score)
    # restore and score change no state (fitted state is set by fit only).
    after = _public_state(est)
    assert after.keys() == state.keys() and all(after[k] is state[k] for k in state)

    # The input is not mutated.
    before = blurry.copy()
    est.restore(blurry)
    np.testing.assert_array_equal(blurry, before)

    # scikit-learn's clone works (scikit-learn is a test dependency).
    cloned = sklearn.base.clone(est)
    assert type(cloned) is type(est) and cloned is not est
