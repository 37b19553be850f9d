"""Campaign templates run within a budget of steps, output and time: whatever a marketer
writes is refused when the campaign is saved, or fails its own message at send time,
never the worker."""

from __future__ import annotations

import pytest

from push.delivery import render
from push.templates import MAX_OUTPUT, MAX_STEPS, SAMPLE, check, render_text

ATTACKS = {
    "nested loops": "{% for i in range(99999) %}{% for j in range(3000) %}{% endfor %}{% endfor %}",
    "loops over text": "{% set s = 'x' * 5000 %}{% for a in s %}{% for b in s %}{% endfor %}"
    "{% endfor %}",
    "loop.length": "{% for i in range(100000) %}{{ loop.length }}{% endfor %}",
    "a huge power": "{{ 10 ** 10 ** 10 }}",
    "a huge repeat": "{{ 'x' * 1000000000 }}",
    "doubling by ~": "{% set s = 'xxxxxxxxxx' %}" + "{% set s = s ~ s %}" * 40 + "{{ s }}",
    "doubling by +": "{% set s = 'xxxxxxxxxx' %}" + "{% set s = s + s %}" * 40 + "{{ s }}",
    "padding": "{{ 'x'.center(1000000000) }}",
    "a padding method kept aside": "{% set c = 'x'.ljust %}{{ c(1000000000) }}",
    "str.format width": "{{ '{:>999999999}'.format(1) }}",
    "% formatting": "{{ '%0999999999d' % 1 }}",
    "replace chains": "{{ 'x'.replace('x', 'xxxxxxxxxx').replace('x', 'xxxxxxxxxx') }}",
    "join": "{{ ','.join(['x'] * 9000) }}",
    "recursive loop": "{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}",
    "recursive macro": "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "long output": "{% for i in range(5000) %}xxxxxxxxxx{% endfor %}",
    "a huge range": "{% for i in range(1000000000) %}.{% endfor %}",
}


@pytest.mark.parametrize("source", ATTACKS.values(), ids=ATTACKS.keys())
def test_a_template_over_the_budget_is_refused_when_saved(source):
    problems = check({"en": {"title": "Hi", "body": source}})
    assert [(p.locale, p.field) for p in problems] == [("en", "body")]
    assert problems[0].message


def test_what_a_push_text_needs_fits():
    source = (
        "{{ name|title }}, {{ balances.POINTS }} points{% if expiring.amount %}, "
        "{{ expiring.amount }} expire {{ expiring.date }}{% endif %}."
        "{% for code, amount in balances|dictsort %} {{ code|lower }}={{ amount }}{% endfor %}"
        "{% for i in range(3) %}!{% endfor %}"
    )
    assert check({"en": {"title": "Hi {{ name }}", "body": source}}) == []
    assert render_text(source, SAMPLE) == (
        "Anna, 1200 points, 150 expire 2026-12-01. coins=40 points=1200!!!"
    )


def test_the_budget_is_counted_per_render():
    loop = "{% for i in range(n) %}{% endfor %}done"
    for _ in range(3):  # each render starts afresh
        assert render_text(loop, {"n": MAX_STEPS - 10}) == "done"
    with pytest.raises(Exception, match="steps"):
        render_text(loop, {"n": MAX_STEPS + 1})
    assert len(render_text("{{ 'x' * n }}", {"n": MAX_OUTPUT})) == MAX_OUTPUT


def test_render_is_the_one_the_worker_uses():
    assert render({"en": {"title": "{{ name }}", "body": "b"}}, "ru", SAMPLE) == ("Anna", "b")
