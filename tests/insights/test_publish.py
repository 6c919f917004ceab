"""After a marts refresh, notable new insights are pushed to the dashboards (``api.cache.publish_event``), each
to the scopes that cover it, once: a second refresh with nothing new pushes nothing."""

from __future__ import annotations

import json

import pytest

from api import cache


class Recording(cache.MemoryStore):
    """The API's in-process store (what ``publish_event`` reaches without Redis), keeping what it is sent."""

    def __init__(self):
        super().__init__()
        self.sent: list[dict] = []

    def publish(self, message: dict) -> None:
        self.sent.append(message)
        super().publish(message)


@pytest.fixture
def store(planted):
    recording = Recording()
    cache.register_local_store(recording)
    try:
        yield recording
    finally:
        cache.register_local_store(None)


def test_notable_new_insights_are_pushed_once_to_the_scopes_that_cover_them(planted, store, stories):
    from agents.insights import compute_insights, refresh_and_publish
    from api.security import Scope as ApiScope

    settings = planted.model_copy(update={"redis_url": None})
    state = planted.data_dir / "insights" / "published.json"
    state.unlink(missing_ok=True)
    first = refresh_and_publish(["fct_orders"], settings=settings)
    assert "error" not in first, first
    events = [m for m in store.sent if m.get("kind") == "insight"]
    high = [i for i in compute_insights(settings=planted).insights if i.severity == "high"]
    assert first["published"] == len(events) == len(high) > 0
    assert {e["data"]["id"] for e in events} == {i.id for i in high}
    stalled = [e for e in events if e["data"]["kind"] == "stalled_deal"]
    owners = {d["opportunity_id"]: d["owner_id"] for d in stories["stalled_deals"]["opportunities"]}
    assert len(stalled) == 3
    for event in stalled:
        owner = owners[event["data"]["facts"]["opportunity_id"]]
        assert event["rep_id"] == owner
        assert ApiScope(user="r", role="sales_rep", rep_id=owner, territory=event["territory"]).covers(
            event["rep_id"], event["territory"])
        others = set(owners.values()) - {owner}
        assert not any(ApiScope(user="o", role="sales_rep", rep_id=o).covers(event["rep_id"], event["territory"])
                       for o in others)
    company_wide = [e for e in events if e["data"]["kind"] == "order_anomaly"]
    assert company_wide and company_wide[0]["rep_id"] is None and company_wide[0]["territory"] is None
    assert not ApiScope(user="r", role="sales_rep", rep_id="x").covers(None, None)
    assert "evidence" not in events[0]["data"] and json.dumps(events)  # small, plain JSON messages
    # nothing new: nothing pushed
    store.sent.clear()
    again = refresh_and_publish(["fct_orders"], settings=settings)
    assert again["new"] == 0 and again["published"] == 0 and not store.sent
    # one that was gone and comes back is new again
    saved = json.loads(state.read_text())
    gone = stalled[0]["data"]["id"]
    del saved["published"][gone]
    state.write_text(json.dumps(saved))
    third = refresh_and_publish(["fct_opportunities"], settings=settings)
    assert third["published"] == 1 and [m["data"]["id"] for m in store.sent] == [gone]


def test_the_refresh_never_raises_and_does_nothing_without_listeners(planted, tmp_path, store):
    from agents.insights import refresh_and_publish

    broken = planted.model_copy(update={"data_dir": tmp_path / "nowhere", "redis_url": None})
    outcome = refresh_and_publish(["fct_orders"], settings=broken)
    assert outcome["published"] == 0 and (outcome.get("error") or outcome["errors"])
    from api import cache

    cache.register_local_store(None)  # no Redis and no API in this process: nobody would hear it
    quiet = refresh_and_publish(["fct_orders"], settings=planted.model_copy(update={"redis_url": None}))
    assert quiet["published"] == 0 and "no dashboards listening" in quiet["note"] and not store.sent
