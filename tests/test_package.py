"""The package's public names, imported lazily where they need Keras."""

import subprocess
import sys

import pytest

import sfne_sklearn


def test_importing_the_package_imports_no_keras():
    script = (
        "import sys, sfne_sklearn\n"
        "print(sorted({'keras', 'tensorflow', 'scikeras', 'jax', 'skops'} & set(sys.modules)))\n"
        "sfne_sklearn.SFNEBlock\n"
        "print('keras' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["[]", "True"]


def test_every_public_name_resolves():
    for name in sfne_sklearn.__all__:
        assert getattr(sfne_sklearn, name) is not None
    assert set(sfne_sklearn.__all__) <= set(dir(sfne_sklearn))


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Missing'"):
        sfne_sklearn.Missing


def test_old_module_paths_resolve_for_old_pickles():
    import importlib

    from sfne_sklearn.preprocessing import _columns

    assert importlib.import_module("sfne_sklearn._regressor").SFNERegressor is (
        sfne_sklearn.SFNERegressor
    )
    assert importlib.import_module("sfne_sklearn._preprocessing") is _columns
