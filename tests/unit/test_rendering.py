"""journey/rendering.py builds every Jinja2 environment: HTML always escaped, Markdown through md_escape,
plain text as it is, one set of filters."""
from __future__ import annotations

import pytest

from journey import rendering

ATTACK = '<script>alert("x")</script> & *bold*'


@pytest.mark.parametrize("folder,trim", [("pages", True), ("emails", True), ("packets", True), ("reviews", False)])
def test_html_and_strings_are_escaped_in_every_folder(folder: str, trim: bool) -> None:
    env = rendering.environment(folder, trim=trim)
    assert env.autoescape("page.html") and env.autoescape("packet.html.j2") and env.autoescape("unknown.ics")
    out = env.from_string("{{ v }}").render(v=ATTACK)
    assert "<script>" not in out and "&lt;script&gt;" in out


def test_plain_text_templates_are_printed_as_they_are() -> None:
    env = rendering.environment("emails", strict=True)
    assert not env.autoescape("reminder.txt") and not env.autoescape("agenda.md.j2")


def test_markdown_escapes_every_value_through_md_escape() -> None:
    env = rendering.environment("packets", markdown=True, strict=True)
    out = env.from_string("# {{ v }}").render(v=ATTACK)
    assert out == "# &lt;script&gt;alert\\(&quot;x&quot;\\)&lt;/script&gt; &amp; \\*bold\\*"


def test_every_environment_has_the_same_filters() -> None:
    envs = [rendering.environment("pages"), rendering.environment("emails", strict=True),
            rendering.environment("packets", markdown=True), rendering.environment("reviews", trim=False)]
    for env in envs:
        assert {name: env.filters[name] for name in rendering.FILTERS} == rendering.FILTERS
    page = envs[0].from_string("{{ 12345.6 | num }} {{ 12.50 | measure }} {{ 'csm' | role }} "
                               "{{ 'mid_market' | label }}")
    assert page.render() == "12,346 12.5 CSM Mid-market"
    assert envs[1].from_string("{{ '2026-12-04T10:00' | todate }}").render() == "2026-12-04"
