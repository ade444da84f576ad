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


def test_the_stub_states_every_lazy_name():
    import ast
    from pathlib import Path

    tree = ast.parse((Path(pydeblur.__file__).parent / "__init__.pyi").read_text())
    stated = {alias.asname for node in tree.body if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert stated == set(pydeblur.__all__)
    assert (Path(pydeblur.__file__).parent / "py.typed").is_file()


@pytest.mark.parametrize("module", ["pydeblur.blind", "pydeblur.restoration", "pydeblur.methods",
                                    "pydeblur.parallel", "pydeblur.serve", "pydeblur.cli"])
def test_the_classical_layers_load_no_torch(module):
    code = f"import sys, {module}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_python_dash_m_pydeblur_runs_the_command():
    out = subprocess.run([sys.executable, "-m", "pydeblur", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "restore" in out.stdout and "train-prior" in out.stdout
