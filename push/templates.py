"""Campaign texts: sandboxed Jinja2, checked for every locale before anything is sent."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

LOCALES = ("en", "ru")
MAX_TEXT = 1000
# What a template may use; rendering with these sample values must succeed.
SAMPLE = {
    "name": "Anna",
    "balances": {"POINTS": 1200, "COINS": 40},
    "level": "Gold",
    "expiring": {"amount": 150, "date": "2026-12-01"},
}

_environment = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


@lru_cache(maxsize=512)
def _compiled(source: str) -> Any:
    return _environment.from_string(source)


@dataclass(frozen=True)
class TemplateProblem:
    locale: str
    field: str
    message: str


def check(templates: Any) -> list[TemplateProblem]:
    """Every problem with ``{locale: {"title", "body"}}``: shape, syntax, unknown names."""
    if not isinstance(templates, dict) or not templates:
        return [TemplateProblem("*", "templates", "give a title and body per locale")]
    problems = []
    if "en" not in templates:
        problems.append(TemplateProblem("en", "templates", "English is the fallback: required"))
    for locale, texts in templates.items():
        if locale not in LOCALES:
            problems.append(TemplateProblem(locale, "locale", f"one of {', '.join(LOCALES)}"))
            continue
        for field in ("title", "body"):
            source = texts.get(field) if isinstance(texts, dict) else None
            if not isinstance(source, str) or not source.strip() or len(source) > MAX_TEXT:
                problems.append(TemplateProblem(locale, field, f"1 to {MAX_TEXT} characters"))
                continue
            try:
                _compiled(source).render(SAMPLE)
            except (TemplateError, OverflowError, RecursionError) as error:
                # The sandbox refuses a huge range() with OverflowError, not a TemplateError.
                problems.append(TemplateProblem(locale, field, str(error) or type(error).__name__))
    return problems


def render(templates: dict[str, Any], locale: str, values: dict[str, Any]) -> tuple[str, str]:
    texts = templates.get(locale) or templates["en"]
    title = _compiled(texts["title"]).render(values)
    body = _compiled(texts["body"]).render(values)
    return title[:MAX_TEXT], body[:MAX_TEXT]
