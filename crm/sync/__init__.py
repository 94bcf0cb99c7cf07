"""CRM sync: what the portal knows of a lead, delivered to Salesforce and HubSpot through a transactional outbox.

- ``records``: the CRM-neutral record of a lead (contact, demo activities, score) and what a CRM client
  promises (``CrmClient``), with the errors it raises;
- ``salesforce`` / ``hubspot``: the two clients, through simple-salesforce and hubspot-api-client;
- ``outbox``: the sync rows — written with the event that triggers them, delivered by the worker, swept by
  beat (``docs/crm.md``).
"""
