"""A NetSuite SuiteQL client for the pipelines: OAuth 1.0a (HMAC-SHA256), retries, keyset paging."""

from __future__ import annotations

from collections.abc import Iterator

import requests
from requests_oauthlib import OAuth1

from pipelines.errors import SourceAuthError, SourceUnreachable, SyncError
from pipelines.http import ResilientSession, connection_problem
from pipelines.progress import SyncProgress
from scc.config import Settings

MAX_PAGE = 1000  # SuiteQL's largest page
SUITEQL_MAX_ROWS = 100_000  # the most rows one SuiteQL query returns, over all its pages


def netsuite_auth(settings: Settings) -> OAuth1:
    return OAuth1(
        settings.netsuite_consumer_key,
        settings.netsuite_consumer_secret.get_secret_value(),
        settings.netsuite_token_id,
        settings.netsuite_token_secret.get_secret_value(),
        signature_method="HMAC-SHA256",
        realm=settings.netsuite_account_id,
    )


class NetSuiteClient:
    def __init__(self, settings: Settings, progress: SyncProgress | None = None):
        self.settings = settings
        self.progress = progress or SyncProgress("netsuite")
        self.session = ResilientSession(max_retries=settings.sync_max_retries, fail_fast=True,
                                        on_response=self._count)
        self.session.auth = netsuite_auth(settings)  # signs every attempt anew: fresh nonce and timestamp
        self.base_url = settings.netsuite_url
        self.page_size = min(settings.sync_page_size, MAX_PAGE)

    def _count(self, _response: requests.Response) -> None:
        self.progress.requests += 1

    def suiteql(self, query: str, *, limit: int | None = None, offset: int = 0) -> dict:
        url = f"{self.base_url}/query/v1/suiteql"
        try:
            response = self.session.post(
                url,
                params={"limit": limit or self.page_size, "offset": offset},
                json={"q": query},
                headers={"Prefer": "transient"},
            )
        except requests.RequestException as error:
            raise SourceUnreachable(f"NetSuite is not reachable at {self.base_url}: {connection_problem(error)}") from error
        if response.status_code == 401:
            raise SourceAuthError(
                f"NetSuite rejected the token-based credentials for account {self.settings.netsuite_account_id} "
                "(check SCC_NETSUITE_CONSUMER_KEY/SECRET and SCC_NETSUITE_TOKEN_ID/SECRET)"
            )
        if response.status_code >= 300:
            raise SyncError(f"NetSuite answered {response.status_code} to a SuiteQL query: {_detail(response)}")
        return response.json()

    def keyset_pages(self, query: str, key: str, key_alias: str | None = None) -> Iterator[list[dict]]:
        """Page a query by its key in windows: SuiteQL refuses offsets past 100,000 rows.

        Within a window the pages go by offset (one query, so NetSuite counts its results once);
        the next window starts after the last key seen. ``query`` must contain ``{after}`` where the
        key condition goes and order by ``key`` ascending; ``key_alias`` is the key's name in the
        returned rows (default: the part after the last dot).

        SuiteQL runs the query again for every page, so rows can move between pages: a record deleted
        behind the offset meanwhile shifts every later row one place up, and the next offset would skip
        one. So each page after the first starts one row early, on the last row already read; when that
        row is not the one expected, the rows moved, and a new window starts after the last key read,
        which cannot skip anything.
        """
        alias = key_alias or key.rsplit(".", 1)[-1]
        after = -1
        while True:
            window = query.format(after=f"{key} > {after}")
            offset = 0  # rows of this window read so far
            while True:
                overlap = 1 if offset else 0
                page = self.suiteql(
                    window, limit=min(self.page_size + overlap, MAX_PAGE), offset=offset - overlap
                )
                items = page.get("items", [])
                for item in items:
                    item.pop("links", None)
                if overlap:
                    if not items or int(items[0][alias]) != after:
                        break  # the rows moved: go on in a new window after the last key read
                    items = items[1:]
                if items:
                    yield items
                    after = int(items[-1][alias])
                if not page.get("hasMore") or not items:
                    return
                offset += len(items)
                if offset + self.page_size > SUITEQL_MAX_ROWS:
                    break

    def offset_pages(self, query: str) -> Iterator[list[dict]]:
        """Page a small query by offset (only for tables far below SuiteQL's 100,000-row ceiling)."""
        offset = 0
        while True:
            page = self.suiteql(query, offset=offset)
            items = page.get("items", [])
            for item in items:
                item.pop("links", None)
            if items:
                yield items
            if not page.get("hasMore") or not items:
                return
            offset += len(items)


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
        details = body.get("o:errorDetails") or []
        return "; ".join(f"{d.get('o:errorCode')}: {d.get('detail')}" for d in details) or str(body)[:300]
    except ValueError:
        return response.text[:300]
