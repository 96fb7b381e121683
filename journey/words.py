"""Words a person reads for the codes of segments, metrics, bands and roles. Pure."""
from __future__ import annotations

# Words a person reads for the codes of segments, metrics, bands and roles; anything else: "at_risk" -> "At risk".
WORDS = {"smb": "SMB", "mid_market": "Mid-market", "midmarket": "Mid-market", "enterprise": "Enterprise",
         "csm_sentiment": "CSM sentiment", "nps": "NPS", "csat": "CSAT", "executive_sponsor": "Executive sponsor",
         "day_to_day": "Day-to-day contact", "revops": "RevOps", "sso": "SSO", "api_calls": "API calls",
         "escalation_open": "Open escalation", "active_users": "Active users", "time_to_value": "Time to value"}


def label(value: object) -> str:
    """A code as words: `mid_market` -> Mid-market, `csm_sentiment` -> CSM sentiment, `at_risk` -> At risk."""
    if not value:
        return ""
    text = str(value)
    return WORDS.get(text.lower()) or text.replace("_", " ").capitalize()


SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}


def money(value: object, currency: str) -> str:
    """An amount, whole, in the workspace's currency: €190,000 (a known symbol), 190,000 CHF (else); — unknown."""
    if value is None:
        return "—"
    amount = f"{float(value):,.0f}"  # type: ignore[arg-type]
    symbol = SYMBOLS.get(currency.upper())
    return f"{symbol}{amount}" if symbol else f"{amount} {currency.upper()}"
