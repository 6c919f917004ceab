"""The Salesforce REST emulator: SOQL over a SQLite store, served the way Salesforce serves it.

* :mod:`emulators.salesforce.soql` — SOQL -> SQLite translation (parsed with sqlglot).
* :mod:`emulators.salesforce.store` — :class:`SalesforceStore`: queries, writes, custom fields, CDC listeners.
* :mod:`emulators.salesforce.app` — :func:`create_app`: the Starlette app (REST API, OAuth token, admin).
"""

from emulators.salesforce.store import SalesforceError, SalesforceStore

__all__ = ["SalesforceError", "SalesforceStore", "create_app"]


def create_app(*args, **kwargs):  # imported lazily: the store is usable without starlette
    from emulators.salesforce.app import create_app as _create_app

    return _create_app(*args, **kwargs)
