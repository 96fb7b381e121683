"""The writers of the CRMs journey writes to, from the settings (test seam: `transports`)."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from journey.adapters.crm.hubspot_writer import HubSpotWriter
from journey.adapters.crm.pipedrive_writer import PipedriveWriter
from journey.adapters.crm.salesforce_writer import SalesforceWriter
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
    if ("salesforce" in crms and settings.salesforce_instance_url and settings.salesforce_client_id
            and settings.salesforce_client_secret):
        writers["salesforce"] = SalesforceWriter(
            instance_url=settings.salesforce_instance_url, client_id=settings.salesforce_client_id,
            client_secret=settings.salesforce_client_secret, api_version=settings.salesforce_api_version,
            transport=transports.get("salesforce"), sleep=sleep)
    if "pipedrive" in crms and settings.pipedrive_api_token:
        writers["pipedrive"] = PipedriveWriter(base_url=settings.pipedrive_api_base,
                                               token=settings.pipedrive_api_token,
                                               transport=transports.get("pipedrive"), sleep=sleep)
    return writers
