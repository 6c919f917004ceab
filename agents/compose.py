"""Compositions any agent's plan takes part in, whatever it measures: rankings and comparisons.

- **Rankings** ("which territory closed the most deals in Q2?", "who has the lowest win rate?", "the 3
  customers that owe us least"): the router reads a ranker, a dimension and a direction
  (:func:`find_ranking`) and asks for a breakdown by that dimension; :func:`rank_plan` then orders the
  agent's breakdown by the measure the question names, in the direction it says, and keeps the first N
  ("which" or "who": one). It does not know which agent or metric it ranks.
- **Comparisons** ("this quarter vs last quarter", "October against the same month last year", "West
  versus East"): :func:`find_comparison` reads two sides of one kind (two periods, or two values of one
  dimension); the engine answers the question once per side and :func:`compare_answers` puts the sides
  side by side with the change between them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlglot

from agents.timeparse import TimeRange, add_months

# --- rankings ---------------------------------------------------------------------------------------------

RANK_DESC = r"most|highest|best|biggest|largest|greatest|top|strongest|leading"
RANK_ASC = r"least|lowest|fewest|smallest|worst|weakest|bottom"
DIMENSION_WORDS = {
    "territory": "territory", "territories": "territory", "region": "region", "regions": "region",
    "rep": "rep", "reps": "rep", "salesperson": "rep", "salespeople": "rep", "seller": "rep", "sellers": "rep",
    "customer": "customer", "customers": "customer", "account": "customer", "accounts": "customer",
    "client": "customer", "clients": "customer", "industry": "industry", "industries": "industry",
    "category": "category", "categories": "category", "product": "product", "products": "product",
    "stage": "stage", "stages": "stage", "month": "month", "quarter": "quarter", "week": "week",
}
_DIM = "|".join(sorted(map(re.escape, DIMENSION_WORDS), key=len, reverse=True))
# "which territory ... the most", "who ... the lowest", "top 5 reps ...", "the 3 customers with the least"
RANKER = re.compile(
    rf"\b(?P<ask>which|what|who|whose)\b(?:\s+(?:\d+|one|two|three|four|five|ten)\b)?(?:\s+(?:of\s+)?(?:my|our|the)?"
    rf"\s*(?:team'?s?\s+)?(?P<dim>{_DIM})\b)?(?P<rest>.*?)\b(?:the\s+)?(?P<dir>{RANK_DESC}|{RANK_ASC})\b",
    re.I)
WORD_N = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "ten": 10}


@dataclass
class Ranking:
    dimension: str          # a breakdown's dimension, or "item": the rows of a list (orders, deals ...)
    direction: str          # "desc" or "asc"
    n: int | None
    words: tuple[str, ...]  # the question's words this ranking consumed
    by: str = ""            # for items: "date" (most recent, oldest) or "" (the question's measure)
    soft: bool = False      # "top 5 customers by …": an agent may rank it itself; not applied here is no doubt

    def to_dict(self) -> dict:
        return {"dimension": self.dimension, "direction": self.direction, "n": self.n, "words": list(self.words),
                "by": self.by, "soft": self.soft}

    @classmethod
    def from_dict(cls, data: dict | None) -> "Ranking | None":
        if not data:
            return None
        return cls(data["dimension"], data["direction"], data.get("n"), tuple(data.get("words") or ()),
                   data.get("by", ""), bool(data.get("soft")))


# "the largest order last week", "the 3 most recent deals", "our oldest open invoice": rows of a list, ranked
ITEM_SUPERLATIVE = re.compile(
    r"\b(?:(?:the|our|my)\s+)?(?:(\d+|two|three|four|five|ten)\s+)?(?P<dir>largest|biggest|smallest|highest|lowest|"
    r"cheapest|priciest|most\s+recent|latest|newest|oldest|earliest|last)\s+(?:\w+\s+)?"
    r"(?P<item>orders?|deals?|opportunit(?:y|ies)|invoices?|sales?\s+orders?)\b", re.I)
ITEM_ASC = ("smallest", "lowest", "cheapest", "oldest", "earliest")
ITEM_BY_DATE = ("most recent", "latest", "newest", "oldest", "earliest", "last")


def find_item_ranking(text: str, top_n: int | None) -> Ranking | None:
    m = ITEM_SUPERLATIVE.search(text)
    if not m:
        return None
    word = re.sub(r"\s+", " ", m.group("dir").lower())
    if word == "last" and not re.search(r"\blast\s+(?:\d+\s+)?(orders?|deals?|invoices?)\b(?!\s+(?:week|month|quarter|year))",
                                        text, re.I):
        return None
    count = m.group(1)
    after = re.search(rf"\b{re.escape(m.group('dir'))}\s+(\d+|two|three|four|five|ten)\b", text, re.I)
    count = count or (after.group(1) if after else None)  # "the last 5 orders"
    plural = m.group("item").lower().endswith(("s", "ies"))
    n = top_n or (int(count) if count and count.isdigit() else WORD_N.get((count or "").lower())) or (None if plural else 1)
    return Ranking("item", "asc" if word in ITEM_ASC else "desc", n, tuple(w for w in (m.group("dir"), count) if w),
                   "date" if word in ITEM_BY_DATE else "")


COUNTED = re.compile(rf"\b(?P<ask>top|bottom|the)\s+(?:\d+|one|two|three|four|five|ten)\s+(?P<dim>{_DIM})\b"
                     rf"(?P<rest>.*?)\b(?:the\s+)?(?P<dir>{RANK_DESC}|{RANK_ASC})\b", re.I)
CHANGE = re.compile(r"\b(fell|fall(?:s|en|ing)?|drop(?:s|ped|ping)?|grew|grow(?:s|n|ing)?|increas\w*|decreas\w*|"
                    r"declin\w*|rose|ris(?:e|es|en|ing)|improv\w*|worsen\w*|shr[aiu]nk\w*|gain\w*|jump\w*)\b", re.I)
# "top 5 customers by bookings", "bottom 3 reps this quarter": the ranker word in front of the dimension
TOP_DIMENSION = re.compile(rf"\b(?P<ask>top|bottom|best|worst|lowest|highest|strongest|weakest)(?:[\s-]+performing)?\s+"
                           rf"(?:(?:\d+|one|two|three|four|five|ten)\s+)?(?P<dim>{_DIM})\b(?P<rest>)(?P<dir>)"
                           rf"|\b(?P<verb>rank(?:ed|ing)?|order(?:ed)?|sort(?:ed)?)\s+(?:the\s+|our\s+|my\s+|all\s+)?"
                           rf"(?P<dim2>{_DIM})\s+by\b", re.I)
BY_DIMENSION = re.compile(rf"\b(?:by|per|for each|each)\s+(?:the\s+)?(?:{_DIM})\b", re.I)


def find_ranking(text: str, top_n: int | None) -> Ranking | None:
    """The ranking a question asks for without saying "by": a ranker word, a dimension, a direction.
    ("top 5 reps by bookings" says "by": the router's breakdown and top-N read it.)"""
    if BY_DIMENSION.search(text):
        return None
    if CHANGE.search(text):  # "whose orders fell the most": a ranking of changes, which the agents read themselves
        return None
    candidates = [m for m in (RANKER.search(text), COUNTED.search(text), TOP_DIMENSION.search(text)) if m
                  and not (m.group("dir") and re.search(r"\bat\s+$", text[:m.start("dir")], re.I))]  # "at least 5"
    m = next((c for c in candidates if c.group("dim")), candidates[0] if candidates else None)
    if not m:
        return None
    if m.re is TOP_DIMENSION and m.group("verb"):  # "rank reps by bookings": every rep, the highest first
        dim_word = m.group("dim2").lower()
        return Ranking(DIMENSION_WORDS[dim_word], "desc", top_n, (m.group("verb"), m.group("dim2")), soft=False)
    dim_word = (m.group("dim") or "").lower()
    if not dim_word:
        if m.group("ask").lower() not in ("who", "whose"):
            return None
        named = [w for w in re.findall(rf"\b({_DIM})\b", text, re.I)
                 if DIMENSION_WORDS[w.lower()] not in ("month", "quarter", "week")]
        dim_word = named[0].lower() if named else "rep"  # "who" is a person: a rep, unless a customer is named
    dimension = DIMENSION_WORDS[dim_word]
    direction = "asc" if re.fullmatch(RANK_ASC, m.group("dir") or m.group("ask"), re.I) else "desc"
    count = re.search(r"\b(?:which|what|top|bottom|the)\s+(\d+|one|two|three|four|five|ten)\b", text, re.I)
    n = top_n or (int(count.group(1)) if count and count.group(1).isdigit() else WORD_N.get(
        count.group(1).lower()) if count else None)
    if n is None:
        plural = dim_word.endswith("s") and dim_word not in ("sales",) and dim_word != dimension
        n = None if plural else 1
    words = tuple(w for w in (m.group("ask"), m.group("dim"), m.group("dir"), count and count.group(1)) if w)
    return Ranking(dimension, direction, n, words, soft=m.re is TOP_DIMENSION)


MONEY = ("booking", "revenue", "amount", "total", "value", "balance", "due", "pipeline", "sales", "won_amount",
         "billing", "receivable", "price")
COUNTS = ("order", "deal", "opportunit", "count", "won", "customers", "activit", "units", "number")
MEASURE_WORDS = {
    "money": r"\b(bookings?|booked|revenue|sales|amount|value|worth|money|dollars?|owe[sd]?|owing|spend|spent|big(?:gest)?|"
             r"large(?:st)?|pipeline|billed|billings?)\b",
    "count": r"\b(deals|orders|count|number|many|often|frequently|customers|activities|units)\b",
}


def _measure_column(columns: list[str], group_column: str, question: str) -> str | None:
    """The output column a ranking orders by: the one the question's words name, else the first measure."""
    measures = [c for c in columns if c != group_column]
    if not measures:
        return None
    lowered = question.lower()
    words = {w.rstrip("s") for w in re.findall(r"[a-z]+", lowered)}
    for column in measures:  # a column the question names ("win rate", "bookings")
        parts = [p.rstrip("s") for p in column.lower().split("__")[-1].split("_") if p not in ("of", "amount")]
        if parts and all(p in words for p in parts):
            return column
    for kind, pattern in MEASURE_WORDS.items():
        if re.search(pattern, lowered):
            names = MONEY if kind == "money" else COUNTS
            for column in measures:
                if any(n in column.lower() for n in names):
                    return column
    return measures[0]


def rank_plan(plan, route):
    """``plan`` ordered by the question's measure in its direction and cut to N, when it is a breakdown by
    the ranking's dimension; else None (the ranking does not apply and stays unread)."""
    ranking = Ranking.from_dict(route.entities.ranking)
    if ranking is not None and ranking.dimension == "item":
        return _rank_items(plan, route, ranking)
    if ranking is None or plan.kind not in ("breakdown", "trend") or plan.sql is None:
        return None
    try:
        columns = sqlglot.parse_one(plan.sql, read="duckdb").named_selects
    except sqlglot.errors.SqlglotError:
        return None
    if not columns:
        return None
    group_column = columns[0]
    column = _measure_column(columns, group_column, route.question)
    if column is None:
        return None
    order = f'"{column}" {ranking.direction.upper()} NULLS LAST'
    limit = f" LIMIT {int(ranking.n)}" if ranking.n else ""
    plan.sql = f"SELECT * FROM ({plan.sql}) ranked ORDER BY {order}{limit}"
    if plan.metric is not None:
        metric_columns = [*plan.metric.group_by, *plan.metric.metrics]
        metric_column = _measure_column(metric_columns, metric_columns[0] if plan.metric.group_by else "",
                                        route.question) if metric_columns else None
        if metric_column in plan.metric.metrics:
            inner = plan.wrap or "SELECT * FROM ({sql}) m"
            plan.wrap = (f"SELECT * FROM ({inner}) ranked ORDER BY \"{metric_column}\" "
                         f"{ranking.direction.upper()} NULLS LAST{limit}")
        else:
            plan.metric = None  # cannot say which metric to rank by: the planner's SQL answers
    direction = "lowest" if ranking.direction == "asc" else "highest"
    plan.title = f"{plan.title}, {direction} {column.replace('_', ' ')} first" + (f" (top {ranking.n})" if
                                                                                     ranking.n and ranking.n > 1 else "")
    plan.kind = "breakdown"
    return plan


def _rank_items(plan, route, ranking: Ranking):
    """A list's rows ordered by their date or their amount, the first N kept ("the largest order")."""
    if plan.kind != "list" or plan.sql is None:
        return None
    try:
        columns = sqlglot.parse_one(plan.sql, read="duckdb").named_selects
    except sqlglot.errors.SqlglotError:
        return None
    if ranking.by == "date":
        column = next((c for c in columns if "date" in c.lower()), None)
    else:
        column = next((c for c in columns if any(n in c.lower() for n in ("total_amount", "amount", "value",
                                                                             "remaining", "bookings"))), None)
    if column is None:
        return None
    limit = f" LIMIT {int(ranking.n)}" if ranking.n else ""
    plan.sql = f'SELECT * FROM ({plan.sql}) ranked ORDER BY "{column}" {ranking.direction.upper()} NULLS LAST{limit}'
    plan.metric = None
    return plan


# --- comparisons ------------------------------------------------------------------------------------------

COMPARATOR = re.compile(r"\b(vs\.?|versus|compared (?:to|with)|compare[ds]?|against|relative to|over|than)(?=\s|$)",
                        re.I)
SAME_LAST_YEAR = re.compile(r"\b(?:the\s+)?same\s+(?:month|quarter|period|time|week|day|days)\s+(?:a\s+year\s+ago|"
                            r"last\s+year|the\s+year\s+before|of\s+last\s+year)\b", re.I)


@dataclass
class Comparison:
    kind: str                     # "time" or an entity attribute of the router's Entities
    sides: list                   # two TimeRanges, or two values
    words: tuple[str, ...]        # the comparator words consumed


def shift_year(rng: TimeRange, years: int = -1, label: str | None = None) -> TimeRange:
    start, end = add_months(rng.start, 12 * years), add_months(rng.end, 12 * years)
    return TimeRange(start, end, label or f"{rng.label}, a year earlier", rng.grain, rng.phrase)


def find_comparison(text: str, entities, times: list[TimeRange]) -> Comparison | None:
    """Two sides of one kind joined by a comparator: two periods, or two values of one dimension."""
    comparator = COMPARATOR.search(text)
    if not comparator:
        return None
    word = comparator.group(1).lower()
    if word in ("over", "than") and not re.search(r"\b(compare|vs|versus)\b", text, re.I):
        return None  # "over $10K", "more than 5": not a comparison
    if SAME_LAST_YEAR.search(text) and times:
        first = times[0]
        return Comparison("time", [first, shift_year(first, label=f"the same period a year earlier")],
                          (comparator.group(1), *SAME_LAST_YEAR.search(text).group(0).split()))
    last_ytd = re.search(r"\b(?:last|previous|prior)\s+(?:year\s+to\s+date|ytd)\b", text, re.I)
    if last_ytd and times:
        first = times[0]
        return Comparison("time", [first, shift_year(first, label="last year to date")],
                          (comparator.group(1), *last_ytd.group(0).split()))
    if len(times) >= 2:
        return Comparison("time", times[:2], (comparator.group(1),))
    for attr in ("customers", "regions", "territories", "reps", "categories", "products", "stages", "industries"):
        values = getattr(entities, attr)
        if len(values) == 2:
            return Comparison(attr, list(values), (comparator.group(1),))
    return None


def side_label(comparison: Comparison, side) -> str:
    if comparison.kind == "time":
        return side.describe()
    return getattr(side, "value", side)


def compare_answers(question: str, comparison: Comparison, answers: list):
    """One answer with a row per side (the side, then each figure) and the change between the two."""
    from agents.answer import Answer

    first, second = answers
    if not (first.ok and second.ok and (first.columns == second.columns or not first.rows or not second.rows)):
        return None
    if not first.rows and not second.rows:
        return None
    label = "period" if comparison.kind == "time" else comparison.kind.rstrip("s").replace("ie", "y")
    columns = [label, *(first.columns or second.columns)]
    rows = [[side_label(comparison, side), *row] for side, answer in zip(comparison.sides, answers)
            for row in answer.rows]
    if len(first.rows) > 1 or len(second.rows) > 1:  # lists or breakdowns: one table, each row with its side
        return Answer(question=question, text=f"{first.text} Compared with: {second.text}", columns=columns,
                      rows=rows, path=first.path, agent=first.agent, intent=f"{first.intent}.compare",
                      metrics=first.metrics, entities=first.entities, follow_ups=first.follow_ups[:3])
    changes = []
    for i, column in enumerate(first.columns if first.rows and second.rows else []):
        a, b = first.rows[0][i], second.rows[0][i]
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
            pct = f" ({(a - b) / abs(b):+.1%})" if b else ""
            changes.append(f"{column}: {_figure(column, a)} against {_figure(column, b)}{pct}")
    sides = " and ".join(str(side_label(comparison, s)) for s in comparison.sides)
    text = f"Comparing {sides}: " + "; ".join(changes) + "." if changes else f"Comparing {sides}."
    return Answer(question=question, text=text, columns=columns, rows=rows, path=first.path, agent=first.agent,
                  intent=f"{first.intent}.compare", metrics=first.metrics, entities=first.entities,
                  chart={"type": "bar", "labels": [r[0] for r in rows],
                         "datasets": [{"label": first.columns[-1], "data": [r[-1] for r in rows]}]},
                  follow_ups=first.follow_ups[:3])


def without_side(entities, comparison: Comparison, side):
    """A copy of the route's entities with only ``side`` of the comparison."""
    from agents.router import Entities

    copy = Entities.from_dict(entities.to_dict())
    if comparison.kind == "time":
        copy.time = side
    else:
        setattr(copy, comparison.kind, [side])
    return copy


def _figure(column: str, value) -> str:
    from agents.answer import money

    if re.search(r"amount|booking|revenue|pipeline|value|sales|balance", column, re.I):
        return money(value)
    if isinstance(value, float) and abs(value) < 1:
        return f"{value:.1%}" if re.search(r"rate|share|ratio", column, re.I) else f"{value:,.4g}"
    return f"{value:,.0f}" if isinstance(value, (int, float)) else str(value)


# --- shares -----------------------------------------------------------------------------------------------

SHARE = re.compile(r"\b(?:what|which)?\s*(share|percent(?:age)?|proportion|fraction|portion|pct)\b|%\s+of\b|"
                   r"\bhow much of\b(?=.*\b(?:comes?|came|is|was|are|were)\s+(?:from|in|with|for)\b)", re.I)
SHARE_SUBJECTS = ("customers", "regions", "territories", "reps", "categories", "products", "industries", "stages")


@dataclass
class Share:
    subjects: list[str]            # the Entities attributes that make the part ("customers", "order_status")
    words: tuple[str, ...]
    by_group: bool = False         # "share of pipeline by territory": each group's share of their total


def find_share(text: str, entities) -> Share | None:
    """"What share of bookings comes from Disney?", "what percent of orders are cancelled?": a share word and
    a part named by a filter (a customer, a region, a status ...), the whole being the same without it."""
    m = SHARE.search(text)
    if not m:
        return None
    subjects = [attr for attr in SHARE_SUBJECTS if getattr(entities, attr)]
    subjects += [attr for attr in ("order_status", "invoice_status", "deal_state", "health", "forecast")
                 if getattr(entities, attr) not in (None, [])]
    if entities.amount_min is not None or entities.amount_max is not None:
        subjects.append("amounts")
    words = tuple(w for w in ((m.group(1) or m.group(0).split()[0]),) if w)
    if not subjects:
        return Share([], words, by_group=True) if entities.group_by else None
    return Share(subjects, words)


def whole_of(entities, share: Share):
    """The route's entities without the part's filters: the whole the share is taken of (for a status,
    orders of every status, cancelled ones included)."""
    from agents.router import Entities

    copy = Entities.from_dict(entities.to_dict())
    for attr in share.subjects:
        if attr == "order_status":
            copy.order_status = ("any", "any")
        elif attr == "deal_state":  # "what fraction of deals did we win": of the deals closed
            copy.deal_state = "closed" if entities.deal_state in ("won", "lost") else None
        elif attr == "invoice_status":
            copy.invoice_status = None
        elif attr == "amounts":
            copy.amount_min = copy.amount_max = None
        else:
            setattr(copy, attr, [])
    return copy


def share_by_group(question: str, answer):
    """Each group's share of the groups' total, beside each additive figure of a breakdown (an amount, a
    count; never a rate or an average, whose total means nothing). None when the breakdown has none."""
    from agents.answer import NOT_ADDITIVE, Answer

    if not (answer.ok and answer.rows and answer.columns):
        return None
    numeric = [i for i, column in enumerate(answer.columns)
               if not NOT_ADDITIVE.search(column) and all(isinstance(r[i], (int, float)) and not isinstance(r[i], bool)
                                                       or r[i] is None for r in answer.rows)
               and any(r[i] is not None for r in answer.rows)]
    labels = [i for i in range(len(answer.columns)) if i not in numeric]
    if not numeric or not labels or answer.truncated:
        return None
    totals = {i: sum(float(r[i] or 0) for r in answer.rows) for i in numeric}
    if not all(totals.values()):
        return None
    measure = _measure_column([answer.columns[i] for i in numeric], answer.columns[labels[0]], question)
    named = [answer.columns.index(measure)] if measure else numeric[:1]
    columns = list(answer.columns) + [f"share_of_{answer.columns[i]}" for i in named]
    rows = [list(r) + [float(r[i] or 0) / totals[i] for i in named] for r in answer.rows]
    first = named[0]
    rows.sort(key=lambda r: -(r[len(answer.columns)] or 0))
    top = ", ".join(f"{r[labels[0]]} {r[len(answer.columns)]:.1%}" for r in rows[:5])
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    text = (f"{answer.text.split(':')[0]}, each as a share of the total "
            f"({_figure(answer.columns[first], totals[first])}): {top}{more}.")
    return Answer(question=question, text=text, columns=columns, rows=rows, path=answer.path, agent=answer.agent,
                  intent=f"{answer.intent}.share", metrics=answer.metrics, entities=answer.entities,
                  sql=answer.sql, follow_ups=answer.follow_ups[:3], chart=None)


def _paired_columns(part: list[str], whole: list[str]) -> list[tuple[int, int]]:
    """Which figure of the whole each figure of the part is a share of: the same column, else the one of the
    same kind ("won_opportunities" of "closed_opportunities", "won_amount" of "closed_amount")."""
    pairs = []
    for i, column in enumerate(part):
        if column in whole:
            pairs.append((i, whole.index(column)))
            continue
        kind = column.lower().split("_")[-1]
        same = [j for j, other in enumerate(whole) if other.lower().split("_")[-1] == kind]
        if len(same) == 1:
            pairs.append((i, same[0]))
    return pairs


def share_answer(question: str, share: Share, part, whole):
    """The part, the whole and the share, for each figure both answers give."""
    from agents.answer import Answer

    if not (part.ok and whole.ok and len(part.rows) == 1 and len(whole.rows) == 1):
        return None
    rows, bits = [], []
    for i, j in _paired_columns(part.columns, whole.columns):
        column, a, b = part.columns[i], part.rows[0][i], whole.rows[0][j]
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and b:
            rows.append([column, a, b, a / b])
            bits.append(f"{column}: {_figure(column, a)} of {_figure(column, b)}, {a / b:.1%}")
    if not rows:
        return None
    # "what share of revenue ...", "what fraction of deals ...": the share of the figure asked about (its name,
    # else money or count words), one figure; the first when the question names neither.
    asked = _measure_column([str(row[0]) for row in rows], "", question)
    keep = [i for i, row in enumerate(rows) if row[0] == asked] or [0]
    rows, bits = [rows[i] for i in keep], [bits[i] for i in keep]
    text = f"{part.text.split(':')[0]}, as a share of the whole: " + "; ".join(bits) + "."
    return Answer(question=question, text=text, columns=["measure", "part", "whole", "share"], rows=rows,
                  path=part.path, agent=part.agent, intent=f"{part.intent}.share", metrics=part.metrics,
                  entities=part.entities, follow_ups=part.follow_ups[:3])
