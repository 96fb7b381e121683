"""The `write_back:` section of a CRM mapping file: which journey values go to which CRM properties.

```yaml
write_back:
  enabled: true                 # false: nothing is written to this CRM
  objects: [deal, company]      # deal = HubSpot deal / Salesforce Opportunity / Pipedrive deal;
                                # company = HubSpot company / Salesforce Account / Pipedrive organization
  fields:                       # journey value: CRM property; null turns one value off
    health_score: journey_health_score
    csm_email: null
```
`fields` may instead hold one mapping per object, for a CRM whose objects name their fields differently
(Pipedrive: deal and organization custom fields have keys of their own):
```yaml
  fields:
    deal: {health_score: 1f2e...}
    company: {health_score: 9a8b...}   # `organization` is accepted as another name for company
```
Unlisted values keep their default property (`journey_<value>`, Salesforce `journey_<value>__c`;
Pipedrive has no default: its custom fields are named by 40-character keys, printed by
`journey crm setup pipedrive`). An object listed in `objects` without any field is not written.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

VALUES = ("health_score", "health_band", "health_trend", "plan_status", "plan_on_time_pct", "go_live_date",
          "next_review_date", "next_review_kind", "packet_status", "objectives_met", "last_review_date",
          "csm_email", "am_email", "url")
OBJECTS = ("deal", "company")
OBJECT_NAMES = {"deal": "deal", "company": "company", "organization": "company"}
KINDS = {"health_score": "number", "plan_on_time_pct": "number", "go_live_date": "date", "next_review_date": "date",
         "last_review_date": "date", "csm_email": "email", "am_email": "email", "url": "url"}  # the rest: text
LABELS = {"health_score": "Health score", "health_band": "Health band", "health_trend": "Health trend (30 days)",
          "plan_status": "Plan status", "plan_on_time_pct": "Plan tasks on time (%)", "go_live_date": "Go-live",
          "next_review_date": "Next review", "next_review_kind": "Next review kind", "packet_status": "Handoff packet",
          "objectives_met": "Objectives met", "last_review_date": "Last review held", "csm_email": "CSM",
          "am_email": "AM", "url": "journey page"}
Problems = list[tuple[int | None, str]]


def default_fields(vendor: str) -> dict[str, str]:
    if vendor == "pipedrive":
        return {}
    suffix = "__c" if vendor == "salesforce" else ""
    return {value: f"journey_{value}{suffix}" for value in VALUES}


@dataclass(frozen=True)
class WriteBack:
    """Where journey writes its values in one CRM: per object (deal, company), a journey value's CRM property.

    `objects` lists only the objects that have at least one property mapped."""

    enabled: bool = True
    objects: tuple[str, ...] = OBJECTS
    by_object: dict[str, dict[str, str]] = field(default_factory=dict)

    def fields_for(self, object_type: str) -> dict[str, str]:
        return self.by_object.get(object_type, {})

    def properties(self) -> frozenset[str]:
        return frozenset(p for fields in self.by_object.values() for p in fields.values())


def make_write_back(objects: tuple[str, ...], by_object: dict[str, dict[str, str]], *,
                    enabled: bool = True) -> WriteBack:
    kept = {o: {k: v for k, v in by_object.get(o, {}).items() if v} for o in objects}
    return WriteBack(enabled=enabled, objects=tuple(o for o in objects if kept[o]),
                     by_object={o: f for o, f in kept.items() if f})


def default_write_back(vendor: str) -> WriteBack:
    return make_write_back(OBJECTS, {o: default_fields(vendor) for o in OBJECTS})


def parse_write_back(node: Any, vendor: str, problems: Problems) -> WriteBack:
    """The section, its problems appended as (line, message)."""
    if node is None:
        return default_write_back(vendor)
    if not isinstance(node, yaml.MappingNode):
        problems.append((node.start_mark.line + 1, "write_back must be a mapping (enabled, objects, fields)"))
        return default_write_back(vendor)
    items = {str(k.value): (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    for name, (key, _) in items.items():
        if name not in {"enabled", "objects", "fields"}:
            problems.append((key.start_mark.line + 1, f"write_back: unknown key {name!r} (enabled, objects, fields)"))
    enabled = _enabled(items.get("enabled"), problems)
    objects = _objects(items.get("objects"), problems)
    per_object = _per_object(items.get("fields"), problems)
    return make_write_back(objects, {o: {**default_fields(vendor), **per_object[o]} for o in OBJECTS},
                           enabled=enabled)


def _enabled(item: tuple[Any, Any] | None, problems: Problems) -> bool:
    if item is None:
        return True
    value = item[1]
    if not isinstance(value, yaml.ScalarNode) or str(value.value).lower() not in {"true", "false"}:
        problems.append((value.start_mark.line + 1, "write_back.enabled must be true or false"))
        return True
    return str(value.value).lower() == "true"


def _objects(item: tuple[Any, Any] | None, problems: Problems) -> tuple[str, ...]:
    if item is None:
        return OBJECTS
    value = item[1]
    names = ([v.value for v in value.value if isinstance(v, yaml.ScalarNode)]
             if isinstance(value, yaml.SequenceNode) else None)
    if names is None or any(n not in OBJECTS for n in names):
        problems.append((value.start_mark.line + 1, "write_back.objects must list deal and/or company"))
        return OBJECTS
    return tuple(dict.fromkeys(names))


def _per_object(item: tuple[Any, Any] | None, problems: Problems) -> dict[str, dict[str, str | None]]:
    """{object: {value: property}} from `fields`, flat (the same for every object) or one mapping per object."""
    node = item[1] if item is not None else None
    keys = [str(getattr(k, "value", "")) for k, _ in node.value] if isinstance(node, yaml.MappingNode) else []
    if not keys or not any(k in OBJECT_NAMES for k in keys):
        flat = _fields(node, problems, "write_back.fields")
        return {o: flat for o in OBJECTS}
    result: dict[str, dict[str, str | None]] = {o: {} for o in OBJECTS}
    for key, value in node.value:  # type: ignore[union-attr]
        name = str(getattr(key, "value", "?"))
        if name not in OBJECT_NAMES:
            problems.append((key.start_mark.line + 1, f"write_back.fields: {name!r} is not an object (deal, "
                                                      "company / organization); do not mix the two forms"))
            continue
        result[OBJECT_NAMES[name]].update(_fields(value, problems, f"write_back.fields.{name}"))
    return result


def _fields(node: Any, problems: Problems, where: str) -> dict[str, str | None]:
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"):
        return {}
    if not isinstance(node, yaml.MappingNode):
        problems.append((node.start_mark.line + 1, f"{where} must map journey values to CRM properties"))
        return {}
    result: dict[str, str | None] = {}
    for key, value in node.value:
        line, name = key.start_mark.line + 1, str(getattr(key, "value", "?"))
        if name not in VALUES:
            problems.append((line, f"{where}: unknown journey value {name!r}; one of {', '.join(VALUES)}"))
        elif not isinstance(value, yaml.ScalarNode):
            problems.append((line, f"{where}.{name} must name one CRM property, or be null"))
        elif value.tag == "tag:yaml.org,2002:null" or not str(value.value).strip():
            result[name] = None
        else:
            result[name] = str(value.value).strip()
    taken = [v for v in result.values() if v]
    for prop in sorted({p for p in taken if taken.count(p) > 1}):
        problems.append((node.start_mark.line + 1, f"{where}: property {prop!r} is named twice"))
    return result
