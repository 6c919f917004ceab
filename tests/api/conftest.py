"""The API tests' fixtures live in :mod:`tests.api.fixtures` (shared with the dashboard tests)."""
