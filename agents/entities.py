"""Entities matched against the warehouse's own values: "disney" → Disney, "hats" → the Hats items,
"negotiation" → Negotiation/Review, "west" → the West region, "jennifer smith" → her rep id.

The :class:`Vocabulary` is read from the marts (names and distinct values only, through the guard with
an all-data scope: it holds no figures) and cached until the warehouse changes. Matching scans the
question's word n-grams longest first, so "Pacific Coast Dental" beats the Pacific territory; customer
names also match without their legal suffix and, for a typo, by close spelling.
"""

from __future__ import annotations

import difflib
import re
import threading
from dataclasses import dataclass, field

WORD = re.compile(r"[a-z0-9]+(?:[-'.][a-z0-9]+)*\.?|&")
LEGAL_SUFFIX = re.compile(r"(,?\s+(inc\.?|incorporated|corp\.?|corporation|llc|l\.l\.c\.|group|co\.?|company|"
                          r"holdings|ltd\.?))+$", re.I)
# Words that never start an entity on their own (they are the question's own vocabulary).
COMMON = frozenset("""
a an the of for to in on at by and or with without from me my our us we i you your show list give tell what
whats what's which who whom how many much is are was were be been do does did have has get got this that these
those last next previous prior current today yesterday month quarter year week day days ytd qtd mtd top best
worst largest biggest smallest order orders deal deals opportunity opportunities customer customers account
accounts product products item items sales sale revenue bookings booking pipeline rep reps region regions
territory territories stage stages status amount total average avg number count over under above below more
less than per each all any only just about again break down breakdown compare versus vs new open closed won
lost pending partial fulfilled cancelled canceled billed paid overdue stuck stalled display stand cover set
drive kit pad note throw flag chair tent bar case pack value price quote review analysis needs id first
second third fourth q1 q2 q3 q4 so far since between during trend trends sold selling sell units unit
""".split())
PRODUCT_CUES = frozenset({"sales", "sold", "price", "prices", "pricing", "inventory", "stock", "units", "revenue",
                          "orders", "order", "trend", "trends", "asp"})
PRODUCT_SINGLE_STOP = frozenset({"display", "stand", "cover", "set", "drive", "kit", "pad", "note", "throw",
                                 "flag", "chair", "tent", "bar", "case", "pack", "holder", "pen", "ball",
                                 "disc", "towel", "blanket", "organizer", "calendar", "speaker", "cable"})
# Stage words people use -> a word that identifies the warehouse's stage value.
STAGE_SYNONYMS = {
    ("negotiation",): "negotiation", ("negotiating",): "negotiation", ("negotiations",): "negotiation",
    ("proposal",): "proposal", ("proposals",): "proposal", ("price", "quote"): "proposal",
    ("quote",): "proposal", ("quoting",): "proposal", ("prospecting",): "prospecting",
    ("prospect",): "prospecting", ("prospects",): "prospecting", ("qualification",): "qualification",
    ("qualifying",): "qualification", ("needs", "analysis"): "needs analysis",
    ("value", "proposition"): "value proposition", ("value", "prop"): "value proposition",
    ("decision", "makers"): "decision makers", ("decision", "maker"): "decision makers",
    ("perception", "analysis"): "perception", ("perception",): "perception",
}


def singular(word: str) -> str:
    if word.endswith(("'s", "’s")):
        return word[:-2]
    if len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    return [t.rstrip(".") if t != "&" else "and" for t in WORD.findall(text.lower())]


def norm_tokens(text: str) -> tuple[str, ...]:
    return tuple(singular(t) for t in tokens(text) if t)


def strip_legal(name: str) -> str:
    return LEGAL_SUFFIX.sub("", name).strip(" ,")


@dataclass(frozen=True)
class Match:
    kind: str            # customer, category, product, product_group, rep, territory, region, stage, industry
    value: str           # the warehouse's value (customer name, category, stage...)
    id: str | None = None
    phrase: str = ""     # the question's words
    ids: tuple = ()      # product_group: the product ids it stands for
    exact: bool = True

    def to_dict(self) -> dict:
        out = {"kind": self.kind, "value": self.value, "phrase": self.phrase}
        if self.id is not None:
            out["id"] = self.id
        if self.ids:
            out["count"] = len(self.ids)
        return out


@dataclass
class Vocabulary:
    customers: list[tuple[str, str]] = field(default_factory=list)          # (id, name)
    products: list[tuple[str, str, str]] = field(default_factory=list)     # (id, name, category)
    reps: list[tuple[str, str, str, str]] = field(default_factory=list)    # (id, name, territory, region)
    territories: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    industries: list[str] = field(default_factory=list)
    index: dict[tuple[str, ...], list[Match]] = field(default_factory=dict)
    max_len: int = 1
    _customer_names: dict[str, tuple[str, str]] = field(default_factory=dict)

    def _add(self, phrase: tuple[str, ...], match: Match) -> None:
        if not phrase:
            return
        bucket = self.index.setdefault(phrase, [])
        if not any(m.kind == match.kind and m.value == match.value for m in bucket):
            bucket.append(match)
        self.max_len = max(self.max_len, len(phrase))

    def build(self) -> "Vocabulary":
        self.index.clear()
        for value in self.regions:
            self._add(norm_tokens(value), Match("region", value))
        for value in self.territories:
            self._add(norm_tokens(value), Match("territory", value))
        for value in self.industries:
            self._add(norm_tokens(value), Match("industry", value))
            self._add(norm_tokens(value.replace("&", "and")), Match("industry", value))
        for value in self.stages:
            self._add(norm_tokens(value), Match("stage", value))
        for phrase, key in STAGE_SYNONYMS.items():
            stage = next((s for s in self.stages if key in s.lower()), None)
            if stage:
                self._add(tuple(singular(w) for w in phrase), Match("stage", stage))
        categories = sorted({c for _, _, c in self.products if c})
        for cat in categories:
            self._add(norm_tokens(cat), Match("category", cat))
        groups: dict[tuple[str, ...], list[str]] = {}
        for pid, name, _cat in self.products:
            words = norm_tokens(name)
            self._add(words, Match("product", name, id=str(pid)))
            for k in range(1, min(len(words), 3) + 1):
                groups.setdefault(words[-k:], []).append(str(pid))
        for phrase, ids in groups.items():
            if phrase in self.index and any(m.kind in ("category", "product") for m in self.index[phrase]):
                continue
            if len(phrase) == 1 and (phrase[0] in PRODUCT_SINGLE_STOP or phrase[0].isdigit()):
                continue
            label = " ".join(phrase)
            self._add(phrase, Match("product_group", label, ids=tuple(sorted(ids))))
        for rid, name, _t, _r in self.reps:
            self._add(norm_tokens(name), Match("rep", name, id=str(rid)))
        last_names: dict[str, list] = {}
        for rid, name, _t, _r in self.reps:
            parts = norm_tokens(name)
            if len(parts) > 1:
                last_names.setdefault(parts[-1], []).append((rid, name))
        for last, people in last_names.items():
            if len(people) == 1 and last not in COMMON and (last,) not in self.index:
                self._add((last,), Match("rep", people[0][1], id=str(people[0][0])))
        self._customer_names = {}
        for cid, name in self.customers:
            for variant in {name, strip_legal(name), name.replace("&", "and"), strip_legal(name).replace("&", "and")}:
                words = norm_tokens(variant)
                if not words or (len(words) == 1 and words[0] in COMMON):
                    continue
                self._add(words, Match("customer", name, id=str(cid)))
            self._customer_names.setdefault(" ".join(norm_tokens(strip_legal(name))), (str(cid), name))
        return self

    # --- matching ------------------------------------------------------------------------------
    def match(self, text: str) -> tuple[list[Match], list[str]]:
        """Entities named in ``text``, and capitalised names that matched nothing (e.g. "Cologuard")."""
        raw = [(m.group(0), m.start(), m.end()) for m in WORD.finditer(text.lower())]
        words = [singular(w.rstrip(".")) if w != "&" else "and" for w, _, _ in raw]
        used = [False] * len(words)
        found: list[tuple[int, Match]] = []
        priority = {"stage": 0, "category": 1, "region": 2, "territory": 2, "industry": 3, "rep": 4,
                    "customer": 5, "product": 6, "product_group": 7}
        for n in range(min(self.max_len, len(words)), 0, -1):
            for i in range(len(words) - n + 1):
                if any(used[i:i + n]):
                    continue
                phrase = tuple(words[i:i + n])
                candidates = self.index.get(phrase)
                if not candidates:
                    continue
                if n == 1 and not self._single_word_ok(phrase[0], raw[i][0], candidates, text, raw[i]):
                    continue
                candidates = sorted(candidates, key=lambda m: priority.get(m.kind, 9))
                best_kind = candidates[0].kind
                span = text[raw[i][1]:raw[i + n - 1][2]]
                for m in candidates:
                    if m.kind == best_kind:
                        found.append((i, Match(m.kind, m.value, m.id, span, m.ids)))
                for k in range(i, i + n):
                    used[k] = True
        unknown = self._unknown_names(text, raw, used)
        still_unknown = []
        for name in unknown:
            fuzzy = self.fuzzy_customer(name)
            if fuzzy:
                found.append((len(words), fuzzy))
            else:
                still_unknown.append(name)
        return [m for _, m in sorted(found, key=lambda x: x[0])], still_unknown

    def _single_word_ok(self, word: str, original: str, candidates: list[Match], text: str, raw) -> bool:
        kinds = {m.kind for m in candidates}
        if kinds & {"stage", "category", "region", "territory", "industry"}:
            return True
        if word in COMMON:
            return False
        if kinds == {"product_group"}:
            after = text[raw[2]:].lower().split()
            cue = bool(after) and after[0].strip("?.,!") in PRODUCT_CUES
            return original.endswith("s") or original != word or cue
        return True

    def _unknown_names(self, text: str, raw, used) -> list[str]:
        """Runs of capitalised words (or quoted text) the vocabulary did not recognise."""
        names, current = [], []
        original = [text[s:e] for _, s, e in raw]
        for k, word in enumerate(original):
            lw = word.lower().rstrip(".")
            cap = word[:1].isupper() and not used[k] and lw not in COMMON and not re.fullmatch(r"q[1-4]|\d+.*", lw)
            if k == 0 or (k > 0 and text[raw[k - 1][2]:raw[k][1]].strip() in {".", "?", "!"}):
                cap = cap and lw not in COMMON and lw not in _QUESTION_WORDS
            if cap or (current and len(word) == 1 and word.isupper()):
                current.append(word)
            else:
                if current:
                    names.append(" ".join(current))
                current = []
        if current:
            names.append(" ".join(current))
        for named in re.findall(r"\b((?:Product|Item|Customer|Account|SKU)\s+[A-Z0-9][\w-]*)", text):
            if named not in names:
                names.append(named)
        for quoted in re.findall(r"[\"“']([^\"”']{2,60})[\"”']", text):
            if quoted not in names:
                names.append(quoted)
        return [n for n in names if n.lower() not in _QUESTION_WORDS]

    def fuzzy_customer(self, name: str) -> Match | None:
        key = " ".join(norm_tokens(strip_legal(name)))
        if len(key) < 4:
            return None
        close = difflib.get_close_matches(key, self._customer_names.keys(), n=1, cutoff=0.8)
        if not close:
            return None
        cid, full = self._customer_names[close[0]]
        return Match("customer", full, id=cid, phrase=name, exact=False)

    def search_customers(self, phrase: str, limit: int = 5) -> list[tuple[str, str]]:
        """Customers whose name contains ``phrase`` or is close to it (for "did you mean")."""
        key = " ".join(norm_tokens(strip_legal(phrase)))
        hits = [(cid, name) for k, (cid, name) in self._customer_names.items() if key and key in k]
        if len(hits) < limit:
            for k in difflib.get_close_matches(key, self._customer_names.keys(), n=limit, cutoff=0.7):
                if self._customer_names[k] not in hits:
                    hits.append(self._customer_names[k])
        return hits[:limit]

    def rep(self, rep_id: str) -> tuple[str, str, str, str] | None:
        return next((r for r in self.reps if str(r[0]) == str(rep_id)), None)


_QUESTION_WORDS = frozenset("""show list give tell what which who how where when why is are do does did can could
would should please create make place book add new draft find get compare break only what's whats i break
""".split())


# --- loading from the warehouse -----------------------------------------------------------------------

_lock = threading.Lock()
_cache: dict[tuple, Vocabulary] = {}


def load_vocabulary(catalog, settings=None) -> Vocabulary:
    """Read names and distinct values from the marts (through the guard, all-data scope)."""
    from agents.catalog import _fingerprint
    from agents.guard import run_sql
    from agents.scope import Scope
    from scc.config import get_settings

    settings = settings or get_settings()
    key = _fingerprint(settings)
    with _lock:
        if key in _cache:
            return _cache[key]
    scope = Scope.all()
    vocab = Vocabulary()

    def rows(sql: str, needs: tuple[str, tuple[str, ...]]) -> list[tuple]:
        mart = catalog.mart(needs[0])
        if mart is None or not mart.built or not all(mart.has(c) for c in needs[1]):
            return []
        return run_sql(sql, scope, catalog, settings=settings, max_rows=100_000).rows

    vocab.customers = [(str(a), b) for a, b in rows(
        "SELECT customer_id, customer_name FROM marts.dim_customers WHERE customer_name IS NOT NULL",
        ("dim_customers", ("customer_id", "customer_name")))]
    vocab.industries = [r[0] for r in rows(
        "SELECT DISTINCT industry FROM marts.dim_customers WHERE industry IS NOT NULL",
        ("dim_customers", ("industry",)))]
    vocab.products = [(str(a), b, c) for a, b, c in rows(
        "SELECT product_id, product_name, category FROM marts.dim_products WHERE product_name IS NOT NULL",
        ("dim_products", ("product_id", "product_name", "category")))]
    vocab.reps = [(str(a), b, c, d) for a, b, c, d in rows(
        "SELECT rep_id, rep_name, territory, region FROM marts.dim_sales_reps WHERE rep_name IS NOT NULL",
        ("dim_sales_reps", ("rep_id", "rep_name", "territory", "region")))]
    vocab.territories = sorted({r[2] for r in vocab.reps if r[2]}) or [r[0] for r in rows(
        "SELECT DISTINCT territory FROM marts.dim_customers WHERE territory IS NOT NULL",
        ("dim_customers", ("territory",)))]
    vocab.regions = sorted({r[3] for r in vocab.reps if r[3]}) or [r[0] for r in rows(
        "SELECT DISTINCT region FROM marts.dim_customers WHERE region IS NOT NULL",
        ("dim_customers", ("region",)))]
    vocab.stages = [r[0] for r in rows(
        "SELECT DISTINCT stage FROM marts.fct_opportunities WHERE stage IS NOT NULL",
        ("fct_opportunities", ("stage",)))]
    vocab.build()
    with _lock:
        _cache.clear()
        _cache[key] = vocab
    return vocab


def clear_cache() -> None:
    with _lock:
        _cache.clear()
