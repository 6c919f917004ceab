"""Errors the emulator raises and renders the way Salesforce does: ``[{"message", "errorCode", "fields"?}]``."""

from __future__ import annotations


class SalesforceError(Exception):
    """An error Salesforce would answer with ``status`` and ``[{"message", "errorCode"}]``."""

    def __init__(self, status: int, error_code: str, message: str, fields: list[str] | None = None):
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = fields

    def body(self) -> list[dict]:
        item: dict = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
            item["fields"] = list(self.fields)
        return [item]


def not_found(message: str = "The requested resource does not exist") -> SalesforceError:
    return SalesforceError(404, "NOT_FOUND", message)
