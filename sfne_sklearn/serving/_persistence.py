"""Saving fitted estimators: library versions, model state and a format without pickle.

Two ways to store a fitted estimator:

- pickle / joblib, through ``BaseSFNE.__getstate__``: the Keras model is
  stored as its config and its weights (numpy arrays);
- :func:`save` / :func:`load`: one zip archive holding each Keras model as a
  ``.keras`` file, loaded with ``safe_mode=True``, and the rest of the
  estimator as a skops file, built on load from an explicit list of trusted
  types. Loading it never runs pickle.

Both record the versions of the libraries that wrote them and warn with
:class:`InconsistentVersionWarning` when loaded under others.
"""

import contextlib
import contextvars
import json
import os
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
import sklearn
import sklearn.exceptions
from sklearn.utils.validation import check_is_fitted

# Keras and skops are imported where a model is saved or rebuilt: unpickling
# an estimator to predict with it needs neither (see serving._forward).

FORMAT = "sfne_sklearn.save"
FORMAT_VERSION = 1
_MANIFEST = "manifest.json"
_ESTIMATOR = "estimator.skops"

TRUSTED_TYPES = [
    "sfne_sklearn.estimators._classifier.SFNEClassifier",
    "sfne_sklearn.estimators._regressor.SFNERegressor",
    "sfne_sklearn.estimators._transformer.SFNETransformer",
    # The "auto" preprocessor's own transformer, and its FunctionTransformer's function.
    "sfne_sklearn.preprocessing._columns.LogSkewed",
    "sfne_sklearn.preprocessing._columns.MeanImputer",
    "sfne_sklearn.preprocessing._columns.BlockScaler",
    "sfne_sklearn.preprocessing._columns._as_category_strings",
    "sfne_sklearn.preprocessing._columns.NumericSteps",
    "sfne_sklearn.preprocessing._columns.FrameSteps",
    # The same types under the module paths that archives of 0.1.0 recorded.
    "sfne_sklearn._classifier.SFNEClassifier",
    "sfne_sklearn._regressor.SFNERegressor",
    "sfne_sklearn._transformer.SFNETransformer",
    "sfne_sklearn._preprocessing.LogSkewed",
    "sfne_sklearn._preprocessing._as_category_strings",
    # The block's data path in NumPy, which the estimators predict with.
    "sfne_sklearn.serving._forward.NumpyForward",
    # skops rebuilds a dtype from an empty array in numpy's own format.
    "numpy.dtype",
]
"""Types, beyond those skops trusts by default, that a fitted estimator holds.

:func:`load` builds these and nothing else (with scikit-learn's estimators,
NumPy arrays and builtins, which skops trusts by default). Pass the list to
skops-based tools, e.g. MLflow's
``mlflow.sklearn.log_model(..., skops_trusted_types=sfne_sklearn.TRUSTED_TYPES)``.
"""

# The archive being written or read, while save() or load() runs: the
# estimators' __getstate__/__setstate__ then store their Keras model in it as
# a .keras file instead of as config and weights.
_ARCHIVE = contextvars.ContextVar("sfne_sklearn_archive", default=None)


class InconsistentVersionWarning(sklearn.exceptions.InconsistentVersionWarning):
    """Warning raised when an estimator is loaded under other library versions.

    The versions of sfne_sklearn, Keras, the Keras backend, scikit-learn and
    numpy that wrote a pickle or an archive are stored in it. Loading it
    under other versions may work, fail, or predict differently; refit or
    save it again under the current versions.

    A subclass of scikit-learn's warning of the same name, so that a filter
    on scikit-learn's warning covers this one too.

    Parameters
    ----------
    message : str
        The warning text.
    original_versions : dict
        Library versions that wrote the file.
    current_versions : dict
        Library versions that load it.
    """

    def __init__(self, message, *, original_versions, current_versions):
        # scikit-learn's __init__ takes other arguments: set its attributes
        # here, as far as the versions tell them.
        UserWarning.__init__(self, message)
        self.message = message
        self.original_versions = original_versions
        self.current_versions = current_versions
        self.estimator_name = message.split(" was saved")[0].removeprefix("This ")
        self.original_sklearn_version = (original_versions or {}).get("scikit-learn")
        self.current_sklearn_version = current_versions.get("scikit-learn")

    def __str__(self):
        return self.message


#: Libraries that only the Keras model needs: predicting (NumPy) does not.
MODEL_LIBRARIES = ("keras", "keras_backend", "tensorflow", "jax", "torch")


def library_versions(model=True):
    """Versions of the libraries a fitted estimator depends on.

    Parameters
    ----------
    model : bool, default=True
        Include the Keras side (:data:`MODEL_LIBRARIES`); this imports Keras.

    Returns
    -------
    versions : dict of str
        ``sfne_sklearn``, ``scikit-learn`` and ``numpy``, and with ``model``
        ``keras``, ``keras_backend`` (its name) and the backend's library
        (``tensorflow``, ``jax`` or ``torch``).
    """
    from .._version import __version__

    versions = {
        "sfne_sklearn": __version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
    }
    if model:
        import keras

        backend = keras.backend.backend()
        versions.update(keras=keras.__version__, keras_backend=backend)
        if backend in ("tensorflow", "jax", "torch"):
            versions[backend] = __import__(backend).__version__
    return versions


def check_versions(saved, what, part="all"):
    """Warn if ``saved`` library versions differ from the running ones.

    ``part`` is ``"all"``, ``"model"`` (the Keras side only, compared when
    a loaded estimator rebuilds its model) or ``"rest"`` (all but the Keras
    side). Inside :func:`load` the archive's manifest has been checked already.
    """
    if _ARCHIVE.get() is not None:
        return
    current = library_versions(model=part != "rest")
    saved = saved or {}
    names = current.keys() | saved.keys()
    if part != "all":
        names = {name for name in names if (name in MODEL_LIBRARIES) == (part == "model")}
    changed = sorted(name for name in names if saved.get(name) != current.get(name))
    if not changed:
        return
    differences = ", ".join(
        f"{name} {saved.get(name, 'unknown')} -> {current.get(name, 'absent')}" for name in changed
    )
    warnings.warn(
        InconsistentVersionWarning(
            f"{what} was saved with other library versions than the running ones "
            f"({differences}). It may fail or predict differently: refit it, or save it "
            "again, under the current versions.",
            original_versions=dict(saved),
            current_versions=current,
        ),
        stacklevel=2,
    )


def model_to_state(model):
    """Picklable state of a Keras model: a .keras member inside save(), else config and weights."""
    import keras

    archive = _ARCHIVE.get()
    if isinstance(archive, _ArchiveWriter):
        return {"keras_file": archive.add_model(model)}
    return {"config": keras.saving.serialize_keras_object(model), "weights": model.get_weights()}


def in_archive():
    """Whether :func:`save` or :func:`load` is running in this context."""
    return _ARCHIVE.get() is not None


def model_from_state(state):
    """Inverse of :func:`model_to_state`."""
    archive = _ARCHIVE.get()
    if isinstance(archive, _ArchiveReader):
        # An archive's Keras models are built by load_model in safe mode only.
        return archive.load_model(state.get("keras_file"))
    if "keras_file" in state:
        raise ValueError("A .keras model reference can only be loaded by sfne_sklearn.load.")
    import keras

    # Registers the block's and the layers' names for deserialisation.
    from ..model import _block  # noqa: F401

    model = keras.saving.deserialize_keras_object(state["config"])
    model.set_weights(state["weights"])
    return model


class _ArchiveWriter:
    def __init__(self, archive, workdir):
        self.archive, self.workdir, self._names = archive, workdir, {}

    @property
    def models(self):
        return list(self._names.values())

    def add_model(self, model):
        # skops asks for an object's state twice (once through __reduce__):
        # write each model once. The estimators keep the models alive.
        if id(model) not in self._names:
            name = f"models/{len(self._names)}.keras"
            local = os.path.join(self.workdir, "model.keras")
            model.save(local)
            self.archive.write(local, name)
            self._names[id(model)] = name
        return self._names[id(model)]


class _ArchiveReader:
    def __init__(self, models, workdir):
        self.models, self.workdir = models, workdir

    def load_model(self, name):
        if name not in self.models:
            raise ValueError(f"The archive's estimator refers to an unknown model {name!r}.")
        local = os.path.join(self.workdir, "model.keras")
        Path(local).write_bytes(self.models[name])
        import keras

        from ..model import _block  # noqa: F401

        return keras.saving.load_model(local, compile=False, safe_mode=True)


@contextlib.contextmanager
def _using(archive):
    token = _ARCHIVE.set(archive)
    try:
        yield archive
    finally:
        _ARCHIVE.reset(token)


def save(estimator, path):
    """Save a fitted estimator to ``path`` without pickle.

    The file is a zip archive: a JSON manifest with the library versions,
    each Keras model as a ``.keras`` file (weights as arrays, no device or
    backend state), and everything else as a skops file. Load it with
    :func:`load`. The file is written in full or not at all.

    Parameters
    ----------
    estimator : estimator
        A fitted :class:`SFNERegressor`, :class:`SFNETransformer`, or a
        scikit-learn meta-estimator such as a Pipeline holding them, built
        from types that :func:`load` trusts.
    path : str or path-like
        Destination file; ``.sfne`` is a good suffix.

    Raises
    ------
    TypeError
        If a parameter holds a Keras object (a callback, an optimizer or a
        loss instance): pass names (``optimizer="adam"``) or set it to None
        first, or use joblib.

    See Also
    --------
    load : Load the estimator back.

    Examples
    --------
    >>> import numpy as np
    >>> import sfne_sklearn
    >>> X = np.random.RandomState(0).normal(size=(30, 3))
    >>> reg = sfne_sklearn.SFNERegressor(epochs=2, random_state=0).fit(X, X[:, 0])
    >>> sfne_sklearn.save(reg, "reg.sfne")  # doctest: +SKIP
    >>> sfne_sklearn.load("reg.sfne").predict(X[:2]).shape  # doctest: +SKIP
    (2,)
    """
    from ..training import require_keras

    keras = require_keras("sfne_sklearn.save")
    import skops.io as sio

    check_is_fitted(estimator)
    # skops cannot store live Keras objects (they hold the training model).
    keras_types = (keras.callbacks.Callback, keras.optimizers.Optimizer, keras.losses.Loss)
    held = [
        name
        for name, value in estimator.get_params(deep=True).items()
        if isinstance(value, keras_types)
        or (isinstance(value, (list, tuple)) and any(isinstance(v, keras_types) for v in value))
    ]
    if held:
        raise TypeError(
            f"sfne_sklearn.save cannot store the Keras objects in the parameters {held}. "
            "Pass names (e.g. optimizer='adam', loss='mse') or set callbacks=None before "
            "saving, or save with joblib."
        )
    path = Path(path)
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(fd)
    try:
        with (
            tempfile.TemporaryDirectory() as workdir,
            zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive,
        ):
            with _using(_ArchiveWriter(archive, workdir)) as writer:
                archive.writestr(_ESTIMATOR, sio.dumps(estimator))
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "estimator": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
                "versions": library_versions(),
                "models": writer.models,
            }
            archive.writestr(_MANIFEST, json.dumps(manifest, indent=2))
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def load(path, *, trusted=None):
    """Load an estimator written by :func:`save`, without pickle.

    Keras models are loaded with ``safe_mode=True``; the rest is built by
    skops from :data:`TRUSTED_TYPES` and scikit-learn's own types only.

    Parameters
    ----------
    path : str or path-like
        File written by :func:`save`.
    trusted : list of str, default=None
        More type names (``"module.Class"``) to build, for archives holding
        your own estimators. Review them first: see
        :func:`skops.io.get_untrusted_types`.

    Returns
    -------
    estimator : estimator
        The fitted estimator.

    Raises
    ------
    ValueError
        If the file is truncated, corrupted or not written by :func:`save`.
    TypeError
        If the archive holds types that are not trusted.

    Warns
    -----
    InconsistentVersionWarning
        If the archive was written under other library versions.

    See Also
    --------
    save : Write the archive.
    """
    from ..training import require_keras

    require_keras("sfne_sklearn.load")
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read(_MANIFEST))
            if manifest.get("format") != FORMAT:
                raise ValueError(f"its manifest has format={manifest.get('format')!r}")
            format_version = int(manifest["format_version"])
            data = archive.read(_ESTIMATOR)
            models = {name: archive.read(name) for name in manifest["models"]}
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError, zlib.error, TypeError) as exc:
        raise ValueError(
            f"{os.fspath(path)!r} is not a readable sfne_sklearn archive: it is truncated, "
            f"corrupted, or was not written by sfne_sklearn.save ({type(exc).__name__}: {exc})."
        ) from exc
    if format_version > FORMAT_VERSION:
        raise ValueError(
            f"{os.fspath(path)!r} uses archive format {format_version}; this "
            f"sfne_sklearn reads formats up to {FORMAT_VERSION}. Upgrade sfne_sklearn."
        )
    check_versions(manifest.get("versions"), f"The archive {os.fspath(path)!r}")
    with tempfile.TemporaryDirectory() as workdir, _using(_ArchiveReader(models, workdir)):
        try:
            return sio.loads(data, trusted=TRUSTED_TYPES + list(trusted or []))
        except UntrustedTypesFoundException as exc:
            raise TypeError(
                f"{os.fspath(path)!r} holds types that sfne_sklearn.load does not trust, so "
                f"it was not loaded. {exc} Pass the names you have reviewed as "
                "`trusted=[...]`."
            ) from exc
