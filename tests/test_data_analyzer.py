"""Tests of DataAnalyzer and the preprocessing model it builds."""

import keras
import numpy as np
import pandas as pd
import pytest

from _frames import SMALL_BLOCK
from sfne_sklearn import DataAnalyzer, SFNEBlock
from sfne_sklearn.preprocessing._columns import MISSING_CATEGORY, fit_preprocessor
from sfne_sklearn.preprocessing._data_analyzer import ImputeMissing, Log1pColumns

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
        "flag": "categorical",  # booleans are categories, as for the estimators
        "maybe": "categorical",
    }
    info = {i.name: i for i in analyzer.columns_}
    # Categories seen, sorted as strings; missing values are a category.
    assert info["colour"].vocabulary == (MISSING_CATEGORY, "blue", "green", "red")
    assert info["city"].vocabulary == ("Lima", "Oslo", MISSING_CATEGORY)
    assert info["mixed"].vocabulary == ("1", "2.5", MISSING_CATEGORY, "a")
    assert info["flag"].vocabulary == ("False", "True")
    assert info["maybe"].vocabulary == ("False", "True", MISSING_CATEGORY)
    assert [i.has_missing for i in analyzer.columns_] == [
        False, True, False, True, False, True, True, True, False, True
    ]
    names = analyzer.get_feature_names_out()
    assert names[:7] == ["0", "1", "2", "count", "ratio", "1_missing", "count_missing"]
    assert names[7:11] == ["colour=__missing__", "colour=blue", "colour=green", "colour=red"]
    assert len(names) == analyzer.n_features_out == 7 + 4 + 3 + 4 + 2 + 3
    summary = analyzer.summary()
    assert list(summary.index) == [i.name for i in analyzer.columns_]
    assert "DataAnalyzer(n_features_in=10" in repr(analyzer)


def test_numeric_statistics_are_those_of_the_imputed_column():
    df = pd.DataFrame({"x": [1.0, np.nan, 3.0], "k": pd.array([2, 2, None], dtype="Int64")})
    x, k = DataAnalyzer(df).columns_
    # The fill value ignores missing values; the scaling sees the filled column.
    assert (x.fill_value, x.mean, x.n_missing, x.log) == (2.0, 2.0, 1, False)
    assert x.variance == pytest.approx(2 / 3)
    # A constant column is centred, not divided by zero.
    assert (k.fill_value, k.mean, k.variance) == (2.0, 2.0, 1.0)


def test_skewed_and_empty_numeric_columns():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"income": rng.lognormal(8, 1.5, 200), "empty": np.nan})
    df.loc[:5, "income"] = np.nan
    with pytest.warns(UserWarning, match="Skipping features without any observed values"):
        analyzer = DataAnalyzer(df)
    income, empty = analyzer.columns_
    assert income.log
    assert income.mean == pytest.approx(np.log1p(df["income"].fillna(income.fill_value)).mean())
    # A column without any observed value keeps only its indicator, as in SimpleImputer.
    assert (empty.fill_value, empty.mean, empty.n_missing) == (None, None, 200)
    assert analyzer.get_feature_names_out() == ["income", "income_missing", "empty_missing"]
    features = output(analyzer.create_preprocessing_model(), analyzer.to_inputs(df))
    assert features.shape == (200, 3)
    np.testing.assert_allclose(features[:, 0].mean(), 0.0, atol=1e-5)
    np.testing.assert_allclose(features[:, 0].std(), 1.0, rtol=1e-4)
    np.testing.assert_array_equal(features[:, 2], 0.0)  # a constant indicator, centred


def test_dates_are_categories_as_for_the_estimators():
    dates = pd.to_datetime(["2024-01-02", "2024-01-01", None])
    (info,) = DataAnalyzer(pd.DataFrame({"t": dates})).columns_
    assert info.kind == "categorical"
    assert info.vocabulary == ("2024-01-01 00:00:00", "2024-01-02 00:00:00", MISSING_CATEGORY)


def test_to_inputs_dtypes_and_missing_values():
    df = analyzer_frame()
    analyzer = DataAnalyzer(df)
    inputs = analyzer.to_inputs(df)
    assert list(inputs) == [str(c) for c in df.columns]
    assert all(v.shape == (len(df),) for v in inputs.values())
    assert inputs["1"].dtype == np.float32 and np.isnan(inputs["1"]).sum() == df[1].isna().sum()
    assert np.isnan(inputs["count"]).sum() == df["count"].isna().sum()
    assert inputs["colour"].dtype == object
    assert inputs["colour"][3] == MISSING_CATEGORY
    assert set(inputs["maybe"]) <= {"True", "False", MISSING_CATEGORY}
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
    assert not any(info.log for info in analyzer.columns_)  # no heavy tail here
    # Every feature, indicators included, is standardised after imputation.
    np.testing.assert_allclose(features.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(features.std(axis=0), 1.0, rtol=1e-4)
    missing = df[[0, 1, 2, "count", "ratio"]].isna().to_numpy()
    # Missing values become the mean, i.e. 0 after standardisation.
    np.testing.assert_array_equal(features[:, :5][missing], 0.0)
    np.testing.assert_array_equal(features[:, 5] > 0, df[1].isna().to_numpy())
    np.testing.assert_array_equal(features[:, 6] > 0, df["count"].isna().to_numpy())


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
    dropped = ImputeMissing(fill_values=[None, 2.0], add_indicator=[True, True])
    np.testing.assert_array_equal(output(dropped, [a, b]), [[2.0, 0.0, 1.0], [4.0, 1.0, 0.0]])
    with pytest.raises(ValueError, match="same length"):
        ImputeMissing(fill_values=[0.0], add_indicator=[True, False])


def test_log1p_columns_layer_clips_like_log_skewed():
    x = np.array([[np.e - 1.0, -2.0, 5.0], [-1.5, -2.0, 0.0]], dtype="float32")
    layer = Log1pColumns(columns=[0, 2])
    expected = [[1.0, -2.0, np.log1p(5.0)], [0.0, -2.0, 0.0]]
    np.testing.assert_allclose(output(layer, x), expected, rtol=1e-6)
    twin = Log1pColumns.from_config(layer.get_config())
    np.testing.assert_array_equal(output(twin, x), output(layer, x))


# --------------------------------------------------------------------------
# The same features as the estimators' preprocessor="auto"


def agreement_frame(n=80, seed=0, categorical=True):
    """Numeric columns with gaps, a skewed positive one and, optionally, categories."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x": rng.normal(3.0, 2.0, n),
            "income": rng.lognormal(8.0, 1.5, n),  # skewness above 2: logged
            "count": pd.array(rng.integers(0, 5, n), dtype="Int64"),
            "constant": 1.5,
        }
    )
    df.loc[::5, "x"] = np.nan
    df.loc[::7, "income"] = np.nan
    df.loc[::6, "count"] = pd.NA
    if categorical:
        df["city"] = pd.Series(rng.choice(["Oslo", "Lima", "[UNK]", None], n), dtype="str")
        df["colour"] = pd.Categorical(rng.choice(["red", "green", "blue"], n))
        df.loc[3, "colour"] = np.nan
        df["flag"] = rng.random(n) > 0.5
        df["maybe"] = pd.array(rng.choice([True, False, None], n), dtype="boolean")
    return df


def new_rows(df):
    """Rows the analysis never saw: unseen categories, new gaps, negative values."""
    new = df.head(4).copy()
    new["x"] = [np.nan, -50.0, 0.0, 1e3]
    new["income"] = [-3.0, 0.0, np.nan, 1e7]  # logged column: negatives clip to 0
    new["constant"] = [np.nan, 2.0, 1.5, 0.0]
    if "city" in new:
        new["city"] = pd.Series(["Paris", None, "Oslo", "[UNK]"], index=new.index, dtype="str")
        new["colour"] = pd.Categorical(["purple", None, "red", "teal"])
        new["maybe"] = pd.array([None, None, True, False], dtype="boolean")
    return new


@pytest.mark.parametrize("categorical", [False, pytest.param(True, marks=needs_tensorflow)])
def test_same_features_as_the_estimators_preprocessor(categorical):
    df = agreement_frame(categorical=categorical)
    analyzer = DataAnalyzer(df)
    fitted, expected = fit_preprocessor("auto", df)
    info = {i.name: i for i in analyzer.columns_}
    assert info["income"].log and not info["x"].log  # the rule under test fires
    # Same column order on both sides (numeric columns, their indicators,
    # then one one-hot block per categorical column), so no reordering.
    assert analyzer.n_features_out == expected.shape[1] == len(fitted.get_feature_names_out())
    model = analyzer.create_preprocessing_model()
    got = output(model, analyzer.to_inputs(df))
    # float32 in Keras, float64 in scikit-learn.
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=2e-6)
    new = new_rows(df)
    np.testing.assert_allclose(
        output(model, analyzer.to_inputs(new)), fitted.transform(new), rtol=1e-5, atol=2e-6
    )


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
        if df[column].isna().any():  # missing values are a category of their own
            missing = features[:, names.index(f"{column}={MISSING_CATEGORY}")]
            np.testing.assert_array_equal(missing, df[column].isna().to_numpy())
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

    def block(column):
        return features[:, [i for i, n in enumerate(names) if n.startswith(f"{column}=")]]

    # Unseen categories give a row of zeros; missing values their own category.
    np.testing.assert_array_equal(block("colour").sum(axis=1), [0, 1, 1, 0])
    np.testing.assert_array_equal(block("city").sum(axis=1), [0, 1, 1, 0])
    np.testing.assert_array_equal(features[:, names.index("maybe=__missing__")], 1)
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
    assert output(model, analyzer.to_inputs(df)).shape == (3, 1 + 2 + 2)
