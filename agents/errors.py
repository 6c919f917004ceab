"""The two ways a question can fail, each with a message meant for the person who asked."""

from __future__ import annotations


class AgentError(Exception):
    """Base class: ``message`` is shown to the user as is."""

    code = "error"

    def __init__(self, message: str, *, detail: str | None = None, correctable: bool = False):
        super().__init__(message)
        self.message = message
        self.detail = detail  # technical detail for logs and the LLM's correction prompt
        # True for mistakes a model may fix (SQL that does not parse, an unknown table); False for policy
        # refusals (writes, files, other schemas), which are never sent back for another try.
        self.correctable = correctable

    def __str__(self) -> str:
        return self.message


class Refusal(AgentError):
    """The guard will not run this query (or the agent will not do this): a policy decision."""

    code = "refused"


class QueryFailed(AgentError):
    """The query was allowed but failed: a SQL error, the time limit, a missing mart."""

    code = "failed"

    def __init__(self, message: str, *, detail: str | None = None, correctable: bool = True):
        super().__init__(message, detail=detail, correctable=correctable)
