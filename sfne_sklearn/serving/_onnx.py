"""Export a fitted estimator to ONNX: numeric preprocessing, the block and the output.

The graph is written with ``onnx.helper`` from the arrays the estimator
predicts with (:class:`~sfne_sklearn.serving._forward.NumpyForward` and the
fitted ``"auto"`` preprocessor): mean imputation with missing-value
indicators, the log of skewed columns, standard scaling, the block's data
path, and the regressor's target scale or the classifier's probabilities.
It computes in float32, the type ONNX runtimes serve fastest.
"""

import numpy as np
from sklearn.base import is_classifier, is_regressor
from sklearn.compose import ColumnTransformer
from sklearn.utils.validation import check_is_fitted

from ..preprocessing._columns import NumericSteps
from ._forward import folded_members

OPSET = 17
FLOAT = np.float32


class _Graph:
    """Nodes and constants of one ONNX graph, with fresh names."""

    def __init__(self, helper, numpy_helper):
        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes, self.initializers, self._count = [], [], 0

    def name(self, prefix):
        self._count += 1
        return f"{prefix}_{self._count}"

    def const(self, array, dtype=FLOAT):
        name = self.name("c")
        self.initializers.append(self.numpy_helper.from_array(np.asarray(array, dtype), name))
        return name

    def op(self, op_type, *inputs, **attributes):
        out = self.name(op_type.lower())
        self.nodes.append(self.helper.make_node(op_type, list(inputs), [out], **attributes))
        return out

    def linear(self, x, kernel, bias):
        return self.op("Add", self.op("MatMul", x, self.const(kernel)), self.const(bias))

    def columns(self, x, indices):
        return self.op("Gather", x, self.const(indices, np.int64), axis=1)

    def layer_norm(self, x, gamma, beta, epsilon):
        centred = self.op("Sub", x, self.op("ReduceMean", x, axes=[1]))
        variance = self.op("ReduceMean", self.op("Mul", centred, centred), axes=[1])
        scale = self.op("Sqrt", self.op("Add", variance, self.const(epsilon)))
        normed = self.op("Div", centred, scale)
        return self.op("Add", self.op("Mul", normed, self.const(gamma)), self.const(beta))


def _numeric_steps(estimator):
    """The arrays of the fitted numeric preprocessing, or None without a preprocessor."""
    fitted = estimator.preprocessor_
    if fitted is None:
        return None
    if isinstance(fitted, ColumnTransformer) and estimator.preprocessor == "auto":
        parts = {name: (step, columns) for name, step, columns in fitted.transformers_}
        if "cat" in parts:
            raise ValueError(
                f"to_onnx exports numeric preprocessing only; this {type(estimator).__name__} "
                f"one-hot encodes the columns {list(parts['cat'][1])}, whose string "
                "categories ONNX would take as a second, string input. Encode them as "
                "numbers before fitting, or serve with joblib."
            )
        fitted = parts["num"][0]
    steps = NumericSteps.of(fitted) if estimator.preprocessor == "auto" else None
    if steps is None:
        raise ValueError(
            f"to_onnx exports preprocessor='auto' or None; this {type(estimator).__name__} "
            f"has preprocessor={estimator.preprocessor!r}. Export that transformer with "
            "skl2onnx and this estimator fitted with preprocessor=None."
        )
    return steps


def _preprocess(graph, x, steps):
    """``NumericSteps.__call__`` as ONNX nodes."""
    kept = graph.columns(x, steps.kept)
    filled = graph.op("Where", graph.op("IsNaN", kept), graph.const(steps.fill), kept)
    z = filled
    if steps.indicator.size:
        indicator = graph.op("IsNaN", graph.columns(x, steps.indicator))
        # to=1: TensorProto.FLOAT
        z = graph.op("Concat", filled, graph.op("Cast", indicator, to=1), axis=1)
    if steps.log_columns.size:
        selected = np.zeros((1, len(steps.mean)), dtype=bool)
        selected[0, steps.log_columns] = True
        logged = graph.op("Log", graph.op("Add", graph.op("Relu", z), graph.const(1.0)))
        z = graph.op("Where", graph.const(selected, bool), logged, z)
    centred = graph.op("Sub", z, graph.const(steps.mean))
    return graph.op("Div", centred, graph.const(steps.scale))


def _splines(graph, x, columns, grid):
    """``sfne_sklearn._splines.spline_features`` as ONNX nodes, appended to ``x``."""
    u = graph.op(
        "Mul",
        graph.op("Sub", graph.columns(x, columns), graph.const(grid["low"])),
        graph.const(grid["inverse_step"]),
    )
    last, zero = graph.const(grid["last"]), graph.const(0.0)
    axis = graph.const([2], np.int64)
    inside = graph.op("Max", graph.op("Min", u, last), zero)
    distance = graph.op(
        "Abs", graph.op("Sub", graph.op("Unsqueeze", inside, axis), graph.const(grid["centres"]))
    )

    def cube(value):
        return graph.op("Mul", graph.op("Mul", value, value), value)

    outer = cube(graph.op("Relu", graph.op("Sub", graph.const(2.0), distance)))
    inner = cube(graph.op("Relu", graph.op("Sub", graph.const(1.0), distance)))
    bump = graph.op("Sub", outer, graph.op("Mul", graph.const(4.0), inner))
    features = graph.op("Div", bump, graph.const(6.0))
    for beyond, slope in (
        (graph.op("Min", u, zero), grid["slope_low"]),
        (graph.op("Relu", graph.op("Sub", u, last)), grid["slope_high"]),
    ):
        tangent = graph.op("Mul", graph.op("Unsqueeze", beyond, axis), graph.const(slope))
        features = graph.op("Add", features, tangent)
    width = len(columns) * len(grid["centres"])
    flat = graph.op("Reshape", features, graph.const([-1, width], np.int64))
    return graph.op("Concat", x, flat, axis=1)


def _block(graph, x, weights):
    if weights.get("splines") is not None:
        x = _splines(graph, x, *weights["splines"])
    n_members, input_projection, output_projection = folded_members(weights)
    z = graph.linear(x, *input_projection)
    hidden = len(weights["norm"][0])
    if n_members > 1:  # each row's members, one after another
        z = graph.op("Reshape", z, graph.const([-1, hidden], np.int64))
    for kernel, bias in weights["hidden_layers"]:
        z = graph.op("Add", z, graph.op("Relu", graph.linear(z, kernel, bias)))
    zn = graph.layer_norm(z, *weights["norm"])
    global_features = graph.op(
        "Mul", zn, graph.op("MatMul", zn, graph.const(weights["global_weights"]))
    )
    local_features = graph.op(
        "Mul", zn, graph.op("MatMul", zn, graph.const(weights["local_weights"]))
    )
    both = graph.op("Concat", global_features, local_features, axis=1)
    z = graph.op("Add", z, graph.linear(both, *weights["combine"]))
    normalised = graph.layer_norm(z, *weights["output_norm"])
    if n_members > 1:
        normalised = graph.op("Reshape", normalised, graph.const([-1, n_members * hidden], np.int64))
    return graph.linear(normalised, *output_projection)


def _outputs(graph, estimator, out):
    """The estimator's own output from the block's: name and graph value."""
    if is_classifier(estimator):
        kind = estimator._label_kind
        if kind == "binary":
            positive = graph.op("Sigmoid", out)
            negative = graph.op("Sub", graph.const(1.0), positive)
            return "probabilities", graph.op("Concat", negative, positive, axis=1)
        if kind == "multiclass":
            return "probabilities", graph.op("Softmax", out, axis=1)
        return "probabilities", graph.op("Sigmoid", out)
    if is_regressor(estimator):
        y = graph.op(
            "Add",
            graph.op("Mul", out, graph.const(estimator._y_scale)),
            graph.const(estimator._y_mean),
        )
        if estimator._y_ndim == 1:
            y = graph.op("Squeeze", y, graph.const([1], np.int64))
        return "predictions", y
    return "features", out


def to_onnx(estimator, X_sample=None):
    """Export a fitted SFNE estimator, numeric preprocessing included, to ONNX.

    The model takes one float32 input ``X`` of shape ``(n_samples,
    n_features_in_)``, the columns in the order of fit (NaN for a missing
    value), and returns ``predictions`` (:class:`SFNERegressor`, the shape
    ``predict`` gives), ``probabilities`` (:class:`SFNEClassifier`, as
    ``predict_proba``) or ``features`` (:class:`SFNETransformer`, as
    ``transform``). It computes in float32: outputs match the estimator's
    within float32 rounding.

    Parameters
    ----------
    estimator : SFNERegressor, SFNEClassifier or SFNETransformer
        Fitted, with ``preprocessor="auto"`` on numeric columns, or
        ``preprocessor=None``.
    X_sample : array-like or DataFrame, default=None
        A few rows of the data the model serves: when given, they are
        checked against ``n_features_in_`` and must hold numbers only.

    Returns
    -------
    onnx.ModelProto
        The model; ``model.SerializeToString()`` gives the bytes to store.

    Raises
    ------
    ValueError
        If the estimator one-hot encodes string categories, uses another
        preprocessor, or ``X_sample`` does not fit it.
    ImportError
        If the ``onnx`` package is missing (the ``onnx`` extra).

    Examples
    --------
    >>> import numpy as np
    >>> from sfne_sklearn import SFNERegressor, to_onnx
    >>> X = np.random.RandomState(0).normal(size=(40, 3))
    >>> reg = SFNERegressor(epochs=2, random_state=0).fit(X, X[:, 0])
    >>> onx = to_onnx(reg, X[:5])
    >>> [(v.name, v.type.tensor_type.elem_type) for v in onx.graph.output]  # 1: float32
    [('predictions', 1)]

    Serve it with ``onnxruntime.InferenceSession(onx.SerializeToString())``
    and ``session.run(None, {"X": X.astype(np.float32)})``.
    """
    try:
        from onnx import TensorProto, checker, helper, numpy_helper
    except ImportError as exc:
        raise ImportError(
            'to_onnx needs the onnx package: pip install "sfne-sklearn[onnx]"'
        ) from exc
    check_is_fitted(estimator)
    steps = _numeric_steps(estimator)
    n_features = estimator.n_features_in_
    if X_sample is not None:
        sample = np.asarray(X_sample)
        if sample.ndim != 2 or sample.shape[1] != n_features:
            raise ValueError(
                f"X_sample has shape {sample.shape}; this {type(estimator).__name__} takes "
                f"{n_features} columns."
            )
        try:
            sample.astype(FLOAT)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"X_sample must hold numbers only, as the ONNX input does: {exc}"
            ) from exc

    graph = _Graph(helper, numpy_helper)
    x = "X"
    features = x if steps is None else _preprocess(graph, x, steps)
    name, value = _outputs(graph, estimator, _block(graph, features, estimator._forward.weights))
    graph.nodes.append(helper.make_node("Identity", [value], [name]))
    width = estimator._forward.weights["output_projection"][1].shape[-1]
    if name == "probabilities" and estimator._label_kind == "binary":
        width = 2
    out_shape = ["N"] if name == "predictions" and estimator._y_ndim == 1 else ["N", width]
    model = helper.make_model(
        helper.make_graph(
            graph.nodes,
            f"sfne_sklearn_{type(estimator).__name__}",
            [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["N", n_features])],
            [helper.make_tensor_value_info(name, TensorProto.FLOAT, out_shape)],
            graph.initializers,
        ),
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="sfne_sklearn",
    )
    checker.check_model(model)
    return model
