"""How every `journey` command group is made: plain (click) help pages.

Typer's rich help costs ~1 s of imports (`typer.rich_utils`, measured in bench/RESULTS.md) on every
`--help`; the plain page says the same things. Progress bars and tables still use rich, imported lazily.
"""
from __future__ import annotations

import typer


def command_group(help: str, **options: object) -> typer.Typer:
    options.setdefault("no_args_is_help", True)
    return typer.Typer(help=help, rich_markup_mode=None, **options)  # type: ignore[arg-type]
