"""The ``scc`` command line. Every command has ``--help``."""

from __future__ import annotations

import json
import logging
import os
import signal
import ssl
import time
from pathlib import Path

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from scc.config import get_settings, reset_settings_cache


def _flags_take_no_value() -> None:
    """Typer's help shows a type for every option, ``<bool>`` for flags too (``--full-refresh <bool>``), as
    if they took a value: show none for a flag."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    if getattr(shown, "scc_flags", False):
        return

    def display_type_rich(self, ctx):
        return None if self.is_flag else shown(self, ctx)

    display_type_rich.scc_flags = True
    TyperOption.display_type_rich = display_type_rich


_flags_take_no_value()

app = typer.Typer(
    help="Sales Command Center: Salesforce + NetSuite into a governed warehouse, a live dashboard and agents.",
    no_args_is_help=True,
    add_completion=False,
)
emulators_app = typer.Typer(help="The Salesforce and NetSuite emulators with the demo company.", no_args_is_help=True)
app.add_typer(emulators_app, name="emulators")
console = Console()


def _override(**values) -> None:
    """Apply command-line options as settings (through the environment, so child processes see them too)."""
    for key, value in values.items():
        if value is not None:
            os.environ[f"SCC_{key.upper()}"] = str(value)
    reset_settings_cache()


def _generation_progress() -> tuple[Progress, callable]:
    progress = Progress(
        TextColumn("[bold blue]{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    tasks: dict[str, int] = {}

    def report(step: str, done: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = progress.add_task(step, total=max(total, 1))
        progress.update(tasks[step], completed=done, total=max(total, 1))

    return progress, report


def _answer_only() -> None:
    """Commands that print an answer (ask, mcp) keep the libraries' INFO lines (MetricFlow logs every compile)
    off the terminal; --verbose still shows everything."""
    root = logging.getLogger()
    if root.getEffectiveLevel() > logging.DEBUG:
        root.setLevel(max(root.level, logging.WARNING))


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at DEBUG level.")) -> None:
    level = logging.DEBUG if verbose else getattr(logging, get_settings().log_level.upper(), logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@app.command("settings")
def show_settings(
    markdown: bool = typer.Option(False, help="Print the README's table of variables and defaults instead."),
) -> None:
    """Show the effective settings (secrets masked) and where each can be changed."""
    from scc.config import settings_markdown_table

    if markdown:
        print(settings_markdown_table())
        return
    settings = get_settings()
    table = Table("variable", "value", "what it is")
    for name, field in type(settings).model_fields.items():
        value = getattr(settings, name)
        table.add_row(f"SCC_{name.upper()}", str(value), field.description or "")
    console.print(table)


@app.command()
def generate(
    out: Path = typer.Option(None, help="Folder for the stores (default: the emulators' data folder)."),
    seed: int = typer.Option(None, help="Seed (default SCC_DEMO_SEED)."),
    scale: float = typer.Option(None, help="Scale (default SCC_DEMO_SCALE; 1 = about 60,000 orders)."),
    stories: bool = typer.Option(True, help="Plant the demo stories (see stories.json)."),
) -> None:
    """Generate the demo company into SQLite stores, deterministically from a seed."""
    from emulators.demo_company import generate_company
    from emulators.server import company_dir
    from scc.config import today

    _override(demo_seed=seed, demo_scale=scale)
    settings = get_settings()
    folder = out or company_dir(settings)
    progress, report = _generation_progress()
    started = time.perf_counter()
    with progress:
        files = generate_company(
            folder, seed=settings.demo_seed, scale=settings.demo_scale, today=today(),
            plant_stories=stories, progress=report,
        )
    console.print(
        f"Generated in {time.perf_counter() - started:.1f} s into [bold]{folder}[/]\n"
        f"fingerprint {files.fingerprint}\nstories: {files.stories}"
    )


@emulators_app.command("start")
def emulators_start(
    detach: bool = typer.Option(False, "--detach", "-d", help="Run in the background and return."),
    fresh: bool = typer.Option(False, help="Regenerate the demo company, discarding earlier changes."),
    faults: str = typer.Option(None, help="Fault plan, e.g. 'error_rate=0.1,latency_ms=50,seed=7'."),
    live: bool = typer.Option(None, "--live/--no-live", help="Keep the company moving (default SCC_EMULATOR_LIVE)."),
    webhook_url: str = typer.Option(None, help="Base URL for change events (<url>/salesforce, <url>/netsuite)."),
    salesforce_port: int = typer.Option(None, help="HTTPS port of the Salesforce emulator."),
    netsuite_port: int = typer.Option(None, help="HTTP port of the NetSuite emulator."),
) -> None:
    """Start the Salesforce and NetSuite emulators with the demo company (Ctrl-C stops them)."""
    from emulators.server import RunInfo, prepare_company, run

    _override(
        emulator_faults=faults, emulator_live=live, emulator_webhook_url=webhook_url,
        salesforce_emulator_port=salesforce_port, netsuite_emulator_port=netsuite_port,
    )
    settings = get_settings()
    running = RunInfo.read(settings)
    if running and _pid_alive(running.pid):
        console.print(f"[yellow]Emulators already running (pid {running.pid}); `scc emulators stop` first.")
        raise typer.Exit(1)
    if detach:
        _start_detached(fresh)
        return
    progress, report = _generation_progress()
    with progress:
        company = prepare_company(settings, fresh=fresh, progress=report)

    def ready(info: RunInfo) -> None:
        console.print(
            f"[green]Emulators ready[/] (pid {info.pid})\n"
            f"  Salesforce  {info.salesforce_url}   (CA: {settings.tls_dir / 'ca.pem'})\n"
            f"  NetSuite    {info.netsuite_url}\n"
            f"  company     {info.company_dir}\n"
            "Press Ctrl-C to stop."
        )

    try:
        run(settings, company, on_ready=ready)
    except (OSError, RuntimeError, SystemExit) as error:
        console.print(
            f"[red]Emulators could not start:[/] {error or 'see the error above'}. "
            f"Is port {settings.salesforce_emulator_port} or {settings.netsuite_emulator_port} in use? "
            "Set SCC_SALESFORCE_EMULATOR_PORT / SCC_NETSUITE_EMULATOR_PORT to free ones."
        )
        raise typer.Exit(1) from None
    console.print("Emulators stopped.")


def _start_detached(fresh: bool) -> None:
    from emulators.server import RunInfo
    from scc.processes import Supervisor, scc_command

    settings = get_settings()
    supervisor = Supervisor(settings.data_dir / "logs")
    argv = scc_command("emulators", "start", *(["--fresh"] if fresh else []))
    child = supervisor.start("emulators", argv, exit_with_parent=False)

    def ready() -> bool:
        info = RunInfo.read(settings)
        return bool(info and info.pid == child.process.pid)

    try:
        supervisor.wait_until(child, ready, timeout=600)
    except (RuntimeError, TimeoutError) as error:
        child.stop()
        console.print(f"[red]Emulators failed to start:[/] {error}")
        raise typer.Exit(1) from error
    info = RunInfo.read(settings)
    console.print(f"[green]Emulators running in the background[/] (pid {info.pid}, log {child.log_path})")
    console.print(f"  Salesforce  {info.salesforce_url}\n  NetSuite    {info.netsuite_url}")


@emulators_app.command("stop")
def emulators_stop() -> None:
    """Stop emulators started with ``--detach``."""
    from emulators.server import RunInfo

    settings = get_settings()
    info = RunInfo.read(settings)
    if not info or not _pid_alive(info.pid):
        console.print("No emulators running.")
        RunInfo.path(settings).unlink(missing_ok=True)
        return
    os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while _pid_alive(info.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _pid_alive(info.pid):
        os.kill(info.pid, signal.SIGKILL)
    RunInfo.path(settings).unlink(missing_ok=True)
    console.print(f"Stopped emulators (pid {info.pid}).")


@emulators_app.command("status")
def emulators_status() -> None:
    """Show whether the emulators run, where, and what they have served."""
    from emulators.server import RunInfo

    settings = get_settings()
    info = RunInfo.read(settings)
    if not info or not _pid_alive(info.pid):
        console.print("Emulators: [red]not running[/]")
        raise typer.Exit(1)
    table = Table("emulator", "url", "requests", "faults injected")
    for name, url in (("Salesforce", info.salesforce_url), ("NetSuite", _netsuite_root(info.netsuite_url))):
        try:
            stats = _admin(settings, url, "GET", "/__admin/stats")
            faults = _admin(settings, url, "GET", "/__admin/faults")
            table.add_row(name, url, str(stats["total_requests"]), json.dumps(faults.get("injected", {})))
        except httpx.HTTPError as error:
            table.add_row(name, url, f"[red]unreachable: {error}", "")
    console.print(f"Emulators: [green]running[/] (pid {info.pid}, company {info.company_dir})")
    console.print(table)


@emulators_app.command("faults")
def emulators_faults(
    settings_: list[str] = typer.Argument(None, metavar="KEY=VALUE...", help="Fault settings to change."),
    reset: bool = typer.Option(False, help="Turn every fault off."),
) -> None:
    """Change fault injection on the running emulators, e.g. ``scc emulators faults error_rate=0.1``."""
    from emulators.faults import FaultPlan
    from emulators.server import RunInfo

    settings = get_settings()
    info = RunInfo.read(settings)
    if not info or not _pid_alive(info.pid):
        console.print("[red]No emulators running.")
        raise typer.Exit(1)
    if reset:
        body = FaultPlan().__dict__
    else:
        try:
            plan = FaultPlan.parse(",".join(settings_ or []))
        except ValueError as error:
            console.print(f"[red]{error}")
            raise typer.Exit(2) from error
        given = {part.split("=", 1)[0].strip() for part in settings_ or []}
        body = {key: value for key, value in plan.__dict__.items() if key in given}
    for url in (info.salesforce_url, _netsuite_root(info.netsuite_url)):
        result = _admin(settings, url, "POST", "/__admin/faults", body)
        console.print(f"{url}: {json.dumps(result.get('plan', result))}")


@app.command()
def sync(
    source: str = typer.Argument("all", help="salesforce, netsuite or all."),
    full_refresh: bool = typer.Option(False, "--full-refresh", help="Drop the raw tables and load everything anew."),
    verify: bool = typer.Option(
        False, "--verify", help="Compare each raw table with the source by key range (row count, newest change) "
        "and re-read the ranges that drifted, instead of syncing."
    ),
) -> None:
    """Load Salesforce and/or NetSuite into the warehouse, incrementally (only what changed)."""
    from pipelines.errors import SyncError
    from pipelines.http import BudgetExhausted
    from pipelines.progress import SyncProgress
    from pipelines.run import SOURCES, sync as run_sync

    if source not in (*SOURCES, "all"):
        console.print(f"[red]Unknown source {source!r}[/]; choose salesforce, netsuite or all.")
        raise typer.Exit(2)
    chosen = SOURCES if source == "all" else (source,)
    if verify:
        if full_refresh:
            console.print("[red]--verify and --full-refresh do not go together[/]: a full refresh re-reads everything.")
            raise typer.Exit(2)
        raise typer.Exit(_verify_sources(chosen))
    results, failed = [], False
    for name in chosen:
        progress = SyncProgress(name)
        try:
            with _live_sync_table(progress):
                results.append(run_sync(name, full_refresh=full_refresh, progress=progress))
        except Exception as error:  # dlt wraps a source's errors in its own; ours say what to check
            ours = _first_in_chain(error, (SyncError, BudgetExhausted))
            console.print(f"[red]{name}: {ours}" if ours else f"[red]{name}: sync failed: {_deepest(error)!r}",
                          soft_wrap=True)  # one line, however narrow the terminal
            failed = True
    if results:
        console.print(_sync_summary(results))
        for note in _resumed_notes(results):
            console.print(note, soft_wrap=True)
    raise typer.Exit(1 if failed else 0)


def _verify_sources(sources: tuple[str, ...]) -> int:
    """``scc sync --verify``: the drift found per raw table and whether re-reading repaired it; 1 if any
    drift is left or a source could not be checked."""
    from pipelines.errors import SyncError
    from pipelines.http import BudgetExhausted
    from pipelines.verify import verify as verify_source

    table = Table("source", "table", "key ranges", "drifted", "repaired", title="Verify")
    failed = False
    for name in sources:
        try:
            with console.status(f"verifying {name} ..."):
                result = verify_source(name)
        except Exception as error:  # as for a sync: ours say what to check
            ours = _first_in_chain(error, (SyncError, BudgetExhausted))
            console.print(f"[red]{name}: {ours}" if ours else f"[red]{name}: verify failed: {_deepest(error)!r}")
            failed = True
            continue
        for table_name, checks in result.tables().items():
            drifted = [c for c in checks if c.drifted]
            repaired = [c for c in drifted if c.repaired]
            style = "" if len(repaired) == len(drifted) else "[red]"
            table.add_row(name, table_name, str(len(checks)), f"{style}{len(drifted)}", f"{style}{len(repaired)}")
        for check in result.drifted:
            console.print(f"{'repaired' if check.repaired else '[red]still drifted'}: {check}")
        failed = failed or bool(result.unrepaired)
    console.print(table)
    return 1 if failed else 0


def _chain(error: BaseException):
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def _first_in_chain(error: BaseException, kinds: tuple[type, ...]) -> BaseException | None:
    return next((e for e in _chain(error) if isinstance(e, kinds)), None)


def _deepest(error: BaseException) -> BaseException:
    return list(_chain(error))[-1]


def _progress_table(progress) -> Table:
    table = Table("resource", "pages", "rows", "deleted", "rows/s", title=f"{progress.source}")
    for entry in progress.resources.values():
        state = "" if entry.finished else " …"
        table.add_row(entry.name + state, str(entry.pages), f"{entry.rows:,}", f"{entry.deleted:,}",
                      f"{entry.rows_per_second:,.0f}")
    usage = f", API usage {progress.api_usage[0]:,}/{progress.api_usage[1]:,}" if progress.api_usage else ""
    table.caption = f"{progress.requests} requests{usage}"
    return table


def _live_sync_table(progress):
    from rich.live import Live

    class _Renderable:
        def __rich__(self):
            return _progress_table(progress)

    return Live(_Renderable(), console=console, refresh_per_second=4, transient=True)


def _sync_summary(results) -> Table:
    table = Table("source", "resource", "rows fetched", "deleted", "rows loaded", "seconds", title="Sync summary")
    for result in results:
        for entry in result.progress.resources.values():
            loaded = result.loaded_rows.get(_table_name(entry.name), 0)
            table.add_row(result.source, entry.name, f"{entry.rows:,}", f"{entry.deleted:,}", f"{loaded:,}",
                          f"{entry.seconds:.1f}")
        table.add_row(result.source, "[bold]total", f"[bold]{result.progress.total_rows:,}", "",
                      f"[bold]{sum(result.loaded_rows.values()):,}", f"[bold]{result.seconds:.1f}", end_section=True)
    return table


def _resumed_notes(results) -> list[str]:
    """What a sync finished for an earlier one (killed or failed after extracting) before its own read."""
    return [
        f"{result.source}: first finished {_plural(len(result.resumed_packages), 'load package')} an interrupted "
        "sync had left, then read what changed since"
        for result in results if result.resumed_packages
    ]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _table_name(resource: str) -> str:
    from dlt.common.normalizers.naming.snake_case import NamingConvention

    return NamingConvention().normalize_table_identifier(resource)


@app.command()
def build(
    full_refresh: bool = typer.Option(False, "--full-refresh", help="Rebuild the incremental facts from scratch."),
    target: str = typer.Option(
        None, help="duckdb or postgres (default: postgres when SCC_WAREHOUSE_URL is set, else duckdb)."
    ),
    select: str = typer.Option(None, help="dbt node selection, e.g. 'marts' or 'fct_orders+'."),
) -> None:
    """Build the marts and the semantic layer (dbt build: models, data tests and unit tests)."""
    from rich.live import Live

    from scc.marts import TARGETS, DbtError, build as run_build, default_target

    target = target or default_target()
    if target not in TARGETS:
        console.print(f"[red]Unknown target {target!r}[/]; choose duckdb or postgres.")
        raise typer.Exit(2)
    done: list = []

    def progress() -> Table:
        grid = Table.grid(padding=(0, 1))
        last = done[-1] if done else None
        grid.add_row(f"[bold blue]dbt build[/] on {target}: {len(done)} nodes done",
                     f"(last: {last.resource_type} {last.name} {last.status})" if last else "")
        return grid

    try:
        with Live(progress(), console=console, refresh_per_second=4, transient=True) as live:
            def on_node_done(result) -> None:
                done.append(result)
                live.update(progress())

            summary = run_build(full_refresh=full_refresh, target=target, select=select, on_node_done=on_node_done)
    except DbtError as error:
        console.print(f"[red]{error}")
        raise typer.Exit(1) from error
    console.print(_build_summary(summary))
    for warning in summary.warnings:
        console.print(f"[yellow]warning: {warning.resource_type} {warning.name}[/]: {warning.message}", soft_wrap=True)
    for failure in summary.failures:
        console.print(f"[red]{failure.resource_type} {failure.name}[/]: {failure.message}", soft_wrap=True)
    if summary.error:
        console.print(f"[red]{summary.error}")
    raise typer.Exit(0 if summary.success else 1)


def _build_summary(summary) -> Table:
    verdict = "[green]passed" if summary.success else "[red]failed"
    table = Table("", "count", title=f"dbt build on {summary.target}{' (full refresh)' if summary.full_refresh else ''}: "
                                      f"{verdict}[/] in {summary.seconds:.1f} s")
    table.add_row("models built", f"{summary.models_built}")
    table.add_row("models failed", f"[red]{summary.models_failed}" if summary.models_failed else "0")
    table.add_row("tests passed (data and unit)", f"{summary.tests_passed}")
    table.add_row("tests failed", f"[red]{summary.tests_failed}" if summary.tests_failed else "0")
    table.add_row("tests warned", f"[yellow]{summary.tests_warned}" if summary.tests_warned else "0")
    table.add_row("skipped", f"{summary.skipped}")
    return table


@app.command()
def demo(
    fresh: bool = typer.Option(False, help="Regenerate the demo company, discarding earlier changes."),
) -> None:
    """Start the whole product on the embedded defaults; Ctrl-C stops everything."""
    from scc.demo import run_demo

    raise typer.Exit(run_demo(fresh=fresh, console=console))


@app.command()
def serve(
    host: str = typer.Option(None, help="Address to listen on (default SCC_API_HOST)."),
    port: int = typer.Option(None, help="Port (default SCC_API_PORT)."),
    workers: int = typer.Option(None, help="Worker processes (default SCC_API_WORKERS; 1 without SCC_REDIS_URL)."),
) -> None:
    """Start the API (OpenAPI docs at /docs); several workers when Redis is configured."""
    from api.server import serve as run_api

    _override(api_host=host, api_port=port, api_workers=workers)
    raise typer.Exit(run_api(get_settings(), console))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _netsuite_root(netsuite_url: str) -> str:
    return netsuite_url.removesuffix("/services/rest")


def _admin(settings, base_url: str, method: str, path: str, body: dict | None = None) -> dict:
    verify = ssl.create_default_context(cafile=str(settings.tls_dir / "ca.pem")) if base_url.startswith("https") else True
    with httpx.Client(verify=verify, trust_env=False, timeout=10) as client:
        response = client.request(method, base_url + path, json=body)
        response.raise_for_status()
        return response.json()


@app.command()
def ask(
    question: str = typer.Argument(..., help="The question, in plain words (quote it)."),
    role: str = typer.Option("sales_exec", help="Scope: sales_exec, sales_manager, sales_rep or finance_viewer."),
    rep_id: str = typer.Option(None, "--rep-id", help="The rep's id (role sales_rep)."),
    territory: str = typer.Option(None, help="The manager's territory (role sales_manager)."),
    conversation: str = typer.Option(None, "--conversation", "-c", help="Continue this conversation (a follow-up)."),
    show_sql: bool = typer.Option(True, "--sql/--no-sql", help="Print the SQL that answered."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole answer as JSON."),
) -> None:
    """Ask the data a question and print the answer with a table."""
    _answer_only()
    from agents import Scope, ScopeError
    from agents import ask as ask_agents

    for name, value in (("the question", question), ("--rep-id", rep_id), ("--territory", territory),
                        ("--conversation", conversation), ("--role", role)):
        try:
            (value or "").encode("utf-8")
        except UnicodeEncodeError:  # bytes the terminal's encoding could not read (kept as surrogates)
            console.print(f"[red]{name} is not valid UTF-8 text; type it again in UTF-8", soft_wrap=True)
            raise typer.Exit(2) from None
    try:
        scope = Scope(role, rep_id=rep_id, territory=territory)
    except ScopeError as error:
        console.print(f"[red]{error}")
        raise typer.Exit(2)
    answer = ask_agents(question, scope, conversation_id=conversation)
    if as_json:
        print(json.dumps(answer.to_dict(), indent=2, default=str))
        raise typer.Exit(1 if answer.refused or answer.error else 0)
    style = "red" if answer.refused else "yellow" if answer.error else "bold"
    console.print(f"[{style}]{answer.text}")
    reading = answer.reading or answer.extra.get("reading") or {}
    if reading.get("corrections"):
        console.print("[dim]Spelling: " + ", ".join(f"{c['typed']} → {c['read_as']}" for c in reading["corrections"]))
    if reading.get("text"):
        console.print(f"[dim]Read as: {reading['text']}")
    if reading.get("unused"):
        console.print("[dim]Not used: " + ", ".join(reading["unused"]))
    for part in answer.parts or [answer]:
        if part.columns and part.rows:
            from agents.answer import format_value

            table = Table(*part.columns, title=part.question if answer.parts else None)
            for row in part.rows[:50]:
                table.add_row(*[format_value(c, v) for c, v in zip(part.columns, row)])
            console.print(table)
            if len(part.rows) > 50:
                console.print(f"[dim]... {len(part.rows) - 50} more rows")
        if part.draft:
            console.print_json(data=part.draft, default=str)
        if show_sql and part.sql:
            console.print(f"[dim]SQL ({part.path}): {part.sql}")
        for metric in part.metrics:
            if metric.get("definition"):
                console.print(f"[dim]{metric['label']}: {metric['definition']}")
    if answer.follow_ups:
        console.print("[dim]Try: " + " | ".join(answer.follow_ups))
    console.print(f"[dim]conversation {answer.conversation_id} (continue with -c); answered by {answer.agent} "
                  f"via {answer.path} in {answer.seconds * 1000:.0f} ms")
    raise typer.Exit(1 if answer.refused or answer.error else 0)


@app.command()
def digest(
    preview: bool = typer.Option(False, "--preview", help="Write the digest to a file instead of sending it."),
    kind: str = typer.Option("daily", help="daily (yesterday) or weekly (the last 7 days)."),
    role: str = typer.Option("sales_exec", help="Scope: sales_exec, sales_manager, sales_rep or finance_viewer."),
    rep_id: str = typer.Option(None, "--rep-id", help="The rep's id (role sales_rep)."),
    territory: str = typer.Option(None, help="The manager's territory (role sales_manager)."),
    out: Path = typer.Option(None, help="With --preview: the HTML file (default <data dir>/digests/digest-<kind>-"
                                        "<role>.html); the plain text goes next to it (.txt)."),
    to: list[str] = typer.Option(None, "--to", help="Send to these addresses (with --role's scope) instead of "
                                                    "SCC_DIGEST_RECIPIENTS."),
) -> None:
    """The daily or weekly executive digest: preview it in a file, or send it by SMTP (SCC_SMTP_*)."""
    from agents import Scope, ScopeError
    from agents.digest import DigestError, Recipient, send_digests
    from agents.digest import preview as write_preview

    try:
        scope = Scope(role, rep_id=rep_id, territory=territory)
    except ScopeError as error:
        console.print(f"[red]{error}")
        raise typer.Exit(2)
    if kind not in ("daily", "weekly"):
        console.print("[red]--kind is daily or weekly")
        raise typer.Exit(2)
    try:
        if preview:
            if out is None:  # the data folder, never the current directory unasked
                out = get_settings().data_dir / "digests" / f"digest-{kind}-{role}.html"
            out.parent.mkdir(parents=True, exist_ok=True)
            html_path, text_path, built = write_preview(kind, scope, out)
            console.print(f"[bold]{built.subject}[/]\nHTML: {html_path}\ntext: {text_path}\n"
                          f"{len(built.insights)} insights, {len(built.kpis)} key figures, chart {len(built.png):,} bytes")
            return
        recipients = [Recipient(address, scope) for address in to] if to else None
        result = send_digests(kind, recipients=recipients)
    except DigestError as error:
        console.print(f"[red]{error}")
        raise typer.Exit(1)
    except OSError as error:  # the SMTP server cannot be reached
        console.print(f"[red]The SMTP server cannot be reached: {error}")
        raise typer.Exit(1)
    console.print(f"{kind} digest sent to {len(result['sent'])} recipients"
                  + (f"; refused: {result['refused']}" if result["refused"] else "")
                  + (f" ({result['note']})" if result.get("note") else ""))
    raise typer.Exit(1 if result["refused"] else 0)


@app.command()
def orchestrate(
    port: int = typer.Option(None, help="Port of the console (default SCC_DAGSTER_PORT)."),
    materialize_all: bool = typer.Option(
        False, "--materialize-all", help="Sync every table and build every model once, through Dagster, and exit."),
) -> None:
    """The Dagster console and daemon (assets, sensors, schedules) on this data folder; Ctrl-C stops them."""
    from dagster_project import stack
    from scc.processes import Supervisor

    settings = get_settings()
    if materialize_all:
        console.print("Materialising every asset (dagster asset materialize --select '*')…")
        result = stack.materialize_all(settings)
        console.print(result.stdout[-2000:] if result.returncode else "Done: every asset materialised.")
        if result.returncode:
            console.print(f"[red]{result.stderr[-3000:]}")
        raise typer.Exit(result.returncode)
    supervisor = Supervisor(settings.data_dir / "logs")
    stopping = {"now": False}

    def on_signal(*_):
        stopping["now"] = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    try:
        child, url = stack.start_console(supervisor, settings, port=port, stopping=lambda: stopping["now"])
        console.print(f"Dagster console: [bold]{url}[/] (DAGSTER_HOME {settings.data_dir / 'dagster'}); "
                      f"log {child.log_path}. Press Ctrl-C to stop.")
        while not stopping["now"] and child.alive:
            time.sleep(0.5)
        if not child.alive and not stopping["now"]:
            console.print(f"[red]dagster dev stopped:[/]\n{child.tail()}")
            raise typer.Exit(1)
    except (RuntimeError, TimeoutError) as error:
        console.print(f"[red]The Dagster console did not start:[/] {error}")
        raise typer.Exit(1)
    finally:
        supervisor.stop_all()


@app.command("mcp")
def mcp_server(
    user: str = typer.Option(None, "--user", help="Demo mode: act as this demo login (exec@, manager@, rep@ or "
                             "finance@scc-demo.example). Otherwise SCC_MCP_TOKEN names the caller."),
) -> None:
    """The MCP server over stdio, for a local assistant (Claude Desktop, an IDE agent): ask the data, the
    metrics, the dashboards and the insights, and draft orders, within the caller's scope."""
    from api.mcp_server import run_stdio, stdio_caller
    from api.security import AuthError

    errors = Console(stderr=True)  # stdout carries the protocol
    _answer_only()
    settings = get_settings()
    try:
        caller = stdio_caller(settings, user)
    except AuthError as error:
        errors.print(f"[red]scc mcp: {error}", soft_wrap=True)
        raise typer.Exit(2) from None
    errors.print(f"scc mcp: serving over stdio as {caller.user} ({caller.role}, {caller.key})", soft_wrap=True)
    run_stdio(settings, caller)


audit_app = typer.Typer(help="The audit log's daily archives in document storage (SCC_STORAGE_URL).",
                        no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("archive")
def audit_archive(
    day: str = typer.Option(None, "--day", help="One finished UTC day (YYYY-MM-DD); default: every finished day "
                            "not archived yet."),
) -> None:
    """Archive finished days of the audit log: one gzip JSON-lines object per day and its checksum manifest,
    never rewritten (a day archived already is refused). The API does the same every
    SCC_AUDIT_ARCHIVE_INTERVAL_SECONDS."""
    import datetime as dt

    from api.audit_archive import AlreadyArchived, DayNotOver, archive_day, archive_pending
    from api.db import get_database
    from scc.storage import StorageError, get_storage

    db, storage = get_database(), get_storage()
    try:
        if day:
            try:
                done = [archive_day(db, storage, dt.date.fromisoformat(day))]
            except ValueError as error:
                console.print(f"[red]scc audit archive: {error}", soft_wrap=True)
                raise typer.Exit(2) from None
        else:
            done = archive_pending(db, storage)
    except (AlreadyArchived, DayNotOver, StorageError) as error:
        console.print(f"[red]scc audit archive: {error}", soft_wrap=True)
        raise typer.Exit(1) from None
    for manifest in done:
        console.print(f"{manifest['day']}: {manifest['rows']} rows -> {storage.url}/{manifest['object']} "
                      f"(sha256 {manifest['sha256']})", soft_wrap=True)
    if not done:
        console.print("nothing to archive: every finished day is archived already")


if __name__ == "__main__":
    app()
