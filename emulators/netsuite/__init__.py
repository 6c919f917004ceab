"""NetSuite SuiteTalk REST emulator: SuiteQL and the record service over a SQLite store.

``create_app(store_path, settings, faults)`` (:mod:`emulators.netsuite.app`) serves the store;
:class:`~emulators.netsuite.store.NetSuiteStore` is the data and its writes.
"""

from emulators.netsuite.app import create_app
from emulators.netsuite.store import NetSuiteStore, NotFound, ValidationError

__all__ = ["NetSuiteStore", "NotFound", "ValidationError", "create_app"]
