"""Who is asking: the caller's scope, which the SQL guard applies to every query.

The API builds a :class:`Scope` from the signed-in user and passes it to :func:`agents.ask`; nothing the
question or a plan says can widen it. Roles follow the architecture document:

- ``sales_exec``: all data;
- ``finance_viewer``: all data, read-only (everything the agents do is read-only anyway);
- ``sales_manager``: the rows of their territory (``territory = :territory``);
- ``sales_rep``: their own rows (``rep_id = :rep_id``).
"""

from __future__ import annotations

from dataclasses import dataclass

ROLE_ALIASES = {
    "exec": "sales_exec", "executive": "sales_exec", "sales_exec": "sales_exec", "admin": "sales_exec",
    "finance": "finance_viewer", "finance_viewer": "finance_viewer",
    "manager": "sales_manager", "sales_manager": "sales_manager",
    "rep": "sales_rep", "sales_rep": "sales_rep",
}
ALL_DATA_ROLES = frozenset({"sales_exec", "finance_viewer"})


class ScopeError(ValueError):
    """A scope that cannot be applied (unknown role, a rep without a rep id...)."""


@dataclass(frozen=True)
class Scope:
    """The caller's data scope. ``Scope()`` is an executive (all data)."""

    role: str = "sales_exec"
    rep_id: str | None = None
    territory: str | None = None

    def __post_init__(self):
        role = ROLE_ALIASES.get((self.role or "").strip().lower())
        if role is None:
            raise ScopeError(f"unknown role {self.role!r}; expected one of sales_exec, sales_manager, "
                             "sales_rep, finance_viewer")
        object.__setattr__(self, "role", role)
        if role == "sales_rep" and not self.rep_id:
            raise ScopeError("a sales_rep scope needs the rep's rep_id")
        if role == "sales_manager" and not self.territory:
            raise ScopeError("a sales_manager scope needs the manager's territory")

    @classmethod
    def all(cls) -> "Scope":
        return cls("sales_exec")

    @classmethod
    def rep(cls, rep_id: str) -> "Scope":
        return cls("sales_rep", rep_id=rep_id)

    @classmethod
    def manager(cls, territory: str) -> "Scope":
        return cls("sales_manager", territory=territory)

    @property
    def sees_everything(self) -> bool:
        return self.role in ALL_DATA_ROLES

    @property
    def key(self) -> str:
        """A short stable text for caches and conversation records."""
        if self.role == "sales_rep":
            return f"rep:{self.rep_id}"
        if self.role == "sales_manager":
            return f"territory:{self.territory}"
        return self.role

    def describe(self) -> str:
        if self.role == "sales_rep":
            return f"your own accounts and deals (rep {self.rep_id})"
        if self.role == "sales_manager":
            return f"the {self.territory} territory"
        return "all data"


# Keys that name a customer, a rep or a territory in what a tool returns, by the kind of entity.
_ENTITY_KEYS = {"customer_id": "customer", "rep_id": "rep", "owner_id": "rep", "territory": "territory"}


def limit_to_scope(output, visible: dict[str, set[str]] | None):
    """``output`` (a tool's: dicts, lists, values) without anything that names a customer, rep or territory
    outside ``visible`` (ids by kind; None: everything is visible).

    A mapping names an entity by a key of ``_ENTITY_KEYS`` or as a vocabulary match (``{"kind": "customer",
    "id": ...}``). Such a mapping outside the scope is dropped from a list, or replaced by None elsewhere.
    """
    if visible is None:
        return output

    def hidden(mapping: dict) -> bool:
        named = [(kind, mapping.get(key)) for key, kind in _ENTITY_KEYS.items() if mapping.get(key) is not None]
        if mapping.get("kind") in ("customer", "rep", "territory"):
            named.append((mapping["kind"], mapping.get("id", mapping.get("value"))
                          if mapping["kind"] != "territory" else mapping.get("value")))
        return any(str(value) not in visible.get(kind, set()) for kind, value in named)

    def walk(value):
        if isinstance(value, dict):
            if hidden(value):
                return None
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            kept = [walk(v) for v in value if not (isinstance(v, dict) and hidden(v))]
            return type(value)(kept) if isinstance(value, tuple) else kept
        return value

    return walk(output)
