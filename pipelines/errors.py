"""Errors a sync reports to the user in plain words (the CLI exits non-zero with the message)."""


class SyncError(RuntimeError):
    """A sync could not run; the message says why and what to check."""


class SourceUnreachable(SyncError):
    """The vendor's API did not answer (wrong URL, emulator not running, network down)."""


class SourceAuthError(SyncError):
    """The vendor refused the credentials."""
