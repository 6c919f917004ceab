"""An open draft order edited from the chat (issue 16, point 6): quantity, price, added and removed lines, a
different item; an edit that cannot be read keeps the draft and says what can be said."""

from __future__ import annotations

from agents import Scope, ask
from agents.conversations import SQLiteConversationStore


def test_a_draft_is_edited_turn_by_turn(synthetic, tmp_path):
    store = SQLiteConversationStore(tmp_path / "c.sqlite")
    rep_a = Scope.rep("005A")

    def say(text, conversation=None):
        return ask(text, rep_a, settings=synthetic, store=store, conversation_id=conversation)

    first = say("Create a sales order for Disney, 500 hats, $50 each")
    conversation = first.conversation_id
    (line,) = first.draft["lines"]
    assert (line["quantity"], line["unit_price"], first.draft["total"]) == (500, 50.0, 25000.0)

    more = say("make it 600", conversation)
    assert more.draft["lines"][0]["quantity"] == 600 and more.draft["total"] == 30000.0
    cheaper = say("change the price to $45", conversation)
    assert cheaper.draft["lines"][0]["unit_price"] == 45.0 and cheaper.draft["total"] == 27000.0
    added = say("add 100 tumblers", conversation)
    names = [l["product_name"] for l in added.draft["lines"]]
    assert len(names) == 2 and "Tumbler" in names[1] and added.draft["lines"][1]["quantity"] == 100
    assert added.draft["total"] == 27000.0 + 100 * 22.0
    removed = say("remove the tumblers", conversation)  # an edit of the draft, not a write: not refused
    assert not removed.refused and [l["product_name"] for l in removed.draft["lines"]] == names[:1]
    unclear = say("change the colour of the sky", conversation)
    assert unclear.intent == "transactions.clarify" and unclear.draft == removed.draft
    assert "make it 600" in unclear.text
    assert removed.draft["customer"]["customer_name"] == "Disney"
    assert removed.draft["edits"][:2] == ["quantity of Premium Leather-Patch Cap to 600",
                                          "price of Premium Leather-Patch Cap to $45.00"]
