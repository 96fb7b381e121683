"""Example bodies of the webhook routes for the OpenAPI document (`/docs` shows them; clients read them).
Shapes as each sender posts them; values invented. Tests post each example and expect it accepted."""
from __future__ import annotations

from typing import Any

DEAL_SIGNED: dict[str, Any] = {
    "type": "deal.signed", "timestamp": "2026-11-20T14:03:00Z",
    "data": {
        "deal": {"id": "D-1001", "name": "Acme - Platform", "amount": "48000.00", "currency": "EUR",
                 "signed_at": "2026-11-20T13:55:00Z", "contract_start": "2026-12-01", "contract_end": "2027-11-30",
                 "expected_go_live": "2027-01-15", "seats": 120},
        "account": {"id": "C-77", "name": "Acme SAS", "domain": "acme.example", "segment": "mid_market",
                    "region": "FR", "timezone": "Europe/Paris"},
        "owners": {"ae": {"email": "ae@vendor.example", "name": "Alice AE"},
                   "csm": {"email": "csm@vendor.example", "name": "Camille CSM"}},
        "objectives": [{"title": "Cut agent onboarding time", "kpi": "days to first ticket", "baseline": 21,
                        "target": 7, "unit": "days", "due": "2027-06-01", "source": "customer_validated"}],
        "stakeholders": [{"name": "Chloé Martin", "email": "chloe@acme.example", "title": "COO",
                          "role": "executive_sponsor"}],
        "notes": {"why_bought": "Onboarding too slow", "promises": ["SSO in Q1"], "risks": ["IT capacity"]}}}
DEAL_UPDATED = {"type": "deal.updated", "timestamp": "2026-12-02T09:00:00Z",
                "data": {"deal": {"id": "D-1001", "expected_go_live": "2027-02-01",
                                  "reason": "customer's IT freeze in January"}}}
DEAL_LOST = {"type": "deal.lost", "timestamp": "2026-12-03T09:00:00Z",
             "data": {"deal": {"id": "D-1001", "reason": "contract cancelled"}}}

HUBSPOT = [{"eventId": 100, "subscriptionId": 4021, "portalId": 62515, "appId": 1160452, "occurredAt": 1795183200000,
            "subscriptionType": "deal.propertyChange", "attemptNumber": 0, "objectId": 1001, "changeSource": "CRM",
            "changeFlag": "NEW", "propertyName": "dealstage", "propertyValue": "closedwon", "sourceId": "userId:1234"}]

PIPEDRIVE_V2 = {
    "data": {"id": 913, "title": "Globex - Expansion", "value": 12000, "currency": "USD", "status": "won",
             "stage_id": 9, "pipeline_id": 2, "org_id": 88, "owner_id": 9002, "won_time": "2026-11-20T14:30:00Z",
             "update_time": "2026-11-20T14:30:00Z", "custom_fields": {}},
    "previous": {"status": "open"},
    "meta": {"action": "change", "company_id": "7001", "correlation_id": "6c0f3e0a-0000-4000-8000-000000000001",
             "entity_id": "913", "entity": "deal", "id": "0b7f4f9e-0000-4000-8000-00000000abcd",
             "is_bulk_edit": False, "timestamp": "2026-11-20T14:30:00.123Z", "type": "general", "user_id": "9002",
             "version": "2.0", "webhook_id": "341", "webhook_owner_id": "9002", "change_source": "app",
             "host": "acme.pipedrive.com"}}

SALESFORCE = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>00D5g000004C9uSEAS</OrganizationId>
   <ActionId>04k5g000000AbCdAAK</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/62.0/00D5g000004C9uS</EnterpriseUrl>
   <PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/62.0/00D5g000004C9uS</PartnerUrl>
   <Notification>
    <Id>04l5g00000AbCdEAAV</Id>
    <sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>0065g00000AAAAA1</sf:Id>
     <sf:AccountId>0015g00000AAAAAA1</sf:AccountId>
     <sf:Name>Acme - Platform</sf:Name>
     <sf:Amount>48000.0</sf:Amount>
     <sf:CloseDate>2026-11-20</sf:CloseDate>
     <sf:IsWon>true</sf:IsWon>
     <sf:StageName>Closed Won</sf:StageName>
     <sf:LastModifiedDate>2026-11-20T14:00:00.000Z</sf:LastModifiedDate>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>
"""
