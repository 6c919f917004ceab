"""The router: which agent answers, with which entities, and whether the question asks two things.

``route(question, ...)`` returns one :class:`Route` per part of the question. Each route carries the
entities (customers, products, reps, territories, regions, stages, statuses, amounts, a time range, a
top-N, a breakdown) and the agent with the best score. Agents score a question from their own keywords
(``Agent.score``); the router adds what the entities say (a stage means pipeline, a product means
products...). A short follow-up ("what about last quarter?", "only Disney", "break that down by region")
is a *refinement*: it inherits the previous turn's agent and entities and changes what it names.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field

from agents.compose import find_item_ranking, find_ranking
from agents.entities import Match, Vocabulary
from agents.timeparse import TimeRange, find_time

AMOUNT = re.compile(
    r"(?P<cmp>over|above|more than|greater than|larger than|bigger than|at least|exceeding|>=|>|under|below|"
    r"less than|smaller than|at most|<=|<|between)?\s*"
    r"(?P<cur>\$|usd\s*)?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*"
    r"(?P<unit>k|m|mm|b|thousand|million|billion|grand)?\b(?P<dollars>\s*(?:dollars|usd|bucks))?"
    r"(?:\s*(?:and|to|-)\s*(?P<cur2>\$)?(?P<num2>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*(?P<unit2>k|m|mm|b|thousand|million)?\b)?",
    re.I,
)
UNITS = {"k": 1e3, "thousand": 1e3, "grand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6, "b": 1e9, "billion": 1e9}
TOP_N = re.compile(r"\b(?:top|best|largest|biggest|highest|worst|lowest|smallest|first|bottom)\s+(\d+|"
                   r"one|two|three|four|five|six|seven|eight|nine|ten|twenty|fifteen)\b|\b(\d+)\s+"
                   r"(?:largest|biggest|best|top|highest|worst|lowest|smallest)\b", re.I)
WORD_NUM = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
            "ten": 10, "fifteen": 15, "twenty": 20}

# "by X", "per X", "for each X", "X breakdown", "monthly"...
GROUP_WORDS = {
    "region": "region", "regions": "region", "territory": "territory", "territories": "territory",
    "rep": "rep", "reps": "rep", "salesperson": "rep", "sales rep": "rep", "sales reps": "rep", "seller": "rep",
    "sellers": "rep", "owner": "rep", "customer": "customer", "customers": "customer", "account": "customer",
    "accounts": "customer", "product": "product", "products": "product", "item": "product", "items": "product",
    "category": "category", "categories": "category", "product category": "category",
    "stage": "stage", "stages": "stage", "status": "status", "statuses": "status", "industry": "industry",
    "industries": "industry", "month": "month", "months": "month", "quarter": "quarter", "quarters": "quarter",
    "week": "week", "weeks": "week", "day": "day", "days": "day", "year": "year", "years": "year",
    "forecast category": "forecast_category", "forecast categories": "forecast_category",
}
GROUP_RE = re.compile(
    r"\b(?:by|per|for each|for every|each|across|split by|broken down by|break(?:ing)? (?:it|that|this|them)? ?down by|"
    r"grouped by|group by)\s+(?:the\s+)?(" + "|".join(sorted(map(re.escape, GROUP_WORDS), key=len, reverse=True)) + r")\b",
    re.I,
)
TREND_RE = re.compile(r"\b(trend|trends|trending|over time|monthly|month by month|month over month|weekly|"
                      r"week by week|daily|day by day|quarterly|quarter by quarter|yearly|annual)\b", re.I)
TREND_GRAIN = {"weekly": "week", "week by week": "week", "daily": "day", "day by day": "day",
               "quarterly": "quarter", "quarter by quarter": "quarter", "yearly": "year", "annual": "year"}

ORDER_STATUS_PHRASES = [
    ("pending approval", ("status", "pending_approval")), ("pending fulfillment", ("status", "pending_fulfillment")),
    ("pending fulfilment", ("status", "pending_fulfillment")), ("pending billing", ("status", "pending_billing")),
    ("partially fulfilled", ("group", "partial")), ("partially shipped", ("group", "partial")),
    ("partial", ("group", "partial")), ("not fulfilled", ("open", "open")), ("unfulfilled", ("open", "open")),
    ("not yet fulfilled", ("open", "open")), ("open orders", ("open", "open")), ("open order", ("open", "open")),
    ("fulfilled", ("group", "fulfilled")), ("shipped", ("group", "fulfilled")), ("delivered", ("group", "fulfilled")),
    ("complete", ("group", "fulfilled")), ("completed", ("group", "fulfilled")),
    ("cancelled", ("group", "cancelled")), ("canceled", ("group", "cancelled")), ("billed", ("status", "billed")),
    ("awaiting approval", ("status", "pending_approval")), ("waiting for approval", ("status", "pending_approval")),
    ("waiting on approval", ("status", "pending_approval")), ("needs approval", ("status", "pending_approval")),
    ("need approval", ("status", "pending_approval")), ("to be approved", ("status", "pending_approval")),
    ("unapproved", ("status", "pending_approval")), ("ready to bill", ("status", "pending_billing")),
    ("ready for billing", ("status", "pending_billing")), ("to be billed", ("status", "pending_billing")),
    ("awaiting billing", ("status", "pending_billing")), ("not yet billed", ("status", "pending_billing")),
    ("unbilled", ("status", "pending_billing")), ("ready to ship", ("status", "pending_fulfillment")),
    ("to be shipped", ("status", "pending_fulfillment")), ("awaiting fulfillment", ("status", "pending_fulfillment")),
    ("awaiting shipment", ("status", "pending_fulfillment")),
    ("pending", ("group", "pending")),
]
HEALTH_PHRASES = [("at risk", "at_risk"), ("at-risk", "at_risk"), ("declining", "declining"),
                  ("shrinking", "declining"), ("dropping", "declining"), ("falling", "declining"),
                  ("healthy", "healthy"), ("inactive", "inactive"), ("dormant", "inactive"),
                  ("churned", "inactive"), ("new", "new")]
FORECAST_PHRASES = [("best case", "Best Case"), ("commit", "Commit"), ("omitted", "Omitted")]
INVOICE_OVERDUE = r"\b(overdue|past due|late payment)\b"  # (unpaid is open: due or not yet)
INVOICE_OPEN = r"\b(open|outstanding|unpaid) (invoices?|receivables?|balance)\b|\breceivables?\b"
INVOICE_PAID = r"\bpaid invoices?\b"
DEAL_WON = r"\b(won|wins|win|winning|closed[- ]won)\b"
DEAL_LOST = r"\b(lost|losses|lose|closed[- ]lost)\b"
DEAL_OPEN = r"\bopen (deals?|opportunit\w+|pipeline)\b"
DEAL_CLOSED = (r"\bclosed (deals?|opportunit\w+)\b|\b(deals?|opportunit\w+) (did |have |has )?(we |i |they |you )?"
               r"closed\b|\b(did|have) (we|i|they|you) close\b")
MINE = r"\b(my|mine|i|me)\b"
# The patterns above, as the reading of a question consumes them (agents.reading).
STATE_PATTERNS = (INVOICE_OVERDUE, INVOICE_OPEN, INVOICE_PAID, DEAL_WON, DEAL_LOST, DEAL_OPEN, DEAL_CLOSED, MINE)


@dataclass
class Entities:
    customers: list[Match] = field(default_factory=list)
    products: list[Match] = field(default_factory=list)      # product and product_group matches
    categories: list[str] = field(default_factory=list)
    reps: list[Match] = field(default_factory=list)
    territories: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    industries: list[str] = field(default_factory=list)
    order_status: tuple[str, str] | None = None              # ("group", "pending") / ("status", "billed") / ("open", "open")
    invoice_status: str | None = None                        # open, paid, overdue
    health: list[str] = field(default_factory=list)
    forecast: list[str] = field(default_factory=list)
    deal_state: str | None = None                            # open, won, lost, closed
    amount_min: float | None = None
    amount_max: float | None = None
    time: TimeRange | None = None
    top_n: int | None = None
    group_by: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)         # names that matched nothing ("Cologuard")
    mine: bool = False                                       # "my", "I": the caller's own book
    ranking: dict | None = None                              # agents.compose.Ranking, as a dict
    excluded: dict = field(default_factory=dict)             # {"customers": [{"value", "id", "phrase"}], ...}

    def filters(self) -> dict:
        """The filters named, for text and follow-ups."""
        out = {}
        for key in ("customers", "products", "reps"):
            values = getattr(self, key)
            if values:
                out[key] = [m.value for m in values]
        for key in ("categories", "territories", "regions", "stages", "industries", "health", "forecast"):
            if getattr(self, key):
                out[key] = list(getattr(self, key))
        for key in ("order_status", "invoice_status", "deal_state", "amount_min", "amount_max", "top_n"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.time:
            out["time"] = self.time.to_dict()
        if self.group_by:
            out["group_by"] = list(self.group_by)
        if self.unknown:
            out["unknown"] = list(self.unknown)
        return out

    def to_dict(self) -> dict:
        data = asdict(self)
        data["time"] = self.time.to_dict() | {"phrase": self.time.phrase} if self.time else None
        data["order_status"] = list(self.order_status) if self.order_status else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Entities":
        data = dict(data or {})
        for key in ("customers", "products", "reps"):
            data[key] = [Match(**{k: (tuple(v) if k == "ids" else v) for k, v in m.items()}) for m in data.get(key) or []]
        t = data.get("time")
        data["time"] = TimeRange(dt.date.fromisoformat(t["start"]), dt.date.fromisoformat(t["end"]), t["label"],
                                 t.get("grain", "day"), t.get("phrase", "")) if t else None
        data["order_status"] = tuple(data["order_status"]) if data.get("order_status") else None
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Route:
    text: str
    agent: str
    entities: Entities
    scores: dict[str, float] = field(default_factory=dict)
    refinement: bool = False
    base_text: str = ""          # for a refinement: the question it refines
    composed: list[str] = field(default_factory=list)   # words a composition consumed ("vs": agents.compose)

    @property
    def question(self) -> str:
        """The words the agent should read: for a refinement, the original question's."""
        return self.base_text or self.text

    def to_dict(self) -> dict:
        return {"text": self.text, "agent": self.agent, "entities": self.entities.to_dict(),
                "refinement": self.refinement, "base_text": self.base_text}

    @classmethod
    def from_dict(cls, data: dict) -> "Route":
        return cls(text=data["text"], agent=data["agent"], entities=Entities.from_dict(data.get("entities")),
                   refinement=data.get("refinement", False), base_text=data.get("base_text", ""))


# --- entity extraction ---------------------------------------------------------------------------------

def _money(num: str, unit: str | None, text_after_has_dollar: bool = True) -> float:
    value = float(num.replace(",", ""))
    return value * UNITS.get((unit or "").lower(), 1)


def find_amounts(text: str) -> tuple[float | None, float | None]:
    """Money thresholds: "over $100K", "under 5,000 dollars", "between $10k and $50k"."""
    low = high = None
    for m in AMOUNT.finditer(text):
        cmp_ = (m.group("cmp") or "").lower()
        is_money = bool(m.group("cur") or m.group("unit") or m.group("dollars") or m.group("cur2"))
        if not is_money or not cmp_:
            continue
        value = _money(m.group("num"), m.group("unit"))
        if cmp_ == "between" and m.group("num2"):
            value2 = _money(m.group("num2"), m.group("unit2") or m.group("unit"))
            low, high = min(value, value2), max(value, value2)
        elif cmp_ in ("under", "below", "less than", "smaller than", "at most", "<=", "<"):
            high = value
        else:
            low = value
    return low, high


def find_top_n(text: str) -> int | None:
    m = TOP_N.search(text)
    if not m:
        if re.search(r"\b(top|best|largest|biggest|highest)\b", text, re.I) and not re.search(r"\bselling best\b", text, re.I):
            return None
        return None
    word = (m.group(1) or m.group(2)).lower()
    return int(word) if word.isdigit() else WORD_NUM.get(word)


def find_group_by(text: str) -> list[str]:
    groups = []
    for m in GROUP_RE.finditer(text):
        key = GROUP_WORDS[m.group(1).lower()]
        if key not in groups:
            groups.append(key)
    t = TREND_RE.search(text)
    if t and not any(g in ("month", "week", "day", "quarter", "year") for g in groups):
        groups.append(TREND_GRAIN.get(t.group(1).lower(), "month"))
    return groups


def _phrase_in(text: str, phrase: str) -> bool:
    return re.search(r"(?<![\w-])" + re.escape(phrase) + r"(?![\w-])", text, re.I) is not None


EXCLUSION_CUE = re.compile(r"(?:without|excluding|exclude|except(?:\s+for)?|other\s+than|apart\s+from|"
                           r"outside(?:\s+of)?|but\s+not|not)\s+(?:the\s+|for\s+|in\s+|from\s+)?$", re.I)
# Entity kinds an exclusion applies to, by the Entities attribute that holds them.
EXCLUDABLE = {"customer": "customers", "rep": "reps", "territory": "territories", "region": "regions",
              "industry": "industries", "category": "categories", "stage": "stages"}


def _excluded(text: str, matches: list[Match]) -> set[int]:
    """The matches an exclusion cue stands right before ("without Disney", "excluding Disney and Acme")."""
    out: set[int] = set()
    position, previous_excluded = 0, False
    for m in matches:
        if m.kind not in EXCLUDABLE:
            previous_excluded = False
            continue
        at = text.lower().find(m.phrase.lower(), position) if m.phrase else -1
        if at < 0:
            continue
        before = text[max(0, at - 30):at]
        joined = previous_excluded and re.search(r"(?:,|\band\b|\bor\b|\bnor\b)\s*$", before, re.I)
        previous_excluded = bool(EXCLUSION_CUE.search(before) or joined)
        if previous_excluded:
            out.add(id(m))
        position = at + len(m.phrase)
    return out


def extract_entities(text: str, vocab: Vocabulary, today: dt.date) -> Entities:
    ents = Entities()
    lowered = text.lower()
    times = find_time(text, today)
    ents.time = times[0] if times else None
    # Amounts are read with the time phrases blanked, so "2025" is not taken for money.
    masked = text
    for t in times:
        masked = masked.replace(t.phrase, " " * len(t.phrase))
    ents.amount_min, ents.amount_max = find_amounts(masked)
    ents.top_n = find_top_n(text)
    ents.group_by = find_group_by(text)
    ranking = find_ranking(text, ents.top_n)
    if ranking is not None:  # "which territory closed the most deals": a breakdown, ranked (agents.compose)
        ents.ranking = ranking.to_dict()
        if not ents.group_by:
            ents.group_by = [ranking.dimension]
    else:
        item = find_item_ranking(text, ents.top_n)  # "the largest order last week": a list's rows, ranked
        if item is not None:
            ents.ranking = item.to_dict()
    matches, unknown = vocab.match(masked)
    excluded = _excluded(masked, matches)
    for m in matches:
        if id(m) in excluded:  # "without Disney", "excluding the West": a filter that leaves it out
            ents.excluded.setdefault(EXCLUDABLE[m.kind], []).append({"value": m.value, "id": m.id, "phrase": m.phrase})
        elif m.kind == "customer" and m.value not in [c.value for c in ents.customers]:
            ents.customers.append(m)
        elif m.kind in ("product", "product_group"):
            ents.products.append(m)
        elif m.kind == "category" and m.value not in ents.categories:
            ents.categories.append(m.value)
        elif m.kind == "rep" and m.value not in [r.value for r in ents.reps]:
            ents.reps.append(m)
        elif m.kind == "territory" and m.value not in ents.territories:
            ents.territories.append(m.value)
        elif m.kind == "region" and m.value not in ents.regions:
            ents.regions.append(m.value)
        elif m.kind == "stage" and m.value not in ents.stages:
            ents.stages.append(m.value)
        elif m.kind == "industry" and m.value not in ents.industries:
            ents.industries.append(m.value)
    # A breakdown word is not a filter: "by region" is not the region "Region".
    ents.unknown = [u for u in unknown if u.lower() not in GROUP_WORDS]
    for phrase, status in ORDER_STATUS_PHRASES:
        if _phrase_in(lowered, phrase):
            ents.order_status = status
            break
    if re.search(INVOICE_OVERDUE, lowered):
        ents.invoice_status = "overdue"
    elif re.search(INVOICE_OPEN, lowered):
        ents.invoice_status = "open"
    elif re.search(INVOICE_PAID, lowered):
        ents.invoice_status = "paid"
    for phrase, value in HEALTH_PHRASES:
        if _phrase_in(lowered, phrase) and value not in ents.health:
            if value == "new" and not re.search(r"\bnew (customers?|accounts?|clients?)\b", lowered):
                continue
            ents.health.append(value)
    for phrase, value in FORECAST_PHRASES:
        if _phrase_in(lowered, phrase):
            ents.forecast.append(value)
    if re.search(DEAL_WON, lowered) and not re.search(r"\bwin (rate|ratio|%|percentage)", lowered):
        ents.deal_state = "won"
    elif re.search(DEAL_LOST, lowered):
        ents.deal_state = "lost"
    elif re.search(DEAL_OPEN, lowered):
        ents.deal_state = "open"
    elif re.search(DEAL_CLOSED, lowered):
        ents.deal_state = "closed"
    ents.mine = bool(re.search(MINE, lowered))
    return ents


# --- splitting two-part questions ------------------------------------------------------------------------

SPLIT_RE = re.compile(r"\?\s+|;\s*|\.\s+(?=[A-Z])|,?\s+and also\s+|,?\s+and then\s+|,?\s+also\s+|,?\s+plus\s+|,?\s+and\s+", re.I)
QUESTION_START = re.compile(r"^\s*(what|what's|whats|how|who|which|show|list|give|tell|are|is|do|does|did|"
                            r"can|where|when|top|break|compare)\b", re.I)


def split_question(text: str, looks_complete) -> list[str]:
    """Split "X and Y" when both halves are questions of their own (``looks_complete(part)``)."""
    text = text.strip()
    parts: list[str] = []
    start = 0
    for m in SPLIT_RE.finditer(text):
        left, right = text[start:m.start()].strip(" ,"), text[m.end():].strip(" ,")
        if not left or not right:
            continue
        sep = m.group(0).strip().lower().strip(",").strip()
        strong = sep in ("?", ";", ".") or m.group(0).strip().startswith((";", "?", "."))
        if strong or (looks_complete(left) and looks_complete(right) and QUESTION_START.match(right)):
            parts.append(left)
            start = m.end()
        elif sep in ("and", "also", "plus", "and also") and looks_complete(left) and looks_complete(right):
            parts.append(left)
            start = m.end()
    parts.append(text[start:].strip(" ,"))
    return [p for p in parts if p and re.search(r"\w", p)]


# --- refinements -----------------------------------------------------------------------------------------

REFINE_START = re.compile(
    r"^\s*(what about|how about|and (?:for|in|what about|only|just)?|only|just|now|same (?:for|but)|"
    r"and|but|what if|instead|for|in|break (?:it|that|this|them) down|split (?:it|that|this)|"
    r"by|per|group (?:it|that|this) by|show (?:it|that|this|them) by|limit to|exclude|without|excluding|"
    r"make it|change (?:it|that) to|drill (?:into|down))\b",
    re.I,
)


# A follow-up to a draft order that edits it ("make it 600", "change the price to $45", "add 100 mugs").
DRAFT_EDIT = re.compile(r"^\s*(?:and\s+|please\s+|now\s+)?(make it|change|set|update|use|take|pick|choose|switch|"
                        r"go with|add|also add|plus|remove|drop|delete|take out|increase|decrease|raise|lower|"
                        r"reduce)\b", re.I)


def is_refinement(text: str, score: float, entities: Entities) -> bool:
    words = re.findall(r"\w+", text)
    if REFINE_START.match(text) and len(words) <= 12:
        return True
    if (SHIFT_BEFORE.search(text) or SHIFT_YEAR.search(text)) and len(words) <= 8:  # "a year earlier?"
        return True
    named = entities.customers or entities.products or entities.categories or entities.time or entities.group_by \
        or entities.regions or entities.territories or entities.reps or entities.stages
    return score < 1 and bool(named) and len(words) <= 6


def merge_refinement(previous: Entities, new: Entities, text: str) -> Entities:
    """The previous question's entities, changed by what the follow-up names."""
    merged = Entities.from_dict(previous.to_dict())
    lowered = text.lower()
    replace = not re.search(r"\b(also|and also|as well|too|plus|add)\b", lowered)
    for key in ("customers", "products", "categories", "reps", "territories", "regions", "stages", "industries",
                "health", "forecast"):
        value = getattr(new, key)
        if value:
            setattr(merged, key, list(value) if replace else getattr(merged, key) + [v for v in value if v not in getattr(merged, key)])
    for key in ("order_status", "invoice_status", "deal_state", "amount_min", "amount_max", "top_n", "time"):
        if getattr(new, key) is not None:
            setattr(merged, key, getattr(new, key))
    if new.group_by:
        merged.group_by = list(new.group_by)
    if re.search(r"\b(all (?:customers|products|regions|time)|everyone|overall|in total|no breakdown)\b", lowered):
        if "customers" in lowered:
            merged.customers = []
        if "products" in lowered:
            merged.products, merged.categories = [], []
        if "regions" in lowered:
            merged.regions, merged.territories = [], []
        if "time" in lowered:
            merged.time = None
        if "no breakdown" in lowered or "overall" in lowered or "in total" in lowered:
            merged.group_by = []
    if re.search(r"\b(without|exclude|excluding|except) (a )?(time|date|period)", lowered):
        merged.time = None
    for attr, values in (new.excluded or {}).items():  # "without Disney": left out, and no longer a filter
        names = {v["value"] for v in values}
        kept = merged.excluded.setdefault(attr, [])
        kept += [v for v in values if v["value"] not in {k["value"] for k in kept}]
        current = getattr(merged, attr, None)
        if isinstance(current, list):
            setattr(merged, attr, [x for x in current if getattr(x, "value", x) not in names])
    shifted = time_shift(previous.time, text)
    if shifted is not None:
        merged.time = shifted[0]
    merged.unknown = new.unknown
    return merged


SHIFT_BEFORE = re.compile(r"\b(?:the\s+)?(?:(\d+|a|an|one|two|three|six|twelve)\s+)?(months?|quarters?|years?|weeks?|"
                          r"days?|period)\s+(?:before|prior\s+to|preceding)\s+(?:that|this|it|then)\b", re.I)
SHIFT_YEAR = re.compile(r"\b(?:a\s+year\s+(?:earlier|before)|the\s+year\s+before|(?:the\s+)?same\s+(?:time|period)\s+"
                        r"(?:last\s+year|a\s+year\s+(?:ago|earlier)))\b", re.I)


def time_shift(previous: TimeRange | None, text: str) -> tuple[TimeRange, str] | None:
    """A follow-up that moves the previous period: "and the 12 months before that?", "a year earlier";
    the new period and the words that said it."""
    if previous is None:
        return None
    from agents.timeparse import add_months, previous_period

    m = SHIFT_BEFORE.search(text)
    if m:
        count = m.group(1)
        unit = m.group(2).lower().rstrip("s")
        if unit == "period" or not count:
            rng = previous_period(previous)
            return TimeRange(rng.start, rng.end, rng.label, rng.grain, m.group(0)), m.group(0)
        n = int(count) if count.isdigit() else {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "six": 6,
                                                 "twelve": 12}[count.lower()]
        end = previous.start - dt.timedelta(days=1)
        if unit in ("day", "week"):
            start = previous.start - dt.timedelta(days=n * (7 if unit == "week" else 1))
        else:
            start = add_months(previous.start, -n * {"month": 1, "quarter": 3, "year": 12}[unit])
        label = f"the {n} {unit}{'s' if n != 1 else ''} before"
        return TimeRange(start, end, label, previous.grain, m.group(0)), m.group(0)
    m = SHIFT_YEAR.search(text)
    if m:
        start, end = add_months(previous.start, -12), add_months(previous.end, -12)
        return TimeRange(start, end, f"{previous.label}, a year earlier", previous.grain, m.group(0)), m.group(0)
    return None
