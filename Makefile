# Two commands for a new user, on a machine with only Python 3:
#   make demo   sets up .venv and runs the main example on real data
#   make test   sets up the environments, runs the whole test suite and
#               builds the documentation in strict mode
#   make docs   builds the documentation site into site/ (docs-serve: live)
PYTHON ?= python3
VENV ?= .venv
OLDEST_VENV ?= .venv-oldest
# The oldest scikit-learn that pyproject.toml admits; the estimator checks
# run against it too.
OLDEST_SKLEARN ?= 1.6.1
PYTEST_ARGS ?=

export TF_CPP_MIN_LOG_LEVEL ?= 3

BENCH_VENV ?= .venv-bench
SERVE_VENV ?= .venv-serve

.PHONY: demo test test-tf test-jax test-oldest test-serve docs docs-serve bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e ".[test,examples,docs]"
	touch $@

# The demo needs the package and the examples extra only.
$(VENV)/.demo-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e ".[examples]"
	touch $@

# The base install alone (no extras): what a server needs to predict.
$(SERVE_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(SERVE_VENV)
	$(SERVE_VENV)/bin/python -m pip install -q --upgrade pip
	$(SERVE_VENV)/bin/python -m pip install -q -e . pytest
	touch $@

$(OLDEST_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install -q --upgrade pip
	$(OLDEST_VENV)/bin/python -m pip install -q -e ".[test]" "scikit-learn==$(OLDEST_SKLEARN)"
	touch $@

demo: $(VENV)/.demo-installed
	$(VENV)/bin/python examples/quickstart.py

test: test-tf test-jax test-oldest test-serve docs

test-tf: $(VENV)/.installed
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# The Keras side must not depend on TensorFlow: run its tests on JAX too, and
# the estimators' own tests on JAX in float64 (JAX_ENABLE_X64).
test-jax: $(VENV)/.installed
	KERAS_BACKEND=jax $(VENV)/bin/python -m pytest $(PYTEST_ARGS) \
		tests/test_layers.py tests/test_block.py tests/test_data_analyzer.py \
		sfne_sklearn/model sfne_sklearn/layers sfne_sklearn/preprocessing/_data_analyzer.py
	KERAS_BACKEND=jax JAX_ENABLE_X64=1 $(VENV)/bin/python -m pytest $(PYTEST_ARGS) \
		tests/test_regressor.py tests/test_classifier.py

# Estimators fitted in the full install, served by the base install.
test-serve: $(VENV)/.installed $(SERVE_VENV)/.installed
	rm -rf $(SERVE_VENV)/models
	$(VENV)/bin/python tests_serve/fit_models.py $(SERVE_VENV)/models
	SFNE_SERVE_MODELS=$(SERVE_VENV)/models $(SERVE_VENV)/bin/python -m pytest $(PYTEST_ARGS) \
		tests_serve/test_serving_install.py

test-oldest: $(OLDEST_VENV)/.installed
	$(OLDEST_VENV)/bin/python -m pytest $(PYTEST_ARGS) tests/test_estimator_checks.py

# Warnings (a broken link, a docstring that does not parse) fail the build.
# A .venv made before the docs extra existed gets it here.
docs: $(VENV)/.installed
	$(VENV)/bin/python -c "import mkdocs, mkdocstrings_handlers.python" 2>/dev/null \
		|| $(VENV)/bin/python -m pip install -q -e ".[docs]"
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/python -m mkdocs build --strict

docs-serve: docs
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/python -m mkdocs serve

# The spec's reference implementation pins pandas<3: it gets its own venv.
$(BENCH_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install -q -e ".[benchmarks]"
	touch $@

bench: $(BENCH_VENV)/.installed
	cd benchmarks && ../$(BENCH_VENV)/bin/python accuracy.py
	cd benchmarks && ../$(BENCH_VENV)/bin/python regression.py
	cd benchmarks && ../$(BENCH_VENV)/bin/python speed.py
	cd benchmarks && ../$(BENCH_VENV)/bin/python serving.py
	cd benchmarks && ../$(BENCH_VENV)/bin/python memory_fits.py
	cd benchmarks && ../$(BENCH_VENV)/bin/python training_speed.py
	cd benchmarks && ../$(BENCH_VENV)/bin/python classification.py

clean:
	rm -rf $(VENV) $(OLDEST_VENV) $(BENCH_VENV) .pytest_cache site
