"""The layer contracts of pyproject.toml (run by `make lint`) hold on the code, and fail on a violation.

Each violation is planted in a copy of `journey` and `flows` in a temporary folder, which `lint-imports`
checks with this repository's own contracts; the installed (editable) package is hidden from that process so
the copy is the one analysed.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

RUN_LINTER = """
import sys
sys.meta_path = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")]
sys.path[:] = [p for p in sys.path if p not in ("", {root!r})]
from importlinter.cli import lint_imports
sys.exit(lint_imports(config_filename="pyproject.toml", no_cache=True, no_logo=True))
"""


def lint(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", RUN_LINTER.format(root=str(ROOT))], cwd=folder,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("layers")
    for package in ("journey", "flows"):
        shutil.copytree(ROOT / package, folder / package, ignore=shutil.ignore_patterns("__pycache__", "static"))
    shutil.copy(ROOT / "pyproject.toml", folder / "pyproject.toml")
    return folder


def test_the_code_keeps_every_contract(copy: Path) -> None:
    result = lint(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and " KEPT" in result.stdout


VIOLATIONS = {
    "a service imports a flow": ("journey/deals/service.py", "from flows import runner",
                                 "Only the faces (journey.app, journey.cli, journey.scheduler, journey.runner_process) "
                                 "import the pipeline"),
    "a domain module opens the database": ("journey/reviews/domain.py", "from journey import db",
                                           "Domain modules do no I/O"),
    "a domain module reads the settings": ("journey/health/domain.py", "from journey.config import get_settings",
                                           "Domain modules do no I/O"),
    "a repository imports a service": ("journey/team/repository.py", "from journey.team import service",
                                       "Repositories never import services"),
    "a service imports an endpoint": ("journey/handoff/service.py", "from journey.handoff import endpoints",
                                      "faces (endpoints, pages, jobs) -> services"),
    "flows import a face": ("flows/steps.py", "from journey.web import routes", "flows/ never imports a face"),
    "a package imports one above it": ("journey/notify/service.py", "from journey.reviews import repository as _r",
                                       "Domain packages in one order"),
}


@pytest.mark.parametrize("module,line,contract", VIOLATIONS.values(), ids=list(VIOLATIONS))
def test_a_violation_breaks_its_contract(copy: Path, module: str, line: str, contract: str) -> None:
    path = copy / module
    original = path.read_text()
    path.write_text(f"{line}  # planted by the test\n{original}")
    try:
        result = lint(copy)
    finally:
        path.write_text(original)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = result.stdout.split("Broken contracts")[-1]
    assert contract in " ".join(broken.split()), result.stdout
    assert module.removesuffix(".py").replace("/", ".") in broken


def graph_script(folder: Path) -> Path:
    """A copy of `journey`, `flows` and scripts/import_graph.py (which reads the folder it sits above)."""
    for package in ("journey", "flows"):
        shutil.copytree(ROOT / package, folder / package, ignore=shutil.ignore_patterns("__pycache__", "static"))
    script = folder / "scripts" / "import_graph.py"
    script.parent.mkdir()
    shutil.copy(ROOT / "scripts" / "import_graph.py", script)
    return script


def check(script: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=120)


def test_the_import_graph_script_fails_on_a_cycle(tmp_path: Path) -> None:
    script = graph_script(tmp_path)
    clean = check(script)
    assert clean.returncode == 0 and "import cycles (strongly connected groups of modules): 0" in clean.stdout
    errors = tmp_path / "journey" / "errors.py"  # journey.kit imports journey.errors
    planted = "\n\ndef _late():\n    from journey import kit  # a cycle dodged in a function\n"
    errors.write_text(errors.read_text() + planted)
    broken = check(script)
    assert broken.returncode == 1
    assert "journey.errors <-> journey.kit" in broken.stdout


def test_the_import_graph_script_fails_on_an_unexplained_function_level_import(tmp_path: Path) -> None:
    script = graph_script(tmp_path)
    service = tmp_path / "journey" / "deals" / "service.py"
    original = service.read_text()
    planted = "\n\ndef _late():\n    from journey import kit{comment}\n"
    service.write_text(original + planted.format(comment=""))  # no cycle: only the comment is missing
    broken = check(script)
    assert broken.returncode == 1, broken.stdout
    assert "without a `# lazy: <reason>` comment: 1" in broken.stdout
    assert "journey.deals.service:" in broken.stdout
    service.write_text(original + planted.format(comment="  # lazy: planted by the test"))
    explained = check(script)
    assert explained.returncode == 0, explained.stdout
    faces = tmp_path / "journey" / "cli" / "admin.py"  # the CLI's commands import inside functions freely
    faces.write_text(faces.read_text() + planted.format(comment=""))
    assert check(script).returncode == 0


@pytest.mark.parametrize("line", ["from sqlalchemy import select", "from sqlalchemy import func, text",
                                  "import sqlalchemy as sa", "from sqlalchemy.orm import aliased"])
def test_the_import_graph_script_fails_on_sql_in_the_web_pages(tmp_path: Path, line: str) -> None:
    script = graph_script(tmp_path)
    page = tmp_path / "journey" / "web" / "book_pages.py"
    page.write_text(f"{line}  # planted by the test\n{page.read_text()}")
    broken = check(script)
    assert broken.returncode == 1, broken.stdout
    assert "SQLAlchemy imported in journey.web (but the Session type and its repository): 0" not in broken.stdout
    assert "journey.web.book_pages:1 -> sqlalchemy" in broken.stdout
