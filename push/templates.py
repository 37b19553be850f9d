"""Campaign texts: sandboxed Jinja2, checked for every locale before anything is sent.

A marketer's template runs on the worker for every message, so it runs within a budget:
so many steps (loop turns, calls, operators), so many characters of output and so much
time per render. A template over it is refused when the campaign is saved, or fails its
message (never the process) should the data surprise it at send time. The budget is
kept by the template itself as it runs: every loop turn, call and sized operator counts
(loops are rewritten at compile time to count), and sizes are checked before a string
or list is built, so a template cannot allocate its way past the limits either.
"""

from __future__ import annotations

import contextvars
import functools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.compiler import CodeGenerator, Frame
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

MAX_STEPS = 10_000
MAX_OUTPUT = 10 * MAX_TEXT  # characters, and items of a list; texts are cut to MAX_TEXT
MAX_NUMBER_BITS = 256
RENDER_SECONDS = 0.25
# Filters a push text needs, none of which can make its output much larger than its input.
SAFE_FILTERS = frozenset(
    {"abs", "capitalize", "count", "d", "default", "dictsort", "first", "float", "int"}
    | {"items", "last", "length", "lower", "max", "min", "round", "string", "sum", "title"}
    | {"trim", "truncate", "upper"}
)

# String methods that can make a result far larger than their inputs before any check
# sees it (a width they are given, a text repeated once per character or item).
AMPLIFYING = frozenset(
    {"center", "ljust", "rjust", "zfill", "expandtabs", "join", "replace", "translate"}
)


class TemplateBudgetExceeded(TemplateError):
    """The template did more work, or made more text, than one push may take."""


class TemplateRenderError(TemplateError):
    """Rendering failed in a way Jinja does not report as a template error."""


@dataclass
class _Budget:
    deadline: float
    steps: int = 0

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise TemplateBudgetExceeded(f"more than {MAX_STEPS} steps")
        if time.monotonic() > self.deadline:
            raise TemplateBudgetExceeded(f"more than {RENDER_SECONDS} s")


_budget: contextvars.ContextVar[_Budget] = contextvars.ContextVar("template_budget")


def _sized(value: Any) -> Any:
    if isinstance(value, str | list | tuple) and len(value) > MAX_OUTPUT:
        raise TemplateBudgetExceeded(f"a value of more than {MAX_OUTPUT} characters or items")
    if isinstance(value, int) and value.bit_length() > MAX_NUMBER_BITS:
        raise TemplateBudgetExceeded(f"a number of more than {MAX_NUMBER_BITS} bits")
    return value


def _length(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple) else 0


def _bits(value: Any) -> int:
    return value.bit_length() if isinstance(value, int) else 0


def _check_operands(op: str, left: Any, right: Any) -> None:
    """Refuse before computing what would be too large to compute."""
    if op == "%" and isinstance(left, str):
        raise TemplateBudgetExceeded("format with filters, not with %")
    if op == "+" and _length(left) + _length(right) > MAX_OUTPUT:
        raise TemplateBudgetExceeded(f"a value of more than {MAX_OUTPUT} characters")
    if op == "*":
        count = right if _length(left) else left
        if _length(left) or _length(right):
            size = max(_length(left), _length(right)) * (count if isinstance(count, int) else 0)
            if size > MAX_OUTPUT:
                raise TemplateBudgetExceeded(f"a value of more than {MAX_OUTPUT} characters")
        elif _bits(left) + _bits(right) > MAX_NUMBER_BITS:
            raise TemplateBudgetExceeded(f"a number of more than {MAX_NUMBER_BITS} bits")
    if op == "**" and isinstance(right, int) and _bits(left) * abs(right) > MAX_NUMBER_BITS:
        raise TemplateBudgetExceeded(f"a number of more than {MAX_NUMBER_BITS} bits")


class _CountingCodeGenerator(CodeGenerator):
    """Every loop turn counts against the budget; so does every concatenation's size."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:  # noqa: N802 (Jinja's name)
        if node.recursive:
            self.fail("recursive loops are not allowed", node.lineno)
        node.iter = nodes.Call(nodes.EnvironmentAttribute("budgeted"), [node.iter], [], None, None)
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:  # noqa: N802
        self.write("environment.sized(")
        super().visit_Concat(node, frame)
        self.write(")")


class _BudgetedEnvironment(SandboxedEnvironment):
    code_generator_class = _CountingCodeGenerator
    # Intercepted operators are also never folded at compile time (10 ** 10 ** 10).
    intercepted_binops = frozenset({"+", "*", "**", "%"})

    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        _budget.get().step()
        _check_operands(op, left, right)
        return super().call_binop(context, op, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _budget.get().step()
        if isinstance(getattr(__obj, "__self__", None), str) and __obj.__name__ in AMPLIFYING:
            # Their size comes from a number, and they would build it before any check.
            raise TemplateBudgetExceeded(f"str.{__obj.__name__} is not available here")
        for value in (*args, *kwargs.values()):
            _sized(value)
        return _sized(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format`` pads to any width it is given, building the text first."""
        if super().wrap_str_format(value) is None:
            return None

        def refused(*_args: Any, **_kwargs: Any) -> str:
            raise TemplateBudgetExceeded(f"str.{value.__name__} is not available here")

        return refused

    @staticmethod
    def budgeted(iterable: Iterable[Any]) -> Iterator[Any]:
        budget = _budget.get()
        for item in iterable:
            budget.step()
            yield item

    @staticmethod
    def sized(value: Any) -> Any:
        return _sized(value)


def _counted_filter(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)  # keeps Jinja's pass_environment / pass_context marks
    def counted(*args: Any, **kwargs: Any) -> Any:
        _budget.get().step()
        return _sized(function(*args, **kwargs))

    return counted


_environment = _BudgetedEnvironment(undefined=StrictUndefined, autoescape=False)
_environment.filters = {name: _counted_filter(_environment.filters[name]) for name in SAFE_FILTERS}


@lru_cache(maxsize=512)
def _compiled(source: str) -> Any:
    return _environment.from_string(source)


def render_text(source: str, values: dict[str, Any]) -> str:
    """One text within the budget; every failure is a ``TemplateError``."""
    token = _budget.set(_Budget(time.monotonic() + RENDER_SECONDS))
    try:
        pieces, size = [], 0
        for piece in _compiled(source).generate(values):
            size += len(piece)
            if size > MAX_OUTPUT:
                raise TemplateBudgetExceeded(f"more than {MAX_OUTPUT} characters of output")
            pieces.append(piece)
        return "".join(pieces)
    except (OverflowError, RecursionError, MemoryError, ArithmeticError) as error:
        # The sandbox refuses a huge range() with OverflowError, not a TemplateError.
        raise TemplateRenderError(str(error) or type(error).__name__) from error
    finally:
        _budget.reset(token)


@dataclass(frozen=True)
class TemplateProblem:
    locale: str
    field: str
    message: str


def check(templates: Any) -> list[TemplateProblem]:
    """Every problem with ``{locale: {"title", "body"}}``: shape, syntax, unknown names,
    and the budget (with the sample values). CPU-bound: call it off the event loop."""
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
                render_text(source, SAMPLE)
            except TemplateError as error:
                problems.append(TemplateProblem(locale, field, str(error) or type(error).__name__))
    return problems


def render(templates: dict[str, Any], locale: str, values: dict[str, Any]) -> tuple[str, str]:
    """A message's title and body; a ``TemplateError`` fails that message only."""
    texts = templates.get(locale) or templates["en"]
    title = render_text(texts["title"], values)
    body = render_text(texts["body"], values)
    return title[:MAX_TEXT], body[:MAX_TEXT]
