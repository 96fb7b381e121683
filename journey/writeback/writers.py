"""The writers of the CRMs journey writes to, from the settings (test seam: `transports`)."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from journey.adapters.crm.hubspot_writer import HubSpotWriter
from journey.adapters.crm.write_mapping import WriteBack
from journey.adapters.crm.writer import Writer
from journey.config import get_settings

# Test seams: httpx transports per CRM (httpx.MockTransport in tests and benchmarks; None = the network), and
# how a short rate-limit wait sleeps.
transports: dict[str, Any] = {}
sleep: Callable[[float], None] | None = None


def writers_from_settings(crms: Mapping[str, WriteBack]) -> dict[str, Writer]:
    settings = get_settings()
    writers: dict[str, Writer] = {}
    if "hubspot" in crms and settings.hubspot_access_token:
        writers["hubspot"] = HubSpotWriter(base_url=settings.hubspot_api_base, token=settings.hubspot_access_token,
                                           transport=transports.get("hubspot"), sleep=sleep)
    return writers
