"""The documentation covers the public API and the README's promises hold."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sfne_sklearn
import sfne_sklearn.layers
import sfne_sklearn.plotting

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text()


def _public_names():
    names = [f"sfne_sklearn.{n}" for n in sfne_sklearn.__all__ if n != "__version__"]
    names += [f"sfne_sklearn.layers.{n}" for n in sfne_sklearn.layers.__all__]
    names += [f"sfne_sklearn.plotting.{n}" for n in sfne_sklearn.plotting.__all__]
    return names


def _rendered_names():
    """Objects that the API pages render with mkdocstrings's ``::: name``."""
    text = "\n".join(p.read_text() for p in (DOCS / "api").glob("*.md"))
    return set(re.findall(r"^::: ([\w.]+)", text, flags=re.MULTILINE))


def test_every_public_name_is_in_the_api_reference():
    missing = sorted(set(_public_names()) - _rendered_names())
    assert missing == [], f"add these to a page of docs/api/: {missing}"


def test_every_public_name_has_a_numpydoc_docstring():
    for dotted in _public_names():
        module, _, name = dotted.rpartition(".")
        obj = getattr(sys.modules[module], name)
        doc = obj.__doc__ or ""
        assert doc.strip(), f"{dotted} has no docstring"


def _nav_files(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from _nav_files(item)
    elif isinstance(node, dict):
        for value in node.values():
            yield from _nav_files(value)


def test_nav_pages_exist():
    yaml = pytest.importorskip("yaml")

    class Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml names Python objects (``!!python/name:``); they are not needed here.
    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=Loader)
    pages = list(_nav_files(config["nav"]))
    assert "architecture.md" in pages and "benchmarks.md" in pages and "reliability.md" in pages
    missing = [page for page in pages if not (DOCS / page).is_file()]
    assert missing == []


def test_every_example_is_shown_in_the_docs_and_the_readme():
    examples_page = (DOCS / "examples.md").read_text()
    for script in (ROOT / "examples").glob("*.py"):
        if script.name.startswith("spec_"):
            continue
        assert f'--8<-- "examples/{script.name}"' in examples_page, script.name
        assert f"`{script.name}`" in README, script.name


def test_readme_commands_are_makefile_targets():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([\w-]+):", makefile, flags=re.MULTILINE))
    commands = set(re.findall(r"`?make ([\w-]+)`?", README))
    assert {"demo", "test", "docs"} <= commands
    assert commands <= targets, commands - targets
    # `make test` builds the docs in strict mode.
    assert re.search(r"^test:.*\bdocs\b", makefile, flags=re.MULTILINE)
    assert "mkdocs build --strict" in makefile


def test_readme_links_to_files_that_exist():
    for target in re.findall(r"\]\(((?:docs|examples)/[^)#]+)", README):
        assert (ROOT / target).exists(), target


def _first_python_block(text):
    return re.search(r"```python\n(.*?)```", text, flags=re.DOTALL).group(1)


@pytest.mark.slow
def test_readme_five_line_example_runs(tmp_path):
    code = _first_python_block(README)
    assert len([line for line in code.splitlines() if line.strip()]) == 5
    assert code == _first_python_block((DOCS / "getting-started.md").read_text())
    check = code + "\nprint('R2', round(model.score(X, y), 3))\n"
    done = subprocess.run(
        [sys.executable, "-c", check],
        cwd=tmp_path,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert float(done.stdout.split("R2")[1]) > 0.8


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None
    or importlib.util.find_spec("mkdocstrings_handlers") is None,
    reason="the docs extra is not installed",
)
def test_docs_build_in_strict_mode(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    assert (tmp_path / "api" / "estimators" / "index.html").is_file()
