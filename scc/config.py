"""All settings of Sales Command Center, in one place.

Every value comes from an environment variable (prefix ``SCC_``) or an optional ``.env`` file in the
working directory; the README lists each variable with its default. Nothing else in the project reads
``os.environ`` for configuration.

The offline switches for dbt, dlt, Dagster and litellm are applied by :func:`apply_offline_switches`,
called on import of the ``scc`` package, so no part of the product tries to reach the internet.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Variables that stop telemetry and network calls of the libraries we build on
# (see shared/reference/offline-stack.md). setdefault: a user may still override them.
OFFLINE_ENVIRONMENT = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DO_NOT_TRACK": "1",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_TELEMETRY": "False",
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "HF_HUB_OFFLINE": "1",
}


@contextmanager
def temporary_environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a block, then put back what was there."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def apply_offline_switches() -> None:
    for key, value in OFFLINE_ENVIRONMENT.items():
        os.environ.setdefault(key, value)


class Settings(BaseSettings):
    """Sales Command Center settings. Field names map to ``SCC_<NAME>`` environment variables."""

    model_config = SettingsConfigDict(
        env_prefix="SCC_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- general -----------------------------------------------------------------------------
    data_dir: Path = Field(
        PROJECT_ROOT / "data", description="Folder for the warehouse file, emulator stores, certificates."
    )
    today: dt.date | None = Field(
        None,
        description="The product's notion of today (YYYY-MM-DD). Empty means the real date. Tests pin it.",
    )
    demo_mode: bool = Field(True, description="Use the built-in emulators and demo credentials.")
    log_level: str = Field("INFO", description="Python logging level.")

    # --- warehouse -----------------------------------------------------------------------------
    warehouse_url: str | None = Field(
        None,
        description="PostgreSQL URL (postgresql://user:password@host:port/db) to use PostgreSQL as the "
        "warehouse; empty: the embedded DuckDB file <data_dir>/warehouse.duckdb.",
    )
    sync_page_size: int = Field(1000, description="Rows per SuiteQL page (NetSuite allows at most 1000).")
    sync_max_retries: int = Field(8, description="Retries of one vendor call before a sync gives up.")
    salesforce_daily_budget_share: float = Field(
        0.8, description="Share of the Salesforce daily API budget a sync may use before it stops."
    )
    # The cursor discipline (pipelines/cursors.py): each incremental read starts where the previous read
    # STARTED, less this lag. The lag covers the source's clock skew against ours and its commit latency
    # (a change is stamped when its transaction starts, but visible only once it commits). Each second of
    # lag re-reads one second's changes per run; `scc sync --verify` catches anything committed later.
    salesforce_cursor_lag_seconds: float = Field(
        15.0, ge=0, description="Seconds each Salesforce read reaches back before the previous read's start "
        "(SystemModstamp clock skew and commit latency; raise it for long Bulk API or batch Apex jobs).",
    )
    netsuite_cursor_lag_seconds: float = Field(
        15.0, ge=0, description="Seconds each NetSuite read reaches back before the previous read's start "
        "(lastmodifieddate clock skew and commit latency; raise it for long scheduled or map/reduce scripts).",
    )
    sync_verify_range_rows: int = Field(
        5000, ge=1, description="Rows per key range `scc sync --verify` compares with the source (count and "
        "newest modification stamp per range); a drifted range is re-read whole.",
    )

    # --- demo company --------------------------------------------------------------------------
    demo_seed: int = Field(42, description="Seed of the generated demo company.")
    demo_scale: float = Field(1.0, description="Size of the demo company (1 = about 60,000 orders).")

    # --- emulators -----------------------------------------------------------------------------
    emulator_host: str = Field("127.0.0.1", description="Address the emulators listen on.")
    salesforce_emulator_port: int = Field(8443, description="HTTPS port of the Salesforce emulator.")
    netsuite_emulator_port: int = Field(8081, description="HTTP port of the NetSuite emulator.")
    emulator_live: bool = Field(True, description="Keep the demo company moving while the emulators run.")
    emulator_live_interval: float = Field(5.0, description="Seconds between live-mode steps.")
    emulator_live_speed: float = Field(
        1.0, gt=0, description="How many times faster than real time live mode runs the company's day (1: at "
        "the company's own hourly rates; faster is shown on the dashboard).",
    )
    emulator_webhook_url: str | None = Field(
        None,
        description="Base URL the emulators POST change events to: <url>/salesforce and <url>/netsuite "
        "(empty: nowhere).",
    )
    webhook_secret: SecretStr = Field(
        SecretStr("scc-demo-webhook-secret"),
        description="Shared secret of the HMAC-SHA256 signature on webhook POSTs (X-SCC-Signature over the "
        "event id, the timestamp and the body).",
    )
    webhook_tolerance_seconds: int = Field(
        300,
        description="Seconds a webhook delivery's signed X-SCC-Timestamp may be off the API's clock (older: a "
        "replay, refused with 401).",
    )
    emulator_faults: str = Field(
        "",
        description="Fault injection at start-up, e.g. 'error_rate=0.1,latency_ms=50,seed=7' "
        "(see emulators/faults.py for every key).",
    )
    netsuite_concurrency_limit: int = Field(
        15, description="Concurrent NetSuite requests past which the emulator answers 429."
    )
    salesforce_daily_api_limit: int = Field(
        1_000_000, description="Daily request budget the Salesforce emulator reports and enforces."
    )
    salesforce_session_ttl: int = Field(
        7200, description="Seconds an emulated Salesforce access token stays valid."
    )

    # --- Salesforce ----------------------------------------------------------------------------
    salesforce_instance_url: str | None = Field(
        None, description="Org URL, e.g. https://acme.my.salesforce.com (empty in demo mode: the emulator)."
    )
    salesforce_client_id: str = Field("scc-demo-client", description="Connected-app consumer key.")
    salesforce_client_secret: SecretStr = Field(
        SecretStr("scc-demo-secret"), description="Connected-app consumer secret."
    )
    salesforce_username: str = Field("integration@scc-demo.example", description="Integration user.")
    salesforce_password: SecretStr = Field(SecretStr("demo-password"), description="Integration password.")
    salesforce_api_version: str = Field("59.0", description="REST API version.")
    salesforce_ca_bundle: Path | None = Field(
        None, description="CA bundle to trust for Salesforce (demo mode: the project's own CA)."
    )

    # --- NetSuite ------------------------------------------------------------------------------
    netsuite_account_id: str = Field("SCC_DEMO", description="NetSuite account id (realm).")
    netsuite_base_url: str | None = Field(
        None,
        description="REST base URL ending in /services/rest (empty: derived from the account id, "
        "or the emulator in demo mode).",
    )
    netsuite_consumer_key: str = Field("scc-demo-consumer-key", description="Integration consumer key.")
    netsuite_consumer_secret: SecretStr = Field(
        SecretStr("scc-demo-consumer-secret"), description="Integration consumer secret."
    )
    netsuite_token_id: str = Field("scc-demo-token-id", description="Access token id.")
    netsuite_token_secret: SecretStr = Field(SecretStr("scc-demo-token-secret"), description="Access token secret.")

    # --- API -----------------------------------------------------------------------------------
    api_host: str = Field("127.0.0.1", description="Address `scc serve` listens on.")
    api_port: int = Field(8000, description="Port of the API (`scc serve`).")
    api_workers: int = Field(
        2, description="Worker processes of `scc serve` when Redis is configured (without Redis: always 1)."
    )
    app_database_url: str | None = Field(
        None,
        description="The API's own database (transactions, conversations, audit log, webhook events) as a "
        "SQLAlchemy URL; empty: the SQLite file <data_dir>/app.sqlite. postgresql://user:password@host:port/db "
        "for PostgreSQL.",
    )
    redis_url: str | None = Field(
        None,
        description="Redis for the dashboard cache, rate limits and pub/sub between API workers, e.g. "
        "redis://127.0.0.1:6379/0; empty: in-process fallbacks and a single worker.",
    )
    jwt_secret: SecretStr | None = Field(
        None,
        description="HS256 key that signs the API's access tokens; empty: a built-in demo key in demo mode "
        "(refused outside demo mode).",
    )
    jwt_ttl_minutes: int = Field(60, description="Lifetime of an API access token in minutes.")
    api_demo_password: SecretStr = Field(
        SecretStr("scc-demo"),
        description="Password of the demo logins (exec@, manager@, rep@, finance@scc-demo.example); demo mode only.",
    )
    api_rate_limit: int = Field(100, description="API requests per minute per user (0: no limit).")
    api_cors_origins: str = Field(
        "", description="Comma-separated origins allowed to call the API from a browser (CORS); empty: none."
    )
    api_cache_ttl: int = Field(30, description="Seconds the dashboard endpoints are cached (0: no cache).")
    api_cache_stale_seconds: int = Field(
        3600, description="Seconds past api_cache_ttl a cached dashboard is still answered while it is recomputed "
        "in the background (stale-while-revalidate; a refresh of the marts drops it at once; 0: never).",
    )
    api_warm_dashboards: bool = Field(
        True, description="Compute the executives' dashboards at start-up and after each refresh of the marts, "
        "before anyone asks.",
    )
    api_big_order_amount: float = Field(
        20000.0, description="Orders of at least this total are pushed to dashboards as notable events."
    )
    api_netsuite_timeout: float = Field(20.0, description="Seconds the write path waits for one NetSuite call.")
    api_netsuite_retries: int = Field(
        2, description="Retries of one NetSuite call of the write path (5xx, 429, timeouts) before it fails."
    )
    api_max_body_bytes: int = Field(
        5 * 1024 * 1024,
        description="Largest request body the API reads (any endpoint, webhooks included); larger: 413.",
    )
    api_json_max_depth: int = Field(
        32, description="Deepest nesting of arrays and objects in a JSON request body; deeper: 400."
    )
    api_submit_lease_seconds: int = Field(
        300,
        description="Seconds an approval may stay 'submitting' while its holder lives; a holder that is gone "
        "(its process on this host, or no heartbeat) is taken over at once.",
    )
    api_submit_heartbeat_seconds: float = Field(
        2.0,
        description="Seconds between the heartbeats of an approval being submitted; silent for three of them, "
        "its holder counts as gone (another host's crash).",
    )
    oidc_issuer: str | None = Field(
        None,
        description="OpenID Connect issuer URL for single sign-on (its /.well-known/openid-configuration is "
        "read); empty: local logins only.",
    )
    oidc_client_id: str | None = Field(None, description="OIDC client id of the API.")
    oidc_client_secret: SecretStr | None = Field(None, description="OIDC client secret of the API.")
    oidc_scopes: str = Field("openid email profile", description="Scopes asked of the OIDC provider.")
    oidc_role_claim: str = Field(
        "scc_role", description="ID-token claim holding the role (sales_exec, sales_manager, sales_rep, finance_viewer)."
    )
    oidc_rep_id_claim: str = Field("scc_rep_id", description="ID-token claim holding the user's rep id.")
    oidc_territory_claim: str = Field("scc_territory", description="ID-token claim holding the user's territory.")
    oidc_success_redirect: str | None = Field(
        None,
        description="Where the browser goes after an OIDC login, with #access_token=… appended; empty: the "
        "callback answers with JSON.",
    )

    # --- agents (ask the data) -----------------------------------------------------------------
    llm_model: str | None = Field(
        None,
        description="litellm model the agents plan with, e.g. openai/gpt-4o-mini, anthropic/claude-3-5-sonnet-latest "
        "or openai/<name> with SCC_LLM_API_BASE for a local OpenAI-compatible server; empty: no LLM, the "
        "deterministic planner answers.",
    )
    llm_api_base: str | None = Field(
        None, description="Base URL of the model's API (a local OpenAI-compatible server, a proxy); empty: the provider's."
    )
    llm_api_key: SecretStr | None = Field(
        None, description="API key for the model; empty: the provider's usual variable (OPENAI_API_KEY, ...)."
    )
    llm_timeout: float = Field(30.0, description="Seconds to wait for one LLM reply.")
    llm_max_corrections: int = Field(
        2, description="Times an invalid plan or a failing SQL is sent back to the LLM for correction."
    )
    llm_send_sample_rows: bool = Field(
        False, description="Also send a few example values of the marts to the LLM (off: descriptions only)."
    )
    fiscal_year_start_month: int = Field(
        1, ge=1, le=12, description="Month the fiscal year starts in (1: the calendar year). Quarters, \"Q3\" and "
        "\"FY2026\" in questions follow it; a fiscal year is named by the calendar year it ends in."
    )
    agent_max_rows: int = Field(1000, description="Most rows an agent query returns (the guard's LIMIT).")
    agent_query_timeout: float = Field(10.0, description="Seconds an agent query may run before it is stopped.")
    agent_max_result_bytes: int = Field(
        32_000_000, description="Largest result (roughly, in bytes of values) an agent query may return; past "
        "it the query is stopped with a message to ask for fewer rows or columns."
    )
    reader_memory_limit: str = Field(
        "2GB", description="DuckDB memory_limit of the read-only connections to the marts (every query of the "
        "agents, the dashboards and the insights in this process); a query that needs more fails cleanly."
    )
    reader_temp_directory_limit: str = Field(
        "1GB", description="DuckDB max_temp_directory_size of the read-only connections: how much a query may "
        "spill to disk beyond the memory limit."
    )
    reader_threads: int = Field(
        2, ge=1, description="DuckDB threads of the read-only connections (the most cores one query may use)."
    )

    # --- the MCP server (`scc mcp`, /mcp on the API) --------------------------------------------
    mcp_token: SecretStr | None = Field(
        None,
        description="API access token `scc mcp` (stdio) acts with: its user, role and scope (POST "
        "/api/v1/auth/token); empty: in demo mode `scc mcp --user <demo login>`.",
    )
    mcp_page_rows: int = Field(
        50, ge=1, description="Rows one MCP tool call returns; the answer states the total and the offset of the "
        "next page."
    )
    api_public_url: str | None = Field(
        None, description="Where people reach the dashboard, for links the API hands out (an MCP draft's review "
        "link); empty: http://<api_host>:<api_port>."
    )

    # --- document storage (approved drafts' PDFs, digests, exports, the audit archive) ----------
    storage_url: str | None = Field(
        None, description="Where documents are kept, as an fsspec URL: s3://bucket/prefix (S3 or an S3-compatible "
        "store) or a folder; empty: the folder <data_dir>/storage.",
    )
    storage_endpoint_url: str | None = Field(
        None, description="Endpoint of an S3-compatible store (MinIO, Ceph, R2, ...), e.g. http://minio:9000; "
        "empty: AWS S3.",
    )
    storage_access_key_id: str | None = Field(
        None, description="Access key id for s3:// storage; empty: the usual AWS chain (AWS_ACCESS_KEY_ID, an "
        "instance or task role, ~/.aws).",
    )
    storage_secret_access_key: SecretStr | None = Field(None, description="Secret access key for s3:// storage.")
    storage_region: str | None = Field(None, description="Region of the s3:// bucket; empty: the AWS default.")
    audit_archive_interval_seconds: int = Field(
        3600, ge=0, description="Seconds between the API's looks for finished days of the audit log not yet "
        "archived to storage (one gzip JSON-lines object per UTC day, never rewritten; 0: only `scc audit archive`).",
    )

    # --- orchestration (Dagster) ---------------------------------------------------------------
    dagster_host: str = Field("127.0.0.1", description="Address the Dagster console (`scc demo`) listens on.")
    dagster_port: int = Field(3000, description="Port of the Dagster console (`scc demo`; a free one if taken).")
    orchestration_schedules: bool = Field(
        True,
        description="Run the fallback schedules (Salesforce and NetSuite orders every 5 min, products and "
        "inventory every 15 min, invoices hourly) whenever the Dagster daemon runs.",
    )
    orchestration_sensor_interval: int = Field(
        2, description="Seconds between two looks of the change sensor at the queued webhook events."
    )

    # --- insights and digests ------------------------------------------------------------------
    insights_lookback_days: int = Field(
        60, description="Days of daily orders and bookings searched for anomalies (complete days, before today)."
    )
    insights_anomaly_z: float = Field(
        4.0,
        description="Robust z (residual from the weekly-seasonal baseline / 1.4826 MAD) from which a day is an "
        "anomaly; 1.5 times it (and a 2x or 0.5x day) makes it high severity.",
    )
    insights_win_rate_points: float = Field(
        5.0, description="Change of the win rate, in points quarter over quarter, from which it is an insight."
    )
    insights_min_closed_deals: int = Field(
        20, description="Closed deals each quarter needs before its win rate is compared (half as many won for deal size)."
    )
    insights_change_pct: float = Field(
        20.0, description="Percent change from which a customer's growth or the average deal size is an insight."
    )
    insights_decline_pct: float = Field(
        30.0, description="Percent drop of a customer's last-90-day bookings against the 90 before that is a decline."
    )
    insights_large_deal_amount: float = Field(
        100000.0, description="Stalled deals of at least this amount get an insight each (the others one together)."
    )
    insights_slip_pushes: int = Field(3, description="Close-date pushes from which an open deal counts as slipping.")
    insights_overdue_days: int = Field(60, description="Days past due from which receivables count as long overdue.")
    insights_max_per_kind: int = Field(5, description="Most insights of one kind (the largest first).")
    insights_publish_severity: str = Field(
        "high",
        description="Least severity (high, medium, low) of a new insight pushed to the dashboards after a marts refresh.",
    )
    insights_cache_seconds: int = Field(
        60, description="Seconds the insights of one scope are reused while the warehouse does not change (0: never)."
    )
    smtp_host: str | None = Field(
        None, description="SMTP server the digests are sent through (SendGrid: smtp.sendgrid.net, SES: "
        "email-smtp.<region>.amazonaws.com); empty: digests are not sent."
    )
    smtp_port: int = Field(587, description="SMTP port (587 with STARTTLS, 465 with TLS, 25 or a test server's).")
    smtp_user: str | None = Field(None, description="SMTP user name (SendGrid: apikey); empty: no login.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password or API key.")
    smtp_tls: str = Field("starttls", description="SMTP encryption: starttls, ssl (implicit TLS) or none.")
    smtp_from: str = Field(
        "Sales Command Center <digest@scc-demo.example>", description="From address of the digests."
    )
    smtp_timeout: float = Field(30.0, description="Seconds to wait for the SMTP server.")
    digest_recipients: str = Field(
        "",
        description="Who gets the digests: comma-separated email=role[:rep id or territory], e.g. "
        "'ceo@acme.com=sales_exec, west@acme.com=sales_manager:West, jo@acme.com=sales_rep:005...'.",
    )
    digest_schedules: bool = Field(
        True, description="Run the digest schedules (daily and weekly) whenever the Dagster daemon runs and SMTP is set."
    )
    digest_daily_cron: str = Field("0 7 * * *", description="When the daily digest goes out (cron, SCC_DIGEST_TIMEZONE).")
    digest_weekly_cron: str = Field("0 7 * * 1", description="When the weekly digest goes out (cron, SCC_DIGEST_TIMEZONE).")
    digest_timezone: str = Field("UTC", description="Time zone of the digest schedules.")
    digest_top_insights: int = Field(5, description="Insights in a digest (the most severe first).")

    # --- derived -------------------------------------------------------------------------------
    @property
    def emulator_dir(self) -> Path:
        return self.data_dir / "emulators"

    @property
    def tls_dir(self) -> Path:
        return self.data_dir / "tls"

    @property
    def salesforce_url(self) -> str:
        if self.salesforce_instance_url:
            return self.salesforce_instance_url.rstrip("/")
        return f"https://{self.emulator_host}:{self.salesforce_emulator_port}"

    @property
    def salesforce_verify(self) -> str | bool:
        """What requests should trust for Salesforce: the project CA in demo mode, else the system."""
        if self.salesforce_ca_bundle:
            return str(self.salesforce_ca_bundle)
        if not self.salesforce_instance_url:
            return str(self.tls_dir / "ca.pem")
        return True

    @property
    def netsuite_url(self) -> str:
        if self.netsuite_base_url:
            return self.netsuite_base_url.rstrip("/")
        if self.demo_mode:
            return f"http://{self.emulator_host}:{self.netsuite_emulator_port}/services/rest"
        host = self.netsuite_account_id.lower().replace("_", "-")
        return f"https://{host}.suitetalk.api.netsuite.com/services/rest"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """Forget the cached settings (tests and the CLI change the environment and call this)."""
    get_settings.cache_clear()


def today() -> dt.date:
    """The product's one clock: ``SCC_TODAY`` when set, else the real UTC date."""
    pinned = get_settings().today
    return pinned if pinned is not None else dt.datetime.now(dt.timezone.utc).date()


def settings_markdown_table() -> str:
    """The README's table of every setting with its default (``scc settings --markdown``)."""
    rows = ["| variable | default | what it is |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, SecretStr):
            default = default.get_secret_value()
        if isinstance(default, Path):
            default = "./" + str(default.relative_to(PROJECT_ROOT)) if default.is_relative_to(PROJECT_ROOT) else default
        shown = "(empty)" if default in (None, "") else f"`{default}`"
        rows.append(f"| `SCC_{name.upper()}` | {shown} | {field.description or ''} |")
    return "\n".join(rows)
