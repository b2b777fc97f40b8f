"""Tests of DataAnalyzer and the preprocessing model it builds."""

import keras
import numpy as np
import pandas as pd
import pytest

from _frames import SMALL_BLOCK
from sfne_sklearn import DataAnalyzer, SFNEBlock
from sfne_sklearn.preprocessing._data_analyzer import MISSING_TOKEN, ImputeMissing

needs_tensorflow = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="string columns are one-hot encoded by StringLookup inside the model, "
    "which needs TensorFlow string tensors (JAX has none)",
)



def numeric_frame(n=40, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.normal(loc=3.0, scale=2.0, size=(n, 3)))  # integer labels 0, 1, 2
    df[1] = df[1].mask(rng.random(n) < 0.25)
    df["count"] = pd.array(rng.integers(0, 5, n), dtype="Int64")
    df.loc[::7, "count"] = pd.NA
    df["ratio"] = pd.array(rng.random(n), dtype="Float64")
    return df


def analyzer_frame(n=40, seed=0):
    rng = np.random.default_rng(seed)
    df = numeric_frame(n, seed)
    df["colour"] = pd.Categorical(rng.choice(["red", "green", "blue"], n))
    df.loc[3, "colour"] = np.nan
    df["city"] = pd.Series(rng.choice(["Oslo", "Lima", None], n), dtype="str")
    mixed = np.array(["a", 1, 2.5, None], dtype=object)
    df["mixed"] = pd.Series(rng.choice(mixed, n), dtype=object)
    df["flag"] = rng.random(n) > 0.5
    df["maybe"] = pd.array(rng.choice([True, False, None], n), dtype="boolean")
    return df


def output(model, inputs):
    return keras.ops.convert_to_numpy(model(inputs))


# --------------------------------------------------------------------------
# Analysis (pure pandas, any backend)


def test_spec_frame_gives_one_feature_per_column():
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(100, 16)))
    analyzer = DataAnalyzer(df)
    assert analyzer.n_features_out == analyzer.output_dim == 16
    assert analyzer.numeric_columns == [str(i) for i in range(16)]
    assert analyzer.categorical_columns == []
    assert not analyzer.requires_tensorflow


def test_column_kinds_and_feature_names():
    analyzer = DataAnalyzer(analyzer_frame())
    kinds = {info.name: info.kind for info in analyzer.columns_}
    assert kinds == {
        "0": "numeric",
        "1": "numeric",
        "2": "numeric",
        "count": "numeric",
        "ratio": "numeric",
        "colour": "categorical",
        "city": "categorical",
        "mixed": "categorical",
        "flag": "boolean",
        "maybe": "boolean",
    }
    info = {i.name: i for i in analyzer.columns_}
    assert info["colour"].vocabulary == ("blue", "green", "red")
    assert info["city"].vocabulary == ("Lima", "Oslo")
    assert info["mixed"].vocabulary == ("1", "2.5", "a")
    assert info["flag"].vocabulary == info["maybe"].vocabulary == ("False", "True")
    assert [i.has_missing for i in analyzer.columns_] == [
        False, True, False, True, False, True, True, True, False, True
    ]
    names = analyzer.get_feature_names_out()
    assert names[:7] == ["0", "1", "2", "count", "ratio", "1_missing", "count_missing"]
    assert names[7:11] == ["colour=[UNK]", "colour=blue", "colour=green", "colour=red"]
    assert len(names) == analyzer.n_features_out == 7 + 4 + 3 + 4 + 3 + 3
    summary = analyzer.summary()
    assert list(summary.index) == [i.name for i in analyzer.columns_]
    assert "DataAnalyzer(n_features_in=10" in repr(analyzer)


def test_numeric_statistics_ignore_missing_values():
    df = pd.DataFrame({"x": [1.0, np.nan, 3.0], "k": pd.array([2, 2, None], dtype="Int64")})
    x, k = DataAnalyzer(df).columns_
    assert (x.mean, x.variance, x.n_missing) == (2.0, 1.0, 1)
    # A constant column is centred, not divided by zero.
    assert (k.mean, k.variance) == (2.0, 1.0)


def test_to_inputs_dtypes_and_missing_values():
    df = analyzer_frame()
    analyzer = DataAnalyzer(df)
    inputs = analyzer.to_inputs(df)
    assert list(inputs) == [str(c) for c in df.columns]
    assert all(v.shape == (len(df),) for v in inputs.values())
    assert inputs["1"].dtype == np.float32 and np.isnan(inputs["1"]).sum() == df[1].isna().sum()
    assert np.isnan(inputs["count"]).sum() == df["count"].isna().sum()
    assert inputs["colour"].dtype == object
    assert inputs["colour"][3] == MISSING_TOKEN
    assert set(inputs["maybe"]) <= {"True", "False", MISSING_TOKEN}
    assert all(isinstance(v, str) for v in inputs["mixed"])


def test_to_inputs_matches_columns_by_string_label_and_ignores_extras():
    df = numeric_frame()
    analyzer = DataAnalyzer(df)
    renamed = df.rename(columns=str).assign(extra=1.0)
    expected = analyzer.to_inputs(df)
    got = analyzer.to_inputs(renamed)
    assert list(got) == list(expected)
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key])


def test_to_inputs_reports_absent_columns():
    df = numeric_frame()
    analyzer = DataAnalyzer(df)
    with pytest.raises(KeyError, match="count"):
        analyzer.to_inputs(df.drop(columns="count"))


def test_to_inputs_refuses_text_in_a_numeric_column():
    analyzer = DataAnalyzer(pd.DataFrame({"x": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="'x' was analysed as numeric"):
        analyzer.to_inputs(pd.DataFrame({"x": ["one", "two"]}))


@pytest.mark.parametrize(
    "df, error, match",
    [
        (np.zeros((3, 2)), TypeError, "pandas DataFrame"),
        (pd.DataFrame(), ValueError, "no columns"),
        (pd.DataFrame({"a": []}), ValueError, "no rows"),
        (pd.DataFrame([[1, 2]], columns=["a", "a"]), ValueError, "unique"),
        (pd.DataFrame([[1, 2]], columns=[1, "1"]), ValueError, "clash"),
        (pd.DataFrame({"t": pd.to_datetime(["2024-01-01"])}), TypeError, "'t' has dtype"),
        (pd.DataFrame({"x": [1.0, np.inf]}), ValueError, "infinite"),
    ],
)
def test_invalid_frames(df, error, match):
    with pytest.raises(error, match=match):
        DataAnalyzer(df)


def test_string_columns_need_tensorflow(monkeypatch):
    analyzer = DataAnalyzer(pd.DataFrame({"city": ["Oslo", "Lima"], "x": [1.0, 2.0]}))
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    match = r"\['city'\].*backend is 'jax'.*KERAS_BACKEND=tensorflow"
    with pytest.raises(RuntimeError, match=match):
        analyzer.create_preprocessing_model()


# --------------------------------------------------------------------------
# Numeric preprocessing model (any backend)


def test_numeric_model_standardises_and_flags_missing_values():
    df = numeric_frame()
    analyzer = DataAnalyzer(df)
    model = analyzer.create_preprocessing_model()
    features = output(model, analyzer.to_inputs(df))
    assert features.shape == (len(df), analyzer.n_features_out) == (len(df), 7)
    assert features.dtype == np.float32
    assert np.all(np.isfinite(features))
    values = features[:, :5]
    observed = ~df[[0, 1, 2, "count", "ratio"]].isna().to_numpy()
    for j in range(5):
        column = values[observed[:, j], j]
        np.testing.assert_allclose(column.mean(), 0.0, atol=1e-5)
        np.testing.assert_allclose(column.std(), 1.0, rtol=1e-4)
        # Missing values become the mean, i.e. 0 after standardisation.
        np.testing.assert_array_equal(values[~observed[:, j], j], 0.0)
    np.testing.assert_array_equal(features[:, 5], df[1].isna().to_numpy())
    np.testing.assert_array_equal(features[:, 6], df["count"].isna().to_numpy())


def test_numeric_model_trains_predicts_and_round_trips(tmp_path):
    df = numeric_frame()
    analyzer = DataAnalyzer(df)
    inputs = analyzer.to_inputs(df)
    model = SFNEBlock(
        input_dim=analyzer.n_features_out,
        output_dim=2,
        preprocessing_model=analyzer.create_preprocessing_model(),
        **SMALL_BLOCK,
    )
    model.compile(optimizer="adam", loss="mse")
    y = np.random.default_rng(1).normal(size=(len(df), 2)).astype("float32")
    model.fit(inputs, y, epochs=2, batch_size=16, verbose=0)
    predictions = model.predict(inputs, verbose=0)
    assert predictions.shape == (len(df), 2)
    assert np.all(np.isfinite(predictions))
    model.save(tmp_path / "numeric.keras")
    loaded = keras.models.load_model(tmp_path / "numeric.keras")
    assert isinstance(loaded.preprocessing_model, keras.Model)
    np.testing.assert_array_equal(loaded.predict(inputs, verbose=0), predictions)


def test_block_checks_the_preprocessing_width():
    df = numeric_frame()
    analyzer = DataAnalyzer(df)
    preprocessing = analyzer.create_preprocessing_model()
    model = SFNEBlock(input_dim=5, preprocessing_model=preprocessing, **SMALL_BLOCK)
    with pytest.raises(ValueError, match="expects 5 input features.*received 7"):
        model(analyzer.to_inputs(df))


def test_column_names_that_are_not_tensor_names():
    df = pd.DataFrame(
        {"km/h": [1.0, 2.0, 4.0], "": [0.0, 1.0, np.nan], "impute_missing": [3.0, 2.0, 1.0]}
    )
    analyzer = DataAnalyzer(df)
    model = analyzer.create_preprocessing_model()
    assert output(model, analyzer.to_inputs(df)).shape == (3, 4)


def test_impute_missing_layer_round_trip():
    layer = ImputeMissing(fill_values=[0.5, 2.0], add_indicator=[True, False])
    a = np.array([1.0, np.nan], dtype="float32")
    b = np.array([np.nan, 4.0], dtype="float32")
    np.testing.assert_array_equal(output(layer, [a, b]), [[1.0, 2.0, 0.0], [0.5, 4.0, 1.0]])
    twin = ImputeMissing.from_config(layer.get_config())
    np.testing.assert_array_equal(output(twin, [a, b]), output(layer, [a, b]))
    with pytest.raises(ValueError, match="same length"):
        ImputeMissing(fill_values=[0.0], add_indicator=[True, False])


# --------------------------------------------------------------------------
# Mixed frames (string lookups: TensorFlow only)


@needs_tensorflow
def test_mixed_model_one_hot_blocks():
    df = analyzer_frame()
    analyzer = DataAnalyzer(df)
    model = analyzer.create_preprocessing_model()
    features = output(model, analyzer.to_inputs(df))
    assert features.shape == (len(df), analyzer.n_features_out)
    assert features.dtype == np.float32
    names = analyzer.get_feature_names_out()
    for column in analyzer.categorical_columns:
        block = features[:, [i for i, n in enumerate(names) if n.startswith(f"{column}=")]]
        np.testing.assert_array_equal(block.sum(axis=1), 1.0)  # exactly one slot per row
        # The OOV slot (first) takes exactly the missing values.
        np.testing.assert_array_equal(block[:, 0], df[column].isna().to_numpy())
    colour = features[:, names.index("colour=red")]
    np.testing.assert_array_equal(colour, (df["colour"] == "red").to_numpy())


@needs_tensorflow
def test_unseen_categories_and_missing_values_at_predict_time():
    df = analyzer_frame()
    analyzer = DataAnalyzer(df)
    model = SFNEBlock(
        input_dim=analyzer.n_features_out,
        output_dim=1,
        preprocessing_model=analyzer.create_preprocessing_model(),
        **SMALL_BLOCK,
    )
    model.compile(optimizer="adam", loss="mse")
    y = np.random.default_rng(1).normal(size=(len(df), 1)).astype("float32")
    model.fit(analyzer.to_inputs(df), y, epochs=1, batch_size=16, verbose=0)

    new = df.head(4).copy()
    new["colour"] = pd.Categorical(["purple", None, "red", "teal"])
    new["city"] = pd.Series(["Paris", None, "Oslo", "[UNK]"], dtype="str")
    new["mixed"] = pd.Series([b"raw", 7, None, "a"], index=new.index, dtype=object)
    new["maybe"] = pd.array([None, None, None, None], dtype="boolean")
    new[0] = np.nan  # missing where training had none: filled with the mean
    inputs = analyzer.to_inputs(new)
    predictions = model.predict(inputs, verbose=0)
    assert predictions.shape == (4, 1)
    assert np.all(np.isfinite(predictions))
    features = output(model.preprocessing_model, inputs)
    names = analyzer.get_feature_names_out()
    np.testing.assert_array_equal(features[:, names.index("colour=[UNK]")], [1, 1, 0, 1])
    np.testing.assert_array_equal(features[:, names.index("city=[UNK]")], [1, 1, 0, 1])
    np.testing.assert_array_equal(features[:, names.index("maybe=[UNK]")], 1)
    np.testing.assert_array_equal(features[:, names.index("0")], 0.0)


@needs_tensorflow
def test_save_and_load_carry_the_preprocessing(tmp_path):
    df = analyzer_frame()
    analyzer = DataAnalyzer(df)
    inputs = analyzer.to_inputs(df)
    model = SFNEBlock(
        input_dim=analyzer.n_features_out,
        output_dim=2,
        preprocessing_model=analyzer.create_preprocessing_model(),
        **SMALL_BLOCK,
    )
    model.compile(optimizer="adam", loss="mse")
    y = np.random.default_rng(1).normal(size=(len(df), 2)).astype("float32")
    model.fit(inputs, y, epochs=1, batch_size=16, verbose=0)
    predictions = model.predict(inputs, verbose=0)

    path = tmp_path / "mixed.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # no custom_objects
    assert isinstance(loaded, SFNEBlock)
    np.testing.assert_array_equal(loaded.predict(inputs, verbose=0), predictions)
    np.testing.assert_array_equal(output(loaded, inputs), output(model, inputs))
    # The vocabularies came along: the loaded model encodes unseen data alike.
    new = df.head(3).assign(city=pd.Series(["Rome", "Oslo", None], dtype="str"))
    np.testing.assert_array_equal(
        output(loaded.preprocessing_model, analyzer.to_inputs(new)),
        output(model.preprocessing_model, analyzer.to_inputs(new)),
    )


@needs_tensorflow
def test_integer_column_labels_with_strings():
    df = pd.DataFrame({0: [1.0, 2.0, 3.0], 1: ["a", "b", "a"], 2: [True, False, True]})
    analyzer = DataAnalyzer(df)
    model = analyzer.create_preprocessing_model()
    assert list(analyzer.to_inputs(df)) == ["0", "1", "2"]
    assert output(model, analyzer.to_inputs(df)).shape == (3, 1 + 3 + 3)
