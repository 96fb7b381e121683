"""Regenerate the lists of docs/reference.md from the code: every command (the typer app), every variable (the
settings class), every route (the FastAPI app) and the roles x actions table (journey/policy.py).

    .venv/bin/python scripts/gen_docs.py          # rewrite the generated blocks in place
    .venv/bin/python scripts/gen_docs.py --check  # exit 1 naming the blocks that differ (tests/unit/test_docs.py)

A block sits between `<!-- BEGIN generated: NAME -->` and `<!-- END generated: NAME -->`; the prose around
the blocks is written by hand and left alone.
"""
from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference.md"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _first_paragraph(text: str | None) -> str:
    return _cell((text or "").strip().split("\n\n")[0])


def _synopsis(command: Any) -> str:
    parts = []
    for param in command.params:
        if getattr(param, "hidden", False) or param.name == "help":
            continue
        if param.param_type_name == "argument":
            word = (param.metavar or param.name).upper()
            parts.append(word if param.required else f"[{word}]")
            continue
        name = max(param.opts, key=len)
        if param.is_flag:
            word = "/".join([name, *param.secondary_opts]) if param.secondary_opts else name
        else:
            word = f"{name} {param.metavar or param.name.upper()}"
        parts.append(word if param.required else f"[{word}]")
    return " ".join(parts)


def _walk(group: Any, prefix: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any]]:
    found = []
    for name, command in group.commands.items():
        if getattr(command, "hidden", False):
            continue
        path = (*prefix, name)
        if not hasattr(command, "commands"):
            found.append((path, command))
            continue
        if any(p.name != "help" for p in command.params):  # a group that does something itself (journey kpis)
            found.append((path, command))
        found.extend(_walk(command, path))
    return found


def commands() -> str:
    import typer

    from journey.cli import app

    rows = ["| command | what it does |", "|---|---|"]
    for path, command in _walk(typer.main.get_command(app), ("journey",)):
        usage = " ".join([*path, _synopsis(command)]).strip()
        rows.append(f"| `{_cell(usage)}` | {_first_paragraph(command.help)} |")
    return "\n".join(rows) + "\n"


def variables() -> str:
    from journey.settings_docs import markdown_table

    return markdown_table()


def routes() -> str:
    from fastapi.routing import iter_route_contexts

    from journey.app import create_app

    found: dict[tuple[str, str], str] = {}
    for context in iter_route_contexts(create_app(start_runner=False).routes):
        route = context.route
        endpoint = getattr(route, "endpoint", None)
        summary = (getattr(route, "summary", None) or _first_paragraph(getattr(endpoint, "__doc__", None))
                   or getattr(route, "name", "").replace("_", " "))  # undocumented: its function's name
        for method in sorted(getattr(context, "methods", None) or ()):
            if method != "HEAD":
                found[(context.path, method)] = summary or ""
    rows = ["| method | path | what it does |", "|---|---|---|"]
    for (path, method), summary in sorted(found.items()):
        rows.append(f"| {method} | `{path}` | {_cell(summary)} |")
    return "\n".join(rows) + "\n"


def roles() -> str:
    from journey import policy

    return policy.markdown_table().rstrip("\n") + "\n"


BLOCKS: dict[str, Callable[[], str]] = {"commands": commands, "variables": variables, "routes": routes,
                                        "roles": roles}


def render(text: str) -> tuple[str, list[str]]:
    """`text` with every generated block made anew, and the names of the blocks that changed."""
    changed = []
    for name, make in BLOCKS.items():
        pattern = re.compile(rf"(<!-- BEGIN generated: {name} -->\n)(.*?)(<!-- END generated: {name} -->)", re.S)
        match = pattern.search(text)
        if match is None:
            raise SystemExit(f"{REFERENCE.relative_to(ROOT)} has no generated block {name!r}")
        fresh = make()
        if match.group(2) != fresh:
            changed.append(name)
            text = text[:match.start(2)] + fresh + text[match.end(2):]
    return text, changed


def main(argv: list[str]) -> int:
    text, changed = render(REFERENCE.read_text())
    if "--check" in argv:
        if changed:
            print(f"docs/reference.md is out of date ({', '.join(changed)}): run "
                  f".venv/bin/python scripts/gen_docs.py", file=sys.stderr)
            return 1
        return 0
    REFERENCE.write_text(text)
    print(f"docs/reference.md: {', '.join(changed) or 'nothing'} regenerated")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1:]))
