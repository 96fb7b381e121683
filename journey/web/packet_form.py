"""The packet edit form: content to form fields and back to a patch of every section (validated by the
handoff domain when the service applies it)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Form

from journey.handoff import domain

STAKEHOLDER_ROLES = ("executive_sponsor", "champion", "day_to_day", "technical", "billing", "other")
TEXT_SECTIONS = ("why_bought", "alternatives", "technical_scope", "se_notes")
TERMS = ("amount", "currency", "contract_start", "contract_end", "seats", "expected_go_live")
BLANK_ROWS = 2
Text = Annotated[str, Form(max_length=20_000)]
Many = Annotated[list[str], Form()]


def packet_fields(why_bought: Text = "", alternatives: Text = "", technical_scope: Text = "", se_notes: Text = "",
                  promises: Text = "", risks: Text = "", amount: Text = "", currency: Text = "",
                  contract_start: Text = "", contract_end: Text = "", seats: Text = "", expected_go_live: Text = "",
                  obj_title: Many = [], obj_kpi: Many = [], obj_baseline: Many = [],  # noqa: B006
                  obj_target: Many = [], obj_unit: Many = [], obj_due: Many = [], obj_source: Many = [],  # noqa: B006
                  obj_metric: Many = [],  # noqa: B006
                  sh_name: Many = [], sh_email: Many = [], sh_title: Many = [], sh_role: Many = [],  # noqa: B006
                  ) -> dict[str, Any]:
    return dict(locals())


PacketFields = Annotated[dict[str, Any], Depends(packet_fields)]


def _column(fields: dict[str, Any], name: str, i: int) -> str:
    values = fields.get(name) or []
    return values[i].strip() if i < len(values) else ""


def _number(text: str, what: str) -> float | None:
    if not text:
        return None
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise ValueError(f"{what}: {text!r} is not a number (type one such as 7 or 7.5)") from None


def to_patch(fields: dict[str, Any]) -> dict[str, Any]:
    """Every section of the packet from the form; blank rows are dropped, numbers parsed."""
    patch: dict[str, Any] = {name: fields[name].strip() or None for name in TEXT_SECTIONS}
    for name in ("promises", "risks"):
        patch[name] = [line.strip() for line in fields[name].splitlines() if line.strip()]
    terms = {name: fields[name].strip() or None for name in TERMS}
    patch["deal_terms"] = terms
    objectives = []
    for i in range(len(fields["obj_title"])):
        title = _column(fields, "obj_title", i)
        if not title:
            continue
        objectives.append({"title": title, "kpi": _column(fields, "obj_kpi", i) or None,
                           "baseline": _number(_column(fields, "obj_baseline", i), f"baseline of {title!r}"),
                           "target": _number(_column(fields, "obj_target", i), f"target of {title!r}"),
                           "unit": _column(fields, "obj_unit", i) or None, "due": _column(fields, "obj_due", i) or None,
                           "source": _column(fields, "obj_source", i) or "sales_assumed",
                           "metric": _column(fields, "obj_metric", i) or None})
    patch["objectives"] = objectives
    stakeholders = []
    for i in range(len(fields["sh_name"])):
        row = {k: _column(fields, f"sh_{k}", i) or None for k in ("name", "email", "title", "role")}
        if row["name"] or row["email"]:
            stakeholders.append(row)
    patch["stakeholders"] = stakeholders
    return patch


def to_form(content: dict[str, Any]) -> dict[str, Any]:
    """The current content as the form shows it, with blank rows to add objectives and stakeholders."""
    terms = content.get("deal_terms") or {}
    blank_objective = {"title": "", "kpi": "", "baseline": "", "target": "", "unit": "", "due": "",
                       "source": "sales_assumed", "metric": ""}
    blank_person = {"name": "", "email": "", "title": "", "role": "other"}
    return {
        **{name: content.get(name) or "" for name in TEXT_SECTIONS},
        "promises": "\n".join(content.get("promises") or []), "risks": "\n".join(content.get("risks") or []),
        "terms": {name: "" if terms.get(name) is None else terms.get(name) for name in TERMS},
        "objectives": [{**blank_objective, **{k: ("" if v is None else v) for k, v in o.items()}}
                       for o in content.get("objectives") or []] + [blank_objective] * BLANK_ROWS,
        "stakeholders": [{**blank_person, **{k: ("" if v is None else v) for k, v in s.items()}}
                         for s in content.get("stakeholders") or []] + [blank_person] * BLANK_ROWS,
    }


def typed_form(fields: dict[str, Any]) -> dict[str, Any]:
    """What was typed, as the form shows it (nothing parsed): the page shown again after a refusal."""
    objectives = [{k: _column(fields, f"obj_{k}", i) for k in ("title", "kpi", "baseline", "target", "unit", "due",
                                                               "source", "metric")}
                  for i in range(len(fields.get("obj_title") or []))]
    people = [{k: _column(fields, f"sh_{k}", i) for k in ("name", "email", "title", "role")}
              for i in range(len(fields.get("sh_name") or []))]
    return {**{name: fields.get(name) or "" for name in (*TEXT_SECTIONS, "promises", "risks")},
            "terms": {name: fields.get(name) or "" for name in TERMS}, "objectives": objectives,
            "stakeholders": people}


def changed_sections(current: Any, patch: dict[str, Any]) -> dict[str, Any]:
    """Only the sections whose value the form changed, compared after the domain's own validation (so
    "48000" and "48000.00" are the same amount); an SE's save then touches only the SE's sections."""

    before = current.model_dump(mode="json")
    after = domain.apply_patch(current, patch).model_dump(mode="json")
    return {name: patch[name] for name in patch if after[name] != before[name]}
