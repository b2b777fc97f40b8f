"""MkDocs hook: render API blocks only for names the package has.

Pages may wrap content in::

    <!-- if-api: sfne_sklearn.save sfne_sklearn.load -->
    ... shown when every name resolves ...
    <!-- else-api -->
    ... shown otherwise ...
    <!-- end-api -->

so that the documentation of a module that is still being written (the safe
file format) appears as soon as the module exists, without a failing
``mkdocs build --strict`` before. Names are checked statically with griffe,
as mkdocstrings will load them, so building the site never imports
TensorFlow.
"""

import functools
import re
from pathlib import Path

import griffe

BLOCK = re.compile(
    r"<!-- if-api: (?P<names>[^>]+?) -->\n(?P<then>.*?)"
    r"(?:<!-- else-api -->\n(?P<otherwise>.*?))?<!-- end-api -->\n?",
    re.DOTALL,
)


@functools.lru_cache(maxsize=None)
def _package(root, name):
    return griffe.load(name, search_paths=[root], resolve_aliases=False)


def _exists(root, dotted):
    package, _, rest = dotted.partition(".")
    try:
        obj = _package(root, package)
        for part in rest.split(".") if rest else []:
            obj = obj.members[part]
            if obj.is_alias:
                obj = obj.final_target  # raises if the import cannot be resolved
    except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError, ImportError):
        return False
    return True


def on_page_markdown(markdown, page, config, files, **kwargs):
    root = str(Path(config.config_file_path).parent)

    def choose(match):
        names = match["names"].split()
        if all(_exists(root, name) for name in names):
            return match["then"]
        return match["otherwise"] or ""

    return BLOCK.sub(choose, markdown)


def on_pre_build(config, **kwargs):
    _package.cache_clear()  # `mkdocs serve` rebuilds after the code changes
