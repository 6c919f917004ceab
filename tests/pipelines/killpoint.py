"""Run ``scc`` stopped at a chosen point of one source's sync, for a test to SIGKILL it there.

    python -m tests.pipelines.killpoint <phase> <source> <marker file> sync all --full-refresh

``phase`` is where the sync of ``source`` stops: ``extract`` (some pages read), ``normalize`` (the files
normalised, the package not yet committed) or ``load`` (some of the package's jobs loaded, others not). There
it writes the marker file and waits; the test kills the whole process group with SIGKILL, as ``kill -9``
would. Everything before that point is the real sync, over HTTP, into the real warehouse.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def _stop_here(marker: Path) -> None:
    marker.write_text("stopped")
    while True:
        time.sleep(60)


def install(phase: str, source: str, marker: Path) -> None:
    from dlt.common.storages.load_storage import LoadStorage
    from dlt.load.load import Load

    import pipelines.run
    from pipelines.progress import SyncProgress

    current = {"source": None}
    real_sync = pipelines.run.sync

    def sync(name, **kwargs):
        current["source"] = name
        return real_sync(name, **kwargs)

    pipelines.run.sync = sync
    ours = lambda: current["source"] == source  # noqa: E731

    if phase == "extract":
        real_page = SyncProgress.page

        def page(self, resource, rows, deleted=0):
            real_page(self, resource, rows, deleted)
            if ours() and sum(r.pages for r in self.resources.values()) >= 3:
                _stop_here(marker)

        SyncProgress.page = page
    elif phase == "normalize":
        real_commit = LoadStorage.commit_new_load_package

        def commit_new_load_package(self, load_id):
            if ours():
                _stop_here(marker)
            return real_commit(self, load_id)

        LoadStorage.commit_new_load_package = commit_new_load_package
    elif phase == "load":
        real_complete = Load.complete_jobs
        finished = []

        def complete_jobs(self, load_id, jobs, schema):
            remaining, finalized, error = real_complete(self, load_id, jobs, schema)
            finished.extend(j for j in finalized if not j.job_file_info().table_name.startswith("_dlt"))
            if ours() and finished and (remaining or self.load_storage.list_new_jobs(load_id)):
                _stop_here(marker)
            return remaining, finalized, error

        Load.complete_jobs = complete_jobs
    else:
        raise SystemExit(f"unknown phase {phase!r}: extract, normalize or load")


def main() -> None:
    phase, source, marker, *args = sys.argv[1:]
    install(phase, source, Path(marker))
    from scc.cli import app

    app(args=args, prog_name="scc")


if __name__ == "__main__":
    main()
