"""CRM write-back: journey's values on the CRM records the webhooks came from (HubSpot, Salesforce, Pipedrive)."""
