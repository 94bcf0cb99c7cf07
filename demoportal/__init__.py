"""The project package: wiring (settings, urls, asgi, celery) and the portal itself.

Importing it has no side effects: `python -m demoportal.devstack` runs before any settings exist.
"""
