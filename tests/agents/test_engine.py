"""The engine answers every question, however odd, with something a person can act on."""

from __future__ import annotations

import pytest

from agents import Scope, ask
from agents.conversations import SQLiteConversationStore


@pytest.mark.parametrize("question", ["?!", "...", "\x00"])
def test_a_question_with_nothing_to_route_gets_help_not_an_error(synthetic, tmp_path, question):
    answer = ask(question, Scope.all(), settings=synthetic, store=SQLiteConversationStore(tmp_path / "c.sqlite"))
    assert answer.intent == "help" and "for example" in answer.text.lower()
    assert answer.follow_ups, "suggest questions the person can ask instead"
