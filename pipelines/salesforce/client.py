"""A Salesforce client for the pipelines: simple-salesforce plus OAuth login, re-login and budget care.

It works unchanged against the emulator and a real org: the instance URL, credentials and CA come from
the settings module.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import TypeVar

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession

from pipelines.errors import SourceAuthError, SourceUnreachable
from pipelines.http import BudgetExhausted, ResilientSession, connection_problem
from pipelines.progress import SyncProgress
from scc.config import Settings

log = logging.getLogger("scc.pipelines.salesforce")
T = TypeVar("T")
_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")


class SalesforceClient:
    def __init__(self, settings: Settings, progress: SyncProgress | None = None):
        self.settings = settings
        self.progress = progress or SyncProgress("salesforce")
        self.session = ResilientSession(max_retries=settings.sync_max_retries, fail_fast=True,
                                        on_response=self._track_usage)
        self.session.verify = settings.salesforce_verify
        self.logins = 0
        self._sf: Salesforce | None = None

    # --- auth -------------------------------------------------------------------------------------
    def login(self) -> None:
        s = self.settings
        form = {"client_id": s.salesforce_client_id, "client_secret": s.salesforce_client_secret.get_secret_value()}
        if s.salesforce_username and s.salesforce_password.get_secret_value():
            form |= {
                "grant_type": "password",
                "username": s.salesforce_username,
                "password": s.salesforce_password.get_secret_value(),
            }
        else:
            form["grant_type"] = "client_credentials"
        url = f"{s.salesforce_url}/services/oauth2/token"
        try:
            response = self.session.post(url, data=form)
        except OSError as error:  # requests' errors, and a CA file that is not there (emulators never started)
            raise SourceUnreachable(f"Salesforce is not reachable at {s.salesforce_url}: {connection_problem(error)}") from error
        if response.status_code in (400, 401):
            detail = _json_or_text(response)
            raise SourceAuthError(
                f"Salesforce rejected the credentials of {s.salesforce_username or s.salesforce_client_id}: "
                f"{detail.get('error_description') or detail.get('error') or detail}"
            )
        if response.status_code >= 300:
            raise SourceUnreachable(f"Salesforce token endpoint answered {response.status_code}: {response.text[:300]}")
        token = response.json()
        self.logins += 1
        self._sf = Salesforce(
            instance_url=token.get("instance_url") or s.salesforce_url,
            session_id=token["access_token"],
            session=self.session,
            version=s.salesforce_api_version,
        )

    @property
    def sf(self) -> Salesforce:
        if self._sf is None:
            self.login()
        return self._sf

    def call(self, fn: Callable[[Salesforce], T]) -> T:
        """Run one API call, logging in again once if the session expired meanwhile."""
        self.check_budget()
        try:
            return fn(self.sf)
        except SalesforceExpiredSession:
            log.info("Salesforce session expired; logging in again")
            self.login()
            return fn(self.sf)
        except requests.ConnectionError as error:
            raise SourceUnreachable(
                f"Salesforce is not reachable at {self.settings.salesforce_url}: {connection_problem(error)}"
            ) from error

    # --- budget -----------------------------------------------------------------------------------
    def _track_usage(self, response: requests.Response) -> None:
        self.progress.requests += 1
        match = _USAGE.search(response.headers.get("Sforce-Limit-Info", ""))
        if match:
            used, limit = int(match.group(1)), int(match.group(2))
            self.progress.api_usage = (used, limit)

    def check_budget(self) -> None:
        """Stop before the sync eats more than its share of the org's daily API budget."""
        usage = self.progress.api_usage
        if usage and usage[0] >= usage[1] * self.settings.salesforce_daily_budget_share:
            raise BudgetExhausted(
                f"Salesforce API usage is {usage[0]:,} of {usage[1]:,} today, past the "
                f"{self.settings.salesforce_daily_budget_share:.0%} this product may use; "
                "the next sync resumes where this one stopped"
            )

    # --- reads ------------------------------------------------------------------------------------
    def describe(self, sobject: str) -> dict:
        return self.call(lambda sf: getattr(sf, sobject).describe())

    def query_pages(self, soql: str, *, include_deleted: bool) -> Iterator[list[dict]]:
        """Yield the records of a query page by page (``nextRecordsUrl``), surviving session expiry."""
        page = self.call(lambda sf: sf.query(soql, include_deleted=include_deleted))
        while True:
            yield [_without_attributes(r) for r in page["records"]]
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                return
            next_url = page["nextRecordsUrl"]
            page = self.call(lambda sf: sf.query_more(next_url, identifier_is_url=True, include_deleted=include_deleted))

    def deleted(self, sobject: str, start: str, end: str) -> list[dict]:
        return self.call(lambda sf: getattr(sf, sobject).deleted(start, end)).get("deletedRecords", [])


def _without_attributes(record: dict) -> dict:
    record.pop("attributes", None)
    return record


def _json_or_text(response: requests.Response) -> dict:
    try:
        body = response.json()
        return body if isinstance(body, dict) else {"error": body}
    except ValueError:
        return {"error": response.text[:300]}
