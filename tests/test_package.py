import subprocess
import sys

import pytest

import pydeblur


def test_import_is_light():
    code = ("import sys, pydeblur; from pydeblur import psf, convolve, degrade; "
            "print(sorted(m for m in ('torch', 'numba') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names_resolve():
    for name in pydeblur.__all__:
        assert getattr(pydeblur, name) is not None
    assert "convolve" in dir(pydeblur)
    with pytest.raises(AttributeError, match="no attribute"):
        pydeblur.not_a_name  # noqa: B018
