"""Bulk imports: signed deals from CRM exports (`journey import deals`)."""
