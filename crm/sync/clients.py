"""Which CRMs are configured, and their clients: one per process and configuration, so a session (Salesforce's
login) is reused from one delivery to the next."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from crm.models import Crm
from crm.sync.records import CrmClient


def client_for(crm: str) -> CrmClient | None:
    """The client of ``crm``, or None while it is not configured (its credentials are not set)."""
    if crm == Crm.SALESFORCE:
        if not settings.SALESFORCE_USERNAME:
            return None
        return salesforce_client(
            settings.SALESFORCE_USERNAME,
            settings.SALESFORCE_PASSWORD,
            settings.SALESFORCE_SECURITY_TOKEN,
            settings.SALESFORCE_DOMAIN,
        )
    if crm == Crm.HUBSPOT:
        if not settings.HUBSPOT_ACCESS_TOKEN:
            return None
        return hubspot_client(settings.HUBSPOT_ACCESS_TOKEN, settings.HUBSPOT_API_BASE)
    raise ValueError(f"Unknown CRM {crm!r}: use one of {', '.join(Crm.values)}.")


def clients_forget() -> None:
    """Drop the clients made so far (their sessions, API usage and pauses): the tests' fresh start."""
    salesforce_client.cache_clear()
    hubspot_client.cache_clear()


def configured() -> list[str]:
    return [crm for crm in Crm.values if client_for(crm) is not None]


@cache
def salesforce_client(username: str, password: str, token: str, domain: str) -> CrmClient:
    from crm.sync.salesforce import SalesforceClient

    client = SalesforceClient.from_settings()
    assert client is not None
    return client


@cache
def hubspot_client(token: str, base: str) -> CrmClient:
    from crm.sync.hubspot import HubSpotClient

    client = HubSpotClient.from_settings()
    assert client is not None
    return client
