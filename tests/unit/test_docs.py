"""The README is a front door and the docs hold the rest: every relative link resolves (file and #anchor), nothing
points outside the repository, and docs/reference.md's generated lists match the code."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.M | re.S)


def _prose(text: str) -> str:
    """The page without its code blocks and inline code, where a `](...)` is no link."""
    return re.sub(r"`[^`\n]*`", "", FENCE.sub("", text))


def anchors(path: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings: lower case, punctuation dropped, spaces to hyphens,
    repeats numbered."""
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", FENCE.sub("", path.read_text()), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower().replace("`", "")).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def links(page: Path) -> list[str]:
    return [target for target in LINK.findall(_prose(page.read_text()))
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target)]  # http:, https:, mailto: are not files


def test_the_pages_exist_and_the_readme_is_short() -> None:
    for name in ("crm", "onboarding", "reviews", "health", "operations", "architecture", "reference", "deploy"):
        assert (ROOT / "docs" / f"{name}.md").is_file()
    assert len((ROOT / "README.md").read_text().splitlines()) <= 150
    assert (ROOT / "LICENSE").read_text().count("Apache License") >= 1


def test_the_link_finder_finds_links() -> None:  # else the test below would pass on nothing
    assert "docs/crm.md" in links(ROOT / "README.md")
    assert "operations.md#deploying-safely" in links(ROOT / "docs" / "reference.md")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(page: Path) -> None:
    broken = []
    for target in links(page):
        file, _, anchor = target.partition("#")
        resolved = (page.parent / file).resolve() if file else page
        if not resolved.is_relative_to(ROOT):
            broken.append(f"{target}: outside the repository")
        elif not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target}: no heading #{anchor} in {resolved.relative_to(ROOT)}")
    assert not broken, broken


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_names_a_file_users_do_not_have(page: Path) -> None:
    text = page.read_text()
    for name in ("CONTRACT.md", "FACTS.md", "../shared", "/work/"):
        assert name not in text, f"{page.name} mentions {name}"


def test_the_reference_lists_match_the_code() -> None:
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    gen_docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_docs)
    _, changed = gen_docs.render((ROOT / "docs" / "reference.md").read_text())
    assert changed == [], f"docs/reference.md is out of date ({changed}): run .venv/bin/python scripts/gen_docs.py"
    reference = (ROOT / "docs" / "reference.md").read_text()
    assert "`journey db backup PATH`" in reference and "| `JOURNEY_DATABASE_URL` |" in reference
    assert "| POST | `/webhooks/events` |" in reference
