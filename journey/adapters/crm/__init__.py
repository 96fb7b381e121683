"""CRM connectors: one module per vendor (verify, parse, normalise), the shared mapping and ordering rules,
and the steps of the CRM flow. Every connector normalises into journey.deals.events.DealSigned."""
