"""The demo's story as data: about 30 customers signed over the last nine months, each with a segment, a
region, owners, a contract, a plan kept on time or late, and a health profile. Pure: every date is
relative to the `now` it is given, so the demo never goes stale.

The accounts whose story matters by name: Globex (expanded: an add-on won, a second team proposed),
Umbrella Retail (churned: its deal was lost five weeks ago), Initech (an escalation open, red).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

CSM_EU, CSM_US, AM_EU, AM_US = "csm@demo.example", "csm.us@demo.example", "am@demo.example", "am.us@demo.example"
REGIONS = {"US": ("America/New_York", CSM_US, AM_US), "FR": ("Europe/Paris", CSM_EU, AM_EU),
           "GB": ("Europe/London", CSM_EU, AM_EU), "DE": ("Europe/Berlin", CSM_EU, AM_EU)}
SEATS = {"enterprise": 900, "mid_market": 150, "smb": 30}
GO_LIVE_DAYS = {"enterprise": 80, "mid_market": 45, "smb": 20}


@dataclass(frozen=True)
class Customer:
    n: int
    name: str
    domain: str
    segment: str
    region: str
    amount: int
    signed_days_ago: int
    late: bool  # the plan slipped: tasks done days after their due date, some still open
    health: str  # steady, declining, recovering, weak: how usage moved over the last 90 days

    @property
    def ref(self) -> str:
        return f"crm:events:DEMO-ACC-{self.n}"


_NAMES = [  # name, segment, region, contract value, health profile
    ("Globex Corporation", "enterprise", "US", 240000, "steady"),
    ("Société Générale d'Exemple", "mid_market", "FR", 48000, "recovering"),
    ("Initech Ltd", "smb", "GB", 9600, "weak"),
    ("Umbrella Retail", "mid_market", "DE", 36000, "declining"),
    ("Hooli Cloud", "enterprise", "US", 180000, "steady"),
    ("Stark Logistics", "enterprise", "DE", 150000, "declining"),
    ("Wayne Health", "enterprise", "US", 210000, "recovering"),
    ("Acme Outillage", "mid_market", "FR", 42000, "steady"),
    ("Vandelay Imports", "mid_market", "US", 54000, "steady"),
    ("Cyberdyne Support", "mid_market", "US", 60000, "weak"),
    ("Tyrell Assurance", "mid_market", "GB", 45000, "steady"),
    ("Soylent Foods", "mid_market", "FR", 39000, "declining"),
    ("Oscorp Energy", "enterprise", "GB", 195000, "steady"),
    ("Pied Piper", "smb", "US", 12000, "steady"),
    ("Bluth Homes", "smb", "US", 8400, "declining"),
    ("Dunder Paper", "smb", "US", 7200, "steady"),
    ("Gringotts Banque", "enterprise", "FR", 170000, "recovering"),
    ("Nakatomi Trading", "mid_market", "DE", 51000, "steady"),
    ("Monarch Cafés", "smb", "FR", 6000, "steady"),
    ("Prestige Travel", "smb", "GB", 9000, "weak"),
    ("Wonka Confiserie", "mid_market", "FR", 33000, "steady"),
    ("Krusty Kitchens", "smb", "US", 4800, "declining"),
    ("Sterling Cooper", "mid_market", "US", 57000, "recovering"),
    ("Massive Dynamic", "enterprise", "US", 220000, "steady"),
    ("Los Pollos GmbH", "smb", "DE", 7800, "steady"),
    ("Aperture Labs", "mid_market", "GB", 48000, "steady"),
    ("Bestbuy Outlet", "smb", "GB", 5400, "recovering"),
    ("Kwik Mart", "smb", "DE", 3600, "steady"),
    ("Duff Brewing", "mid_market", "DE", 40000, "weak"),
    ("Rekall Media", "smb", "FR", 10800, "steady"),
]
CHURNED, EXPANDED, ESCALATED = 4, 1, 3


def customers() -> list[Customer]:
    """The 30 customers, signed from 270 days ago to 9 days ago; one in three ran its plan late."""
    out = []
    for i, (name, segment, region, amount, health) in enumerate(_NAMES):
        n = i + 1
        slug = "".join(c for c in name.lower().split()[0] if c.isalnum()) or f"c{n}"
        ago = 270 - (i * 261) // (len(_NAMES) - 1)
        if n in (EXPANDED, ESCALATED):  # Globex and Initech are older customers whose history shows
            ago = 250 if n == EXPANDED else 200
        out.append(Customer(n, name, f"{slug}.example", segment, region, amount, ago, late=n % 3 == 0, health=health))
    return out


def deal_event(c: Customer, now: datetime) -> dict[str, Any]:
    """The CRM's `deal.signed` for one customer, as its webhook would send it."""
    signed = (now - timedelta(days=c.signed_days_ago)).replace(microsecond=0)
    day = signed.date()
    tz, csm, am = REGIONS[c.region]
    seats = SEATS[c.segment]
    objectives = [{"title": "Cut time to first resolved ticket for new agents", "kpi": "days", "baseline": 21,
                   "target": 7, "unit": "days", "due": str(day + timedelta(days=180)), "source": "customer_validated"}]
    if c.segment != "smb":
        objectives.append({"title": "Raise self-service rate", "kpi": "self-service %", "baseline": 30, "target": 55,
                           "unit": "%", "due": str(day + timedelta(days=270)), "source": "sales_assumed"})
    return {"type": "deal.signed", "timestamp": signed.isoformat(), "data": {
        "deal": {"id": f"DEMO-{c.n}", "name": f"{c.name} - Platform", "amount": f"{c.amount}.00", "currency": "EUR",
                 "signed_at": signed.isoformat(), "contract_start": str(day + timedelta(days=7)),
                 "contract_end": str(day + timedelta(days=372)),
                 "expected_go_live": str(day + timedelta(days=GO_LIVE_DAYS[c.segment])), "seats": seats},
        "account": {"id": f"DEMO-ACC-{c.n}", "name": c.name, "domain": c.domain, "segment": c.segment,
                    "region": c.region, "timezone": tz},
        "owners": {"ae": {"email": "ae@demo.example", "name": "Alice Martin"},
                   "se": {"email": "se@demo.example", "name": "Sam Okafor"},
                   "csm": {"email": csm}, "am": {"email": am}},
        "objectives": objectives,
        "stakeholders": [
            {"name": "Chloé Bernard", "email": f"chloe@{c.domain}", "title": "COO", "role": "executive_sponsor"},
            {"name": "Yacine Benali", "email": f"yacine@{c.domain}", "title": "Head of Support Operations",
             "role": "champion"}],
        "notes": {"why_bought": "Onboarding new support agents takes three weeks; leadership wants one.",
                  "alternatives": "Zendesk, an in-house tool", "promises": ["SSO with Okta in Q1"],
                  "risks": ["IT team at capacity until February"],
                  "technical_scope": "SSO (Okta), CRM sync, ticket import"} if c.n % 4 else {
                      "why_bought": "Support quality complaints from their largest customer."}}}


def churn_event(now: datetime) -> dict[str, Any]:
    """Umbrella Retail's deal lost five weeks ago: the churned account."""
    at = (now - timedelta(days=35)).replace(microsecond=0).isoformat()
    return {"type": "deal.lost", "timestamp": at,
            "data": {"deal": {"id": f"DEMO-{CHURNED}", "reason": "Budget cut: moved support in-house"}}}


def usage(c: Customer, days_ago: int) -> float:
    """Share of seats active `days_ago` days ago (0..1), following the customer's health profile."""
    t = 1 - days_ago / 90  # 0 ninety days ago, 1 today
    ramp = min(1.0, (c.signed_days_ago - days_ago) / 60)  # adoption grows over the first two months
    base = {"steady": 0.78, "declining": 0.80 - 0.55 * t, "recovering": 0.35 + 0.40 * t, "weak": 0.22}[c.health]
    wobble = 0.03 * math.sin((days_ago + c.n) / 4)
    return max(0.02, min(0.98, base * max(ramp, 0.1) + wobble))


def signals(c: Customer, now: datetime, days: int = 90) -> list[dict[str, Any]]:
    """Up to `days` days of measurements (daily usage, fortnightly survey answers), none before signing."""
    seats = SEATS[c.segment]
    rows = []
    for ago in range(min(days, c.signed_days_ago - 1), -1, -1):
        at = (now - timedelta(days=ago)).replace(hour=6, minute=0, second=0, microsecond=0)
        if at > now:
            at -= timedelta(days=1)
        share = usage(c, ago)
        weak = share < 0.4
        day = {"active_users": round(seats * share), "seats": seats, "logins_7d": round(seats * share * 4.2),
               "feature_adoption": round(share * 0.9, 2), "support_tickets_open": 9 if weak else 2,
               "escalation_open": 1 if c.n == ESCALATED and ago <= 6 else 0,
               "invoice_overdue_days": 41 if c.n == ESCALATED and ago <= 20 else 0}
        if ago % 14 == 0:
            day.update(nps=-20 if weak else 40, csat=2.8 if weak else 4.5, csm_sentiment=2 if weak else 4)
        rows += [{"external_id": f"demo-{c.n}-{metric}-{ago}", "metric": metric, "value": float(value), "at": at}
                 for metric, value in day.items()]
    return rows
