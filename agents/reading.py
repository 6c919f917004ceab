"""How the assistant read a question: every word is consumed by a token, or is a filler, or is reported.

The tokens of a question come from what actually shaped its answer, never from a list of words the
assistant merely recognises:

- the router's entities (periods, amounts, statuses, top-N, breakdowns, customers, reps, products,
  territories, regions, stages: the warehouse's own values);
- the words the answering agent's planner tested and found (every :func:`agents.planning.has_word` call that
  matched, collected while the agent planned: the planner reports what it read);
- the agent's routing keywords (what made it the agent for the question).

A word none of these consumed is *unused*. Unused words are listed with every answer; an unused word that
looks like a filter, a period, a condition, a comparison, a share or a name (see :data:`QUESTIONABLE`)
means the answer may be a confident number for another question, so the assistant asks instead
(:func:`clarification`). Spelling is mended first (:func:`correct_spelling`, rapidfuzz against the same
vocabulary), and each correction is shown.
"""

from __future__ import annotations

import contextvars
import re
from dataclasses import dataclass, field

from agents.router import (AMOUNT, EXCLUSION_CUE, FORECAST_PHRASES, GROUP_RE, HEALTH_PHRASES, ORDER_STATUS_PHRASES, REFINE_START,
                           STATE_PATTERNS, TOP_N, TREND_RE, Route)
from agents.timeparse import find_time

WORD = re.compile(r"[A-Za-z0-9$%][A-Za-z0-9'$%.,-]*[A-Za-z0-9%]|[A-Za-z0-9$%]")

# Words that carry no meaning of their own in a question about the data (they are never reported).
FILLER = frozenset("""
a an the of for to in on at by and or with from me my our us we i you your show list give tell what whats
what's which who whom how is are was were be been being do does did have has had get got this that these those
there their them they it its it's can could would should will shall may might please kindly let see look find
find out display pull up bring view want need know like just all any some about as per into across within
so far currently current right now today's whole entire overall each every one ones thing things stuff
hey hi hello ok okay thanks thank quick quickly also again break down give here where when why much many
s 's am pm im i'm we're weve we've youre you're is there are there value values figure figures number
numbers data info information report summary details detail breakdown split total totals top best instead
rather
""".split())

# Unused words of these kinds change what the answer should be: the assistant asks rather than answers.
QUESTIONABLE: dict[str, str] = {
    r"^(vs\.?|versus|compared?|comparing|comparison|against|than)$": "a comparison",
    r"^(share|percent|percentage|pct|proportion|portion|fraction|ratio|%)$": "a share",
    r"^(without|excluding|exclude|except|besides|outside|other|not|no|never|none|nothing|neither|nor|isn't|"
    r"aren't|didn't|haven't|hasn't|don't|doesn't|won't|non)$": "an exclusion",
    r"^(since|before|after|until|till|through|ago|between|during|earlier|later|previous|prior|past|next|"
    r"fy\d*|fiscal|half|h[12]|season|weekend|weekday|weekdays|yr|yrs|ytd|qtd|mtd)$": "a period",
    r"^(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|"
    r"apr|jun|jul|aug|sep|sept|oct|nov|dec|monday|tuesday|wednesday|thursday|friday|saturday|sunday)$": "a period",
    r"^(19|20)\d{2}$": "a period",
    # (descending words, "top", "best", "largest", are how every list and breakdown is already ordered)
    r"^(first|last|latest|earliest|newest|oldest|recent|recently|lapsed|returning|repeat|only|exactly|least|"
    r"lowest|fewest|smallest|worst|bottom|median|mean|average|avg|maximum|max|minimum|min|more|less|fewer|"
    r"over|under|above|below|within|created|opened|started|signed|renewed|converted|both|either|again|twice|"
    r"ordered|bought|purchased)$": "a condition",
    r"^\$?\d[\d,.]*[kmb%]?$": "a number",
    # measures the marts do not hold, or that a question names and no answer used ("churn rate", "gross margin")
    r"^(margin|margins|profit|profits|profitability|gross|net|cost|costs|cogs|churn|retention|nps|cac|ltv|clv|"
    r"conversion|satisfaction|rate|rates|ratio|growth|velocity|spend|spending|budget|forecasted)$": "a measure",
    r"^(closed|won|lost|open|paid|unpaid|shipped|cancelled|canceled|active|inactive|new|pending|overdue|late|"
    r"booked|billed|invoiced|renewal|renewals|upsell|churned)$": "a status",
}
_QUESTIONABLE = [(re.compile(rx, re.I), why) for rx, why in QUESTIONABLE.items()]

_collected: contextvars.ContextVar[list | None] = contextvars.ContextVar("scc_reading_spans", default=None)


def note_match(text: str, pattern: str) -> None:
    """Record where ``pattern`` matched ``text`` (called by :func:`agents.planning.has_word` while an agent
    plans, so the reading knows which words the planner used)."""
    spans = _collected.get()
    if spans is not None:
        spans.extend((text.lower(), m.start(), m.end()) for m in re.finditer(pattern, text, re.I))


def note_applied(kind: str, phrases: list[str]) -> None:
    """Record that the planner applied a composed filter (an exclusion) named by ``phrases``: the cue
    before each phrase ("without", "excluding") was used."""
    spans = _collected.get()
    if spans is not None:
        spans.append((kind, tuple(phrases), 0))


class collecting:
    """Context manager: collect the planner's matched spans for one route."""

    def __enter__(self) -> list:
        self.spans: list = []
        self.token = _collected.set(self.spans)
        return self.spans

    def __exit__(self, *exc) -> None:
        _collected.reset(self.token)


@dataclass
class Reading:
    """What each part of a question meant (chips), the words nobody used, and the corrections made."""

    chips: list[dict] = field(default_factory=list)          # [{"kind", "text"}]: measure, period, filter, group
    used: list[str] = field(default_factory=list)            # words a token consumed
    unused: list[str] = field(default_factory=list)          # content words no token consumed
    questionable: list[tuple[str, str]] = field(default_factory=list)   # (words, what they look like)
    corrections: list[tuple[str, str]] = field(default_factory=list)    # (typed, read as)

    def describe(self) -> str:
        return " · ".join(chip["text"] for chip in self.chips)

    def to_dict(self) -> dict:
        return {"chips": self.chips, "text": self.describe(), "used": self.used, "unused": self.unused,
                "questionable": [{"words": w, "looks_like": why} for w, why in self.questionable],
                "corrections": [{"typed": a, "read_as": b} for a, b in self.corrections]}


def _mask(text: str, spans: list[tuple[int, int]]) -> list[bool]:
    used = [False] * len(text)
    for start, end in spans:
        for i in range(max(0, start), min(len(text), end)):
            used[i] = True
    return used


def _phrase_spans(text: str, phrase: str) -> list[tuple[int, int]]:
    if not phrase:
        return []
    return [(m.start(), m.end()) for m in re.finditer(r"(?<![\w-])" + re.escape(phrase) + r"(?![\w])", text, re.I)]


def consumed_spans(text: str, route: Route, agent, vocabulary, today, planner_spans: list,
                   answer=None) -> list[tuple[int, int]]:
    """Character spans of ``text`` that a token consumed."""
    lowered = text.lower()
    spans: list[tuple[int, int]] = []
    for rng in find_time(text, today):
        spans += _phrase_spans(text, rng.phrase)
    for m in AMOUNT.finditer(text):
        if m.group("cmp") and (m.group("cur") or m.group("unit") or m.group("dollars") or m.group("cur2")):
            spans.append(m.span())
    for rx in (TOP_N, GROUP_RE, TREND_RE):
        spans += [m.span() for m in rx.finditer(text)]
    for pattern in STATE_PATTERNS:
        spans += [m.span() for m in re.finditer(pattern, lowered)]
    for phrase, _ in ORDER_STATUS_PHRASES + HEALTH_PHRASES + FORECAST_PHRASES:
        spans += _phrase_spans(text, phrase)
    if route.refinement:
        m = REFINE_START.match(text)
        if m:
            spans.append(m.span())
    matches, unknown = vocabulary.match(text)
    for m in matches:
        spans += _phrase_spans(text, m.phrase)
    for pattern in getattr(agent, "keywords", {}) or {}:
        spans += [m.span() for m in re.finditer(pattern, lowered)]
    spans += [(s, e) for t, s, e in planner_spans if t == lowered]
    applied = {p.lower() for kind, phrases, _ in planner_spans if kind == "exclusion" for p in phrases}
    for excluded in (route.entities.excluded or {}).values():
        for item in excluded:
            if item["phrase"].lower() in applied:
                for at in _phrase_spans(text, item["phrase"]):
                    cue = EXCLUSION_CUE.search(text[max(0, at[0] - 30):at[0]])
                    if cue:
                        spans.append((at[0] - (len(text[max(0, at[0] - 30):at[0]]) - cue.start()), at[0]))
    ranking = route.entities.ranking
    if ranking and answer is not None and answer.extra.get("ranked"):
        for word in ranking.get("words") or ():
            spans += _phrase_spans(text, word)
    for phrase in route.composed:
        spans += _phrase_spans(text, phrase)
    return spans


def read(route: Route, agent, vocabulary, today, planner_spans: list, *, answer=None,
         corrections: list[tuple[str, str]] | None = None) -> Reading:
    """The reading of ``route.text`` after ``agent`` answered it."""
    text = route.text
    used = _mask(text, consumed_spans(text, route, agent, vocabulary, today, planner_spans, answer))
    reading = Reading(corrections=list(corrections or []))
    _, unknown_names = vocabulary.match(text)
    for m in WORD.finditer(text):
        word = m.group(0)
        covered = any(used[m.start():m.end()])
        lw = word.lower().strip(".,")
        if covered:
            reading.used.append(word)
            continue
        if lw in FILLER or lw.rstrip("s") in FILLER:
            continue
        reading.unused.append(word)
        why = next((why for rx, why in _QUESTIONABLE if rx.match(lw)), None)
        if why:
            reading.questionable.append((word, why))
    ranking = route.entities.ranking
    if ranking and not ranking.get("soft") and not (answer is not None and answer.extra.get("ranked")):
        reading.questionable.append((" ".join(ranking.get("words") or ()), "a ranking"))
    for name in unknown_names:
        if not any(used[s:e].count(True) for s, e in _phrase_spans(text, name)):
            reading.questionable.append((name, "a name I do not know"))
    reading.chips = chips(route, answer)
    # A word the reading itself names (the measure's label "Average sales cycle", a filter "territory Pacific")
    # was used: it is what the answer is about.
    named = {_stem(w) for chip in reading.chips for w in re.findall(r"[a-z]+", chip["text"].lower())}
    named |= {_stem(w) for w in re.findall(r"[a-z]+", (answer.text if answer is not None else "").lower()[:200])}
    reading.used += [w for w in reading.unused if _stem(w.lower()) in named]
    reading.unused = [w for w in reading.unused if _stem(w.lower()) not in named]
    reading.questionable = [(w, why) for w, why in reading.questionable if _stem(w.lower()) not in named]
    return reading


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def chips(route: Route, answer=None) -> list[dict]:
    """The reading as chips: what is measured, the period, each filter, the grouping.

    A chip that came from words of the question also carries them (``phrase``, as typed): the assistant tab
    removes or changes a chip by asking the question again without those words, or with others."""
    ents = route.entities
    question = (answer.question if answer is not None and answer.question else route.text) or ""
    out: list[dict] = []

    def add(kind: str, text: str, *phrases: str) -> None:
        chip = {"kind": kind, "text": text}
        found = _typed(question, phrases)
        if found:
            chip["phrase"] = found
        out.append(chip)

    measures = [m.get("label") or m.get("name") for m in (answer.metrics if answer is not None else [])]
    if measures:
        out.append({"kind": "measure", "text": ", ".join(dict.fromkeys(measures))})
    elif answer is not None and answer.intent:
        parts = answer.intent.split(".")
        what = f"{parts[0]}, listed" if parts[-1] == "list" and len(parts) > 1 else parts[-1]
        out.append({"kind": "measure", "text": what.replace("_", " ")})
    if ents.time:
        add("period", ents.time.describe(), ents.time.phrase)
    for label, matches in (("customer", ents.customers), ("product", ents.products), ("rep", ents.reps)):
        for match in matches:
            add("filter", f"{label} {match.value}", match.phrase, match.value)
    for label, values in (("category", ents.categories), ("territory", ents.territories), ("region", ents.regions),
                          ("stage", ents.stages), ("industry", ents.industries), ("health", ents.health),
                          ("forecast", ents.forecast)):
        for value in values:
            add("filter", f"{label} {value}", value, value.replace("_", " "), value.replace("_", "-"))
    for attr, values in (ents.excluded or {}).items():
        for value in values:
            add("filter", f"without {attr.rstrip('s').replace('ie', 'y')} {value['value']}", value.get("phrase") or "")
    if ents.order_status:
        status = ents.order_status[1]
        add("filter", "status " + status.replace("_", " "), status.replace("_", " "), status.replace("_", "-"))
    if ents.invoice_status:
        add("filter", f"invoices {ents.invoice_status}", ents.invoice_status)
    if ents.deal_state:
        add("filter", f"deals {ents.deal_state}")
    if ents.amount_min is not None:
        add("filter", f"amount ≥ ${ents.amount_min:,.0f}", *_amount_phrases(question, "over|above|more than|at least|>=?"))
    if ents.amount_max is not None:
        add("filter", f"amount ≤ ${ents.amount_max:,.0f}", *_amount_phrases(question, "under|below|less than|at most|<=?"))
    for group in ents.group_by:
        add("group", f"by {group}", *_group_phrases(question, group))
    if ents.top_n:
        add("rank", f"top {ents.top_n}", *re.findall(rf"\b(?:top|first|bottom)\s+{ents.top_n}\b", question, re.I))
    return out


def _typed(question: str, phrases) -> str | None:
    """The first of ``phrases`` found in ``question`` as whole words, as the question spells it."""
    for phrase in phrases:
        if not phrase or not phrase.strip():
            continue
        m = re.search(rf"(?<![\w$]){re.escape(phrase.strip())}(?!\w)", question, re.I)
        if m:
            return m.group(0)
    return None


def _amount_phrases(question: str, words: str) -> list[str]:
    return [m.group(0) for m in re.finditer(rf"\b(?:{words})\s+\$?\s*\d[\d,.]*\s*(?:k|m|thousand|million)?\b",
                                            question, re.I)]


def _group_phrases(question: str, group: str) -> list[str]:
    word = group.replace("_", " ")
    return [m.group(0) for m in re.finditer(rf"\b(?:by|per|for each|each)\s+(?:the\s+)?{re.escape(word)}\w*",
                                            question, re.I)]


def clarification(route: Route, reading: Reading, answer):
    """An answer that asks, instead of a figure that would ignore part of the question."""
    from agents.answer import Answer

    words = [w for w, _ in reading.questionable]
    kinds = list(dict.fromkeys(why for _, why in reading.questionable))
    quoted = ", ".join(f"“{w}”" for w in dict.fromkeys(words))
    understood = reading.describe()
    text = (f"I did not understand {quoted} ({' and '.join(kinds)}), so I have not answered: the figure would "
            f"ignore it. I read the rest as: {understood or route.text}. Could you rephrase that part, or ask "
            "without it?")
    without = re.sub(r"\s+", " ", " ".join(w for w in re.findall(r"\S+", route.text)
                                            if w.strip("?,.!").lower() not in {x.lower() for x in words})).strip()
    follow_ups = [without] if without and without.lower() != route.text.lower() else []
    return Answer(question=route.text, text=text, path="planner", agent=answer.agent, intent="clarify",
                  entities=answer.entities, follow_ups=follow_ups, error="clarify",
                  extra={"reading": reading.to_dict(), "withheld": answer.intent})


# --- spelling ------------------------------------------------------------------------------------------------

ABBREVIATIONS = {"hw": "how", "yr": "year", "yrs": "years", "qtr": "quarter", "qtrs": "quarters", "mo": "month",
                 "mos": "months", "wk": "week", "wks": "weeks", "cust": "customer", "custs": "customers",
                 "acct": "account", "accts": "accounts", "opp": "opportunity", "opps": "opportunities",
                 "amt": "amount", "avg": "average", "tot": "total", "thx": "thanks", "pls": "please", "plz": "please"}


def lexicon(vocabulary, agents) -> set[str]:
    """Every word the assistant knows: the warehouse's values, the agents' and the router's words, fillers."""
    words: set[str] = set(FILLER)
    for phrase in vocabulary.index:
        words.update(w for w in phrase if w.isalpha())
    sources = [r.pattern for r in (TOP_N, GROUP_RE, TREND_RE)] + [p for p, _ in ORDER_STATUS_PHRASES + HEALTH_PHRASES]
    for agent in agents.values():
        sources += list(getattr(agent, "keywords", {}) or {}) + list(getattr(agent, "vocabulary", ()) or ())
    sources += list(QUESTIONABLE)
    for source in sources:
        words.update(re.findall(r"[a-z]{3,}", source.lower().replace("\\b", " ")))
    words.update(["orders", "order", "customers", "revenue", "pipeline", "deals", "bookings", "quarter", "month",
                  "year", "week", "today", "yesterday", "invoices", "products", "reps", "territory", "region",
                  "pending", "fulfillment", "fulfilment", "opportunities", "activities", "meetings", "calls",
                  "emails", "average", "total", "count", "many", "much"])
    return words


_words = None


def _english():
    """English words (pyspellchecker's offline frequency list), loaded once."""
    global _words
    if _words is None:
        from spellchecker import SpellChecker

        _words = SpellChecker(distance=1).word_frequency
    return _words


# Two-word terms whose second word, misspelt, is still an English word ("win rat"): mended as a pair.
TERMS = ("win rate", "win ratio", "order value", "deal size", "sales cycle", "open pipeline", "close date",
         "credit limit", "open balance", "list price", "forecast category", "quota attainment", "lead time")


def _mend_terms(question: str, corrections: list[tuple[str, str]]) -> str:
    from rapidfuzz.distance import OSA

    def mend(m: re.Match) -> str:
        pair = f"{m.group(1).lower()} {m.group(2).lower()}"
        for term in TERMS:
            if pair != term and term.split()[0] == m.group(1).lower() and OSA.distance(pair, term) == 1:
                corrections.append((m.group(2), term.split()[1]))
                return f"{m.group(1)} {term.split()[1]}"
        return m.group(0)

    return re.sub(r"\b([A-Za-z]+)\s+([A-Za-z]+)\b", mend, question)


def correct_spelling(question: str, known: set[str]) -> tuple[str, list[tuple[str, str]]]:
    """The question with misspelt words mended ("ordrs" → "orders", "shwo" → "show"), and the corrections made."""
    from rapidfuzz import fuzz, process
    from rapidfuzz.distance import OSA

    corrections: list[tuple[str, str]] = []
    question = _mend_terms(question, corrections)

    english = _english()

    def mend(m: re.Match) -> str:
        word = m.group(0)
        lw = word.lower()
        if lw in known or not lw.isalpha() or word[:1].isupper() and m.start() > 0:
            return word
        if lw not in ABBREVIATIONS and lw in english:  # a real word ("older", "lose"): never "corrected"
            return word
        if lw in ABBREVIATIONS:
            fixed = ABBREVIATIONS[lw]
        elif len(lw) >= 4:
            best = process.extractOne(lw, known, scorer=fuzz.ratio, score_cutoff=82)
            if best is None or abs(len(best[0]) - len(lw)) > 2:
                # two letters swapped ("shwo", "opne"): one edit for OSA, two for plain ratio
                swapped = process.extractOne(lw, known, scorer=OSA.distance, score_cutoff=1)
                if swapped is None or len(swapped[0]) != len(lw):
                    return word
                best = swapped
            fixed = best[0]
        else:
            return word
        corrections.append((word, fixed))
        return fixed

    mended = re.sub(r"[A-Za-z]+", mend, question)
    return mended, corrections
