"""The documentation covers the public API and the README's promises hold."""

import importlib.util
import os
import re
import shutil
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


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    """The site as ``make docs`` builds it (strict mode), in a temporary folder."""
    if (
        importlib.util.find_spec("mkdocs") is None
        or importlib.util.find_spec("mkdocstrings_handlers") is None
    ):
        pytest.skip("the docs extra is not installed")
    site = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    return site


@pytest.mark.slow
def test_docs_build_in_strict_mode(built_site):
    assert (built_site / "api" / "estimators.html").is_file()


def _local_links(page):
    """Links and script sources of a built page that stay on the site."""
    html = page.read_text()
    targets = re.findall(r'(?:href|src)="([^"]+)"', html)
    return [t for t in targets if not re.match(r"^(https?:|mailto:|#|data:)", t)]


@pytest.mark.slow
def test_site_opened_from_disk_links_to_files(built_site):
    """Opened as file://, a link to a folder shows a listing, not the page."""
    # (404.html is for web servers, which serve it from any path.)
    pages = sorted(p for p in built_site.rglob("*.html") if p.name != "404.html")
    assert len(pages) > 20
    for page in pages:
        for target in _local_links(page):
            path = target.split("#")[0].split("?")[0]
            if not path:
                continue
            assert not path.endswith("/"), f"{page.name} links to a folder: {target}"
            assert (page.parent / path).resolve().is_file(), f"{page.name}: {target} is missing"


@pytest.mark.slow
def test_site_needs_no_network(built_site):
    """No script or stylesheet comes from another host; Mermaid is bundled."""
    for page in built_site.rglob("*.html"):
        html = page.read_text()
        remote = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', html)
        remote = [r for r in remote if not r.startswith("https://squidfunk.github.io")]
        assert remote == [], f"{page.name} loads {remote}"
    assert (built_site / "javascripts" / "mermaid.min.js").stat().st_size > 1_000_000


def _browser():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.mark.slow
@pytest.mark.skipif(_browser() is None, reason="no headless Chromium on this machine")
def test_architecture_diagram_renders_offline_from_disk(built_site, tmp_path):
    """A headless browser, with no network, draws the Mermaid diagram as SVG."""
    page = (built_site / "architecture.html").as_uri()
    done = subprocess.run(
        [
            _browser(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path}",
            # Every host but the page's own files is unreachable.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=127.0.0.1:9",
            "--allow-file-access-from-files",
            "--virtual-time-budget=20000",
            "--dump-dom",
            page,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # Built, the diagram is Mermaid source in <pre class="mermaid">; drawn,
    # Material has replaced it with <div class="mermaid"> holding the SVG (in
    # a shadow root, which --dump-dom leaves out).
    assert '<pre class="mermaid"' not in done.stdout, "the diagram was not drawn"
    assert '<div class="mermaid"' in done.stdout, done.stdout[-3000:]
