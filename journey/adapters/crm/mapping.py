"""CRM mapping files (`templates/crm/<vendor>.yaml`): which stages count as won, which CRM fields feed a journey.

```yaml
won_stages:              # per pipeline id (stage ids repeat labels across pipelines): the won stage ids
  default: [closedwon]
fields:                  # journey field: CRM field
  deal.expected_go_live: go_live_date
  account.segment: company.customer_segment
  owners.csm: csm_owner
segments:                # optional: CRM value -> journey segment
  Mid-Market: mid_market
write_back:              # optional: journey values written back to the CRM (journey.adapters.crm.write_mapping)
  enabled: true
```
:func:`load_mapping` validates a file and names the file and the line of each problem.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from journey.adapters.crm.write_mapping import WriteBack, default_write_back, parse_write_back

VENDORS = ("hubspot", "salesforce", "pipedrive")
ANY_PIPELINE = "*"
TARGETS = frozenset({
    "deal.name", "deal.amount", "deal.currency", "deal.signed_at", "deal.contract_start", "deal.contract_end",
    "deal.expected_go_live", "deal.seats",
    "account.id", "account.name", "account.domain", "account.segment", "account.region", "account.timezone",
    "owners.ae", "owners.se", "owners.csm", "owners.am",
    "objectives", "notes.why_bought", "notes.alternatives", "notes.technical_scope", "notes.promises",
    "notes.risks", "notes.se_notes",
})


class MappingError(ValueError):
    """A mapping file that cannot be used: `file line N: problem` for each problem."""

    def __init__(self, path: Path | str, problems: list[tuple[int | None, str]]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__("\n".join(f"{path} line {line}: {msg}" if line else f"{path}: {msg}"
                                   for line, msg in problems))


@dataclass(frozen=True)
class CrmMapping:
    vendor: str
    won_stages: dict[str, frozenset[str]] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    segments: dict[str, str] = field(default_factory=dict)
    write_back: WriteBack = field(default_factory=WriteBack)

    def pipeline_known(self, pipeline: str | None) -> bool:
        return ANY_PIPELINE in self.won_stages or (pipeline is not None and str(pipeline) in self.won_stages)

    def is_won_stage(self, pipeline: str | None, stage: str | None) -> bool:
        if stage is None:
            return False
        stages = self.won_stages.get(str(pipeline), frozenset()) if pipeline is not None else frozenset()
        return str(stage) in stages or str(stage) in self.won_stages.get(ANY_PIPELINE, frozenset())

    def segment(self, value: str | None) -> str | None:
        if value is None or str(value).strip() == "":
            return None
        value = str(value).strip()
        mapped = self.segments.get(value)
        return mapped or "_".join(value.lower().replace("-", " ").split())


def load_mapping(path: Path, vendor: str) -> CrmMapping:
    """Read and validate one mapping file; MappingError names the file and the line of each problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(path, [(None, f"cannot read: {exc.strerror or exc}")]) from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise MappingError(path, [(mark.line + 1 if mark else None,
                                   f"invalid YAML: {getattr(exc, 'problem', None) or exc}")]) from exc
    if root is None:
        return CrmMapping(vendor=vendor, write_back=default_write_back(vendor))
    if not isinstance(root, yaml.MappingNode):
        raise MappingError(path, [(root.start_mark.line + 1, "a CRM mapping must be a YAML mapping")])
    problems: list[tuple[int | None, str]] = []
    sections = {_scalar(k): (k, v) for k, v in root.value}
    for name, (key, _) in sections.items():
        if name not in {"won_stages", "fields", "segments", "write_back"}:
            problems.append((key.start_mark.line + 1,
                             f"unknown section {name!r} (won_stages, fields, segments, write_back)"))
    won = _won_stages(sections.get("won_stages"), problems)
    fields = _string_map(sections.get("fields"), "fields", problems, keys=TARGETS)
    segments = _string_map(sections.get("segments"), "segments", problems, keys=None)
    write_back = parse_write_back((sections.get("write_back") or (None, None))[1], vendor, problems)
    if problems:
        raise MappingError(path, problems)
    return CrmMapping(vendor=vendor, won_stages=won, fields=fields, segments=segments, write_back=write_back)


def _scalar(node: Any) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else "?"


def _won_stages(item: tuple[Any, Any] | None, problems: list[tuple[int | None, str]]) -> dict[str, frozenset[str]]:
    if item is None:
        return {}
    _, node = item
    if not isinstance(node, yaml.MappingNode):
        problems.append((node.start_mark.line + 1, "won_stages must map a pipeline id to a list of stage ids"))
        return {}
    result: dict[str, frozenset[str]] = {}
    for key, value in node.value:
        line = key.start_mark.line + 1
        if not isinstance(key, yaml.ScalarNode) or not str(key.value).strip():
            problems.append((line, "a pipeline id must be a non-empty text"))
            continue
        if isinstance(value, yaml.ScalarNode) and value.value:
            stages = [value.value]
        elif isinstance(value, yaml.SequenceNode) and all(isinstance(v, yaml.ScalarNode) for v in value.value):
            stages = [v.value for v in value.value]
        else:
            problems.append((line, f"won_stages.{key.value} must be a stage id or a list of stage ids"))
            continue
        if not stages or any(not str(s).strip() for s in stages):
            problems.append((line, f"won_stages.{key.value} lists no stage or an empty stage id"))
            continue
        if key.value in result:
            problems.append((line, f"pipeline {key.value!r} is listed twice"))
        result[str(key.value)] = frozenset(str(s) for s in stages)
    return result


def _string_map(item: tuple[Any, Any] | None, section: str, problems: list[tuple[int | None, str]], *,
                keys: frozenset[str] | None) -> dict[str, str]:
    if item is None:
        return {}
    _, node = item
    if not isinstance(node, yaml.MappingNode):
        problems.append((node.start_mark.line + 1, f"{section} must be a mapping of names to names"))
        return {}
    result: dict[str, str] = {}
    for key, value in node.value:
        line = key.start_mark.line + 1
        name = _scalar(key)
        if keys is not None and name not in keys:
            problems.append((line, f"{section}: unknown journey field {name!r}; one of {', '.join(sorted(keys))}"))
            continue
        if not isinstance(value, yaml.ScalarNode) or not str(value.value).strip():
            problems.append((line, f"{section}.{name} must name one CRM field"))
            continue
        result[name] = str(value.value).strip()
    return result


def mapping_path(templates_dir: Path, vendor: str) -> Path:
    return Path(templates_dir) / "crm" / f"{vendor}.yaml"


@lru_cache(maxsize=16)
def _cached(path: Path, vendor: str, mtime: float) -> CrmMapping:
    return load_mapping(path, vendor)


def mapping_for(vendor: str, templates_dir: Path) -> CrmMapping:
    """The vendor's mapping from the templates directory (re-read when the file changes)."""
    path = mapping_path(templates_dir, vendor)
    if not path.exists():
        return CrmMapping(vendor=vendor, write_back=default_write_back(vendor))
    return _cached(path, vendor, path.stat().st_mtime)


def check_mappings(templates_dir: Path) -> list[str]:
    """Every problem of every CRM mapping file, as `file line N: problem` lines (for `journey config check`)."""
    problems: list[str] = []
    directory = Path(templates_dir) / "crm"
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        if path.stem not in VENDORS:
            problems.append(f"{path}: unknown CRM {path.stem!r}; files are named {', '.join(VENDORS)}.yaml")
            continue
        try:
            load_mapping(path, path.stem)
        except MappingError as exc:
            problems.extend(str(exc).splitlines())
    return problems
