"""The reading of a question (agents/reading.py, issue 16): every word is used, a filler, or reported;
a word that looks like a filter, period, comparison or condition and went unused gets a question back,
never a figure; typos are mended and shown; a name outside the caller's scope is answered as such."""

from __future__ import annotations

import re

import pytest
import yaml

from agents import Scope, ask
from agents.conversations import SQLiteConversationStore
from agents.reading import FILLER, WORD
from tests.agents.evaluation import load_questions
from tests.agents.heldout import HELDOUT

REP_A = Scope.rep("005A")


@pytest.fixture
def store(tmp_path):
    return SQLiteConversationStore(tmp_path / "conversations.sqlite")


def every_question() -> list[str]:
    held = yaml.safe_load(HELDOUT.read_text())["questions"]
    return [q["question"] for q in load_questions()] + [q["question"] for q in held]


def test_every_word_of_every_question_is_used_or_reported(synthetic, store):
    read = 0
    for question in every_question():
        answer = ask(question, Scope.all(), settings=synthetic, store=store)
        reading = answer.reading or answer.extra.get("reading")
        if not reading:  # refused, drafted, an error, or another path: nothing was read as an answer
            continue
        read += 1
        accounted = {w.lower() for w in reading["used"] + reading["unused"]} | FILLER
        words = {m.group(0).lower().strip(".,") for m in WORD.finditer(answer.question)}
        silent = {w for w in words if w not in accounted and w.rstrip("s") not in FILLER}
        assert not silent, (question, silent, reading)
    assert read > 100


@pytest.mark.parametrize("question, words", [
    ("How many orders did we get this month excluding discounts?", ["excluding"]),
    ("Orders this month compared with the plan", ["compared"]),
    ("What share of bookings comes from our top partners?", ["share"]),
    ("How many orders without a discount this year?", ["without"]),
    ("Orders that are not fulfilled for more than 50 customers", ["50"]),
    ("Win rate of deals created since March", ["since", "March"]),
])
def test_a_filter_like_word_left_unused_gets_a_question_not_a_number(synthetic, store, question, words):
    answer = ask(question, Scope.all(), settings=synthetic, store=store)
    assert answer.intent == "clarify" and not answer.rows, (answer.text, answer.reading)
    assert all(w in answer.text for w in words if w.lower() in answer.text.lower()), answer.text
    assert any(w.lower() in answer.text.lower() for w in words), answer.text
    assert "did not understand" in answer.text


def test_typos_are_mended_and_shown(synthetic, store):
    plain = ask("How many orders this year?", Scope.all(), settings=synthetic, store=store)
    typed = ask("hw many ordrs this yr?", Scope.all(), settings=synthetic, store=store)
    assert typed.rows == plain.rows and typed.rows
    corrections = {c["typed"]: c["read_as"] for c in typed.reading["corrections"]}
    assert corrections == {"hw": "how", "ordrs": "orders", "yr": "year"}


def test_real_words_are_never_corrected(synthetic, store):
    answer = ask("How many deals did we lose last quarter?", Scope.all(), settings=synthetic, store=store)
    assert not answer.reading["corrections"]
    assert "lose" in answer.reading["used"]


@pytest.mark.parametrize("scope, question, name", [
    (REP_A, "How many orders did Pinecrest Foods place this year?", "Pinecrest Foods"),
    (REP_A, "What are Carol Clark's bookings?", "Carol Clark"),
    (Scope.manager("Pacific"), "Show me Lakeside Motors orders", "Lakeside Motors"),
    (Scope.manager("Pacific"), "Bookings in the Midwest this year", "Midwest"),
    (REP_A, "How is the East region doing on bookings?", "East"),
])
def test_a_name_outside_the_callers_scope_is_answered_as_such(synthetic, store, scope, question, name):
    answer = ask(question, scope, settings=synthetic, store=store)
    assert answer.intent == "out_of_scope" and not answer.rows
    assert re.search(rf"“{name}[^”]*” is not in (your book|the Pacific territory)", answer.text), answer.text


def test_an_answer_states_its_reading(synthetic, store):
    answer = ask("Show me pending orders for Disney this month", Scope.all(), settings=synthetic, store=store)
    text = answer.reading["text"]
    assert "customer Disney" in text and "this month" in text and "status pending" in text
    assert {c["kind"] for c in answer.reading["chips"]} >= {"period", "filter"}


@pytest.mark.parametrize("question", ["Show me pending orders for Disney this month", "bookings by region last year",
                                      "top 5 reps by bookings this quarter", "orders over $100K in the West"])
def test_each_chip_names_the_words_it_came_from_and_asking_without_them_drops_it(synthetic, store, question):
    answer = ask(question, Scope.all(), settings=synthetic, store=store)
    removable = [c for c in answer.reading["chips"] if c.get("phrase")]
    assert removable and all(c["phrase"].lower() in question.lower() for c in removable)
    for chip in removable:  # what the assistant tab asks when the chip is removed
        without = re.sub(r"\s{2,}", " ", question.replace(chip["phrase"], "")).strip()
        again = ask(without, Scope.all(), settings=synthetic, store=store)
        assert chip["text"] not in [c["text"] for c in again.reading.get("chips", [])], (without, again.reading)


@pytest.mark.parametrize("question", ["what is our churn rate?", "what's the gross margin on hats?",
                                      "profit by region last year"])
def test_a_measure_the_marts_do_not_hold_is_asked_about_not_replaced(synthetic, store, question):
    answer = ask(question, Scope.all(), settings=synthetic, store=store)
    assert answer.intent in ("clarify", "help") and not answer.rows, (answer.intent, answer.text)


def test_what_a_scope_sees_is_kept_by_column(synthetic, store):
    """A manager's reps (rep ids) and territory (names) come from one mart: asking about a rep first must
    not make their own territory look out of scope."""
    pacific = Scope.manager("Pacific")
    ask("What are Alice Adams's bookings?", pacific, settings=synthetic, store=store)
    answer = ask("Bookings in the Pacific territory this year", pacific, settings=synthetic, store=store)
    assert answer.intent != "out_of_scope" and answer.rows, answer.text
