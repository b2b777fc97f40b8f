"""Fit time of the default SFNERegressor against MLPRegressor, side by side.

For each data set of the regression benchmark (80/20 split, random_state=0):
the median of 3 fits of the default ``SFNERegressor``, of its single network
(``n_members=1``, where the default trains an ensemble) and of
``MLPRegressor(early_stopping=True)`` on the same preprocessed training rows,
after one warm-up fit of each in this process, with the ratios and the test
R2. Then the design card's grid search
(``SFNETransformer(output_dim=32)`` + ``Ridge`` over ``sfne__hidden_dim`` in
[16, 32], 5 folds, concrete) against the same grid over MLPRegressor's
hidden size, and a profile of one small and one large fit.

On TensorFlow it also times the parts of one train step (the block's
hyper-weights, forward, gradient, the whole step with Adam), with and
without XLA.

Run: python benchmarks/training_speed.py [--datasets diamonds concrete ...]
[--out docs/benchmarks_training.md]; under ``KERAS_BACKEND=jax`` for the
JAX figures (written to docs/benchmarks_training_jax.md in the docs).
"""

import argparse
import cProfile
import io
import pstats
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from _common import REGRESSION_DATA, column_transformer, load, machine
from sfne_sklearn import SFNERegressor, SFNETransformer

DOCS = Path(__file__).resolve().parent.parent / "docs"
LINES = []


def report(text=""):
    print(text, flush=True)
    LINES.append(text)


def interleaved_fits(makers, X, y, repeat=3, warm=()):
    """Fit seconds of ``makers`` (name -> factory), fitted in turn ``repeat`` times.

    One warm-up fit of each first (but of those named in ``warm``, fitted
    already); then rounds of one fit of each, so that a drift in the
    machine's speed reaches every model alike. Returns the median seconds
    of each, its seconds of every round, and its last model.
    """
    for name, make in makers.items():
        if name not in warm:
            make().fit(X, y)
    rounds = {name: [] for name in makers}
    models = {}
    for _ in range(repeat):
        for name, make in makers.items():
            models[name] = make()
            start = time.perf_counter()
            models[name].fit(X, y)
            rounds[name].append(time.perf_counter() - start)
    medians = {name: float(np.median(times)) for name, times in rounds.items()}
    return medians, {name: np.array(times) for name, times in rounds.items()}, models


def paired_ratio(rounds, name, other="mlp"):
    """Median over rounds of ``name``'s fit seconds over ``other``'s in the same round."""
    return float(np.median(rounds[name] / rounds[other]))


def fit_times(names):
    report("## Fit time, default SFNERegressor vs MLPRegressor(early_stopping=True)\n")
    report("Median of 3 fits after one warm-up fit of each in the same process, the models")
    report("fitted in turn (SFNE, MLP, one network; three rounds), each ratio the median of")
    report("the three rounds' ratios, so that a drift in the machine's speed cancels; all on the")
    report("same preprocessed rows (SFNERegressor with `preprocessor=None`, the target")
    report("standardised for MLPRegressor as SFNERegressor does internally). \"One")
    report("network\": `n_members=1`, the default's single network without its ensemble")
    report("(the same fit where the default trains one member).\n")
    report("| data (train rows) | SFNERegressor fit (s) | members | epochs | MLPRegressor fit (s) | ratio | target "
           "| one network fit (s) | its ratio | SFNE test R² | one network test R² | MLP test R² |")
    report("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for name in names:
        X_train, X_test, y_train, y_test = load(name)
        pre = column_transformer(X_train).fit(X_train)
        Xt, Xv = pre.transform(X_train), pre.transform(X_test)
        makers = {
            "sfne": lambda: SFNERegressor(preprocessor=None, random_state=0),
            "mlp": lambda: TransformedTargetRegressor(
                MLPRegressor(early_stopping=True, random_state=0), transformer=StandardScaler()
            ),
        }
        # The warm-up fit of the default tells whether it trains an ensemble.
        if makers["sfne"]().fit(Xt, y_train).model_.n_members > 1:
            makers["one"] = lambda: SFNERegressor(preprocessor=None, random_state=0, n_members=1)
        seconds, rounds, models = interleaved_fits(makers, Xt, y_train, warm=("sfne",))
        sfne, mlp = models["sfne"], models["mlp"]
        members = sfne.model_.n_members
        ours, mlp_time = seconds["sfne"], seconds["mlp"]
        ratio = paired_ratio(rounds, "sfne")
        one_time, one, one_ratio = ours, sfne, ratio
        if "one" in makers:
            one_time, one, one_ratio = seconds["one"], models["one"], paired_ratio(rounds, "one")
        if len(y_train) >= 5000:
            target, met = "<= 2x MLP", ratio <= 2
        else:
            bound = max(2.0, 3 * mlp_time)
            target, met = f"<= {bound:.1f} s", ours <= bound
        report(
            f"| {name} ({len(y_train)}) | {ours:.2f} | {members} | {sfne.n_iter_} | {mlp_time:.2f} | "
            f"{ratio:.1f} | {target}: {'met' if met else '**missed**'} | {one_time:.2f} | "
            f"{one_ratio:.1f} | {sfne.score(Xv, y_test):.4f} | {one.score(Xv, y_test):.4f} | "
            f"{mlp.score(Xv, y_test):.4f} |"
        )
    report()


def grid_search():
    report("## The design card's grid search (concrete, 5 folds, 10 fits + refit)\n")
    X_train, _, y_train, _ = load("concrete")
    sfne = GridSearchCV(
        Pipeline([("sfne", SFNETransformer(output_dim=32, random_state=0)), ("ridge", Ridge())]),
        {"sfne__hidden_dim": [16, 32]},
        cv=5,
    )
    mlp = GridSearchCV(
        make_pipeline(column_transformer(X_train), MLPRegressor(early_stopping=True, random_state=0)),
        {"mlpregressor__hidden_layer_sizes": [(16,), (32,)]},
        cv=5,
    )
    times = {}
    for label, search in (("SFNETransformer + Ridge", sfne), ("MLPRegressor", mlp)):
        start = time.perf_counter()
        search.fit(X_train, y_train)
        times[label] = time.perf_counter() - start
        report(f"- {label}: {times[label]:.1f} s, best {search.best_params_}, "
               f"mean CV R² {search.best_score_:.4f}")
    ratio = times["SFNETransformer + Ridge"] / times["MLPRegressor"]
    report(f"- ratio: **{ratio:.1f}** (target <= 5: {'met' if ratio <= 5 else 'missed'})\n")


def profile(name):
    X_train, _, y_train, _ = load(name)
    SFNERegressor(random_state=0).fit(X_train, y_train)  # warm-up: traces once
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    est = SFNERegressor(random_state=0).fit(X_train, y_train)
    profiler.disable()
    total = time.perf_counter() - start
    stats = pstats.Stats(profiler, stream=io.StringIO())
    by_name = {}
    for (filename, _, function), (_, _, _, cumulative, _) in stats.stats.items():
        by_name[(filename.rsplit("/", 2)[-1], function)] = max(
            cumulative, by_name.get((filename.rsplit("/", 2)[-1], function), 0.0)
        )

    def seconds(file, function):
        return by_name.get((file, function), 0.0)

    report(f"### {name}: {total:.2f} s, {est.n_iter_} epochs (second fit in the process)\n")
    rows = [
        ("preprocessing (fit_preprocessor)", seconds("_columns.py", "fit_preprocessor")),
        ("fresh seeded block (SFNEBlock.__init__)", seconds("_block.py", "__init__")),
        ("Keras fit loop (TrainingModel.fit)", seconds("_loop.py", "fit")),
        ("  of which traced train calls (one per epoch)", seconds("trainer.py", "function")),
        ("  of which the epoch's checks (validation loss and weight snapshot, one traced call)",
         seconds("_guards.py", "on_epoch_end")),
        ("  of which early stopping's rule (compared in Python)",
         seconds("_loop.py", "on_epoch_end")),
        ("  of which the plateau schedule (reads the learning rate)",
         seconds("reduce_lr_on_plateau.py", "on_epoch_end")),
        ("tracing (new train/validation functions)", seconds("polymorphic_function.py", "_initialize")),
    ]
    report("| part | seconds |")
    report("|---|---:|")
    for label, value in rows:
        report(f"| {label} | {value:.3f} |")
    report()


def step_parts(repeat=200):
    """Milliseconds (wall and CPU) of the parts of one train step, TensorFlow only."""
    import keras
    import tensorflow as tf

    from sfne_sklearn import SFNEBlock
    from sfne_sklearn.training._optimizers import FlatAdam

    rng = np.random.default_rng(0)
    report("### One train step on TensorFlow (75 rows, default block)\n")
    report(f"Concrete's shape under the defaults: 8 features, 75-row batches. Traced with "
           f"`tf.function`, median of {repeat} calls after two warm-up calls.\n")
    report("| dtype | part | ms (wall) | ms (CPU) | ms with XLA (wall) | ms with XLA (CPU) |")
    report("|---|---|---:|---:|---:|---:|")
    for dtype in ("float32", "float64"):
        X = tf.constant(rng.normal(size=(75, 8)), dtype=dtype)
        y = tf.constant(rng.normal(size=(75, 1)), dtype=dtype)
        block = SFNEBlock(input_dim=8, output_dim=1, seed=0, dtype=dtype)
        block(X)
        def gradient(x, y, block=block):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean((block(x) - y) ** 2)
            return tape.gradient(loss, block.trainable_variables)

        def stepper(optimizer, block=block, gradient=gradient):
            optimizer.build(block.trainable_variables)

            def step(x, y):
                optimizer.apply(gradient(x, y), block.trainable_variables)

            return step

        step, flat_step = stepper(keras.optimizers.Adam()), stepper(FlatAdam())
        parts = [
            ("hyper-weights (slow networks)", block.hyper_weights, ()),
            ("forward", block, (X,)),
            ("forward + gradient", gradient, (X, y)),
            ("whole step (+ Keras's Adam)", step, (X, y)),
            ("whole step (+ FlatAdam, as fits train)", flat_step, (X, y)),
        ]
        for label, fn, args in parts:
            cells = []
            for jit in (False, True):
                traced = tf.function(fn, jit_compile=jit)
                traced(*args)
                traced(*args)
                wall, cpu = [], []
                for _ in range(repeat):
                    w, c = time.perf_counter(), time.process_time()
                    traced(*args)
                    wall.append(time.perf_counter() - w)
                    cpu.append(time.process_time() - c)
                cells += [1000 * float(np.median(wall)), 1000 * float(np.median(cpu))]
            report(f"| {dtype} | {label} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")
    graph, flat_graph = (tf.function(fn).get_concrete_function(X, y).graph for fn in (step, flat_step))
    report(f"\n{len(block.trainable_variables)} weight tensors; the step's graph holds "
           f"{len(graph.get_operations())} operations with Keras's Adam, "
           f"{len(flat_graph.get_operations())} with FlatAdam.\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", nargs="+", default=list(REGRESSION_DATA),
                        choices=list(REGRESSION_DATA))
    parser.add_argument("--skip-grid", action="store_true")
    parser.add_argument("--out", type=Path, default=DOCS / "benchmarks_training.md")
    args = parser.parse_args()
    import keras

    warnings.simplefilter("ignore", ConvergenceWarning)
    report("# Training speed\n")
    report(f"Machine: {machine()}\n")
    fit_times(args.datasets)
    if not args.skip_grid:
        grid_search()
    # The profile's rows name TensorFlow's functions.
    if keras.backend.backend() == "tensorflow":
        report("## Where a fit's time goes (cProfile, cumulative seconds)\n")
        for name in ("penguins", "diamonds") if "diamonds" in args.datasets else ("penguins",):
            profile(name)
        step_parts()
    args.out.write_text("\n".join(LINES) + "\n")


if __name__ == "__main__":
    main()
