"""Griffe extension: render Sphinx roles of numpydoc docstrings as links.

The docstrings follow scikit-learn's numpydoc conventions, with Sphinx roles
such as ``:class:`~sfne_sklearn.SFNEBlock``` that Markdown does not know. This
turns each role into inline code (``~`` keeps the last name only, as in
Sphinx) wrapped in an *optional* mkdocs-autorefs cross-reference: a link when
the target is rendered somewhere in the site, plain code otherwise, so a
reference to scikit-learn or Keras never breaks ``mkdocs build --strict``.
"""

import html
import re

import griffe

ROLE = re.compile(r":(?:py:)?(class|meth|func|attr|mod|obj|data|exc):`(~?)([^`]+)`")


def _identifier(obj, role, target):
    if "." in target:
        return target
    if role in ("meth", "attr"):
        owner = obj if obj.is_class else obj.parent
        return f"{owner.path}.{target}" if owner is not None else None
    for scope in (obj.package, obj.module):
        if target in scope.members:
            return f"{scope.path}.{target}"
    return None


def _replace(obj, match):
    role, short, target = match.groups()
    target = target.strip()
    title = target.rsplit(".", 1)[-1] if short else target
    if role in ("meth", "func"):
        title += "()"
    code = f"<code>{html.escape(title)}</code>"
    identifier = _identifier(obj, role, target)
    if identifier is None:
        return code
    return f'<autoref optional identifier="{html.escape(identifier)}">{code}</autoref>'


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles in every docstring of the loaded package."""

    def on_object(self, *, obj, **kwargs):
        if obj.docstring is not None and ":" in obj.docstring.value:
            obj.docstring.value = ROLE.sub(lambda m: _replace(obj, m), obj.docstring.value)
