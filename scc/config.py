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

    # --- demo company --------------------------------------------------------------------------
    demo_seed: int = Field(42, description="Seed of the generated demo company.")
    demo_scale: float = Field(1.0, description="Size of the demo company (1 = about 60,000 orders).")

    # --- emulators -----------------------------------------------------------------------------
    emulator_host: str = Field("127.0.0.1", description="Address the emulators listen on.")
    salesforce_emulator_port: int = Field(8443, description="HTTPS port of the Salesforce emulator.")
    netsuite_emulator_port: int = Field(8081, description="HTTP port of the NetSuite emulator.")
    emulator_live: bool = Field(True, description="Keep the demo company moving while the emulators run.")
    emulator_live_interval: float = Field(5.0, description="Seconds between live-mode steps.")
    emulator_webhook_url: str | None = Field(
        None,
        description="Base URL the emulators POST change events to: <url>/salesforce and <url>/netsuite "
        "(empty: nowhere).",
    )
    webhook_secret: SecretStr = Field(
        SecretStr("scc-demo-webhook-secret"),
        description="Shared secret of the HMAC-SHA256 signature on webhook POSTs (X-SCC-Signature).",
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
