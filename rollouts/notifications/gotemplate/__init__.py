"""A safe subset of Go's ``text/template`` for notification templates.

Argo's notification templates are Go templates with sprig helpers; users copy them between Argo
and us, so the same text must give the same output. This package parses (``lexer``, ``parser``)
and renders (``render``, ``functions``, ``values``) that subset without ever handing template
text to Python (no ``eval``): anything it does not support — ``define``/``template``, unknown
functions, character constants — is a `TemplateError` naming the position, and rendering is
bounded in steps and output size.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rollouts.notifications.gotemplate import nodes
from rollouts.notifications.gotemplate.errors import TemplateError
from rollouts.notifications.gotemplate.parser import parse
from rollouts.notifications.gotemplate.render import DEFAULT_LIMITS, Limits, render
from rollouts.notifications.gotemplate.values import GoTime

__all__ = ["GoTime", "Limits", "Template", "TemplateError", "compile_template"]

MAX_SOURCE = 256 * 1024


@dataclass(frozen=True)
class Template:
    """A parsed template: immutable, render it as often as needed."""

    name: str
    source: str
    tree: tuple[nodes.Node, ...] = field(repr=False)

    def render(
        self,
        data: Any,
        *,
        functions: Mapping[str, Callable[..., Any]] | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> str:
        """The output for ``data``; raises only `TemplateError` (prefixed with the template name)."""
        try:
            return render(self.tree, data, self.source, functions=functions, limits=limits)
        except TemplateError as error:
            raise TemplateError(f"template {self.name}: {error}") from None
        except RecursionError:
            raise TemplateError(f"template {self.name}: data nested too deeply") from None


def compile_template(name: str, source: str) -> Template:
    """Parse ``source``; a syntax error or unsupported construct raises `TemplateError`."""
    if not isinstance(source, str):
        raise TemplateError(f"template {name}: expected text, got {type(source).__name__}")
    if len(source) > MAX_SOURCE:
        raise TemplateError(f"template {name}: longer than {MAX_SOURCE} characters")
    try:
        return Template(name, source, parse(source))
    except TemplateError as error:
        raise TemplateError(f"template {name}: {error}") from None
