"""Every endpoint for every role: the expected status, and no row outside the caller's scope.

The demo logins are mapped to real people of the demo company; what each may see is worked out here from the
marts directly (rep id and territory of every row), never from the API's own answers.
"""

from __future__ import annotations

import time

import pytest

from .fixtures import ROLES
from .helpers import mint, scope_for

pytestmark = pytest.mark.slow


def in_scope(role: str, person: dict, row: dict) -> bool:
    if role in ("sales_exec", "finance_viewer"):
        return True
    if role == "sales_manager":
        return row.get("territory") == person["territory"]
    return row.get("rep_id") == person["rep_id"]


@pytest.fixture(scope="module")
def people(api):
    for role in ROLES:
        api.login(role)
    return api.people


@pytest.fixture(scope="module")
def fixtures(api, people, marts):
    """Ids inside and outside the rep's and the manager's scope, and drafts to act on."""
    rep, manager = people["sales_rep"], people["sales_manager"]
    inside = marts("SELECT order_id FROM marts.fct_orders WHERE rep_id = ? ORDER BY order_id LIMIT 1", [rep["rep_id"]])
    outside = marts("SELECT order_id FROM marts.fct_orders WHERE territory <> ? ORDER BY order_id LIMIT 1",
                    [manager["territory"]])
    own_customer = marts("SELECT customer_id FROM marts.dim_customers WHERE rep_id = ? AND netsuite_customer_id IS NOT NULL "
                         "ORDER BY lifetime_revenue DESC NULLS LAST LIMIT 1", [rep["rep_id"]])[0]["customer_id"]
    product = marts("SELECT product_id, list_price FROM marts.dim_products WHERE is_active AND quantity_available > 10 "
                    "ORDER BY product_id LIMIT 1")[0]
    with api.as_role("sales_exec") as execs:
        body = {"customer_id": own_customer, "lines": [{"product_id": product["product_id"], "quantity": 1}]}
        mine = execs.post("/api/v1/orders", json=body).json()  # a draft for the rep's customer
        foreign_customer = marts("SELECT customer_id FROM marts.dim_customers WHERE territory <> ? "
                                 "AND netsuite_customer_id IS NOT NULL LIMIT 1", [manager["territory"]])[0]["customer_id"]
        invalid = {"customer_id": foreign_customer,  # below the floor price: approving it must be refused
                   "lines": [{"product_id": product["product_id"], "quantity": 1, "unit_price": 0.01}]}
        foreign = execs.post("/api/v1/orders", json=invalid).json()
        assert not foreign["valid"]
    names = {}
    for role in ROLES:
        condition, params = {"sales_manager": ("territory = ?", [manager["territory"]]),
                             "sales_rep": ("rep_id = ?", [rep["rep_id"]])}.get(role, ("1 = 1", []))
        names[role] = {r["customer_name"] for r in marts(f"SELECT customer_name FROM marts.dim_customers "
                                                         f"WHERE {condition}", params)}
    return {"customer_names": names, "order_inside": inside[0]["order_id"], "order_outside": outside[0]["order_id"],
            "tx_inside": mine["id"], "tx_outside": foreign["id"], "customer": own_customer, "product": product}


ALL = {role: 200 for role in ROLES}
WRITE = {"sales_exec": 201, "sales_manager": 201, "sales_rep": 201, "finance_viewer": 403}


def endpoints(f):
    order_body = {"customer_id": f["customer"], "lines": [{"product_id": f["product"]["product_id"], "quantity": 1}]}
    return [
        ("GET", "/api/v1/auth/me", None, ALL),
        ("GET", "/api/v1/dashboard/overview", None, ALL),
        ("GET", "/api/v1/dashboard/overview?period=month", None, ALL),
        ("GET", "/api/v1/dashboard/pipeline", None, ALL),
        ("GET", "/api/v1/dashboard/orders", None, ALL),
        ("GET", "/api/v1/dashboard/customers", None, ALL),
        ("GET", "/api/v1/dashboard/products", None, ALL),
        ("GET", "/api/v1/orders?limit=100", None, ALL),
        ("GET", f"/api/v1/orders/{f['order_inside']}", None, ALL),
        ("GET", f"/api/v1/orders/{f['order_outside']}", None,
         {"sales_exec": 200, "finance_viewer": 200, "sales_manager": 404, "sales_rep": 404}),
        ("POST", "/api/v1/orders", order_body,
         {"sales_exec": 201, "sales_manager": 201, "sales_rep": 201, "finance_viewer": 403}),
        ("GET", "/api/v1/customers?limit=100", None, ALL),
        ("GET", "/api/v1/products?limit=20", None, ALL),
        ("POST", "/api/v1/query/ask", {"question": "list the customers"}, ALL),
        ("GET", "/api/v1/insights", None, ALL),
        ("GET", "/api/v1/conversations", None, ALL),
        ("POST", "/api/v1/transactions/create", {"sentence": "Create a sales order for Disney, 5 hats, $50 each"}, WRITE),
        ("GET", "/api/v1/transactions", None, ALL),
        ("GET", f"/api/v1/transactions/{f['tx_inside']}", None, ALL),
        ("GET", f"/api/v1/transactions/{f['tx_outside']}", None,
         {"sales_exec": 200, "finance_viewer": 200, "sales_manager": 404, "sales_rep": 404}),
        ("GET", f"/api/v1/transactions/{f['tx_inside']}/pdf", None, ALL),
        ("PATCH", f"/api/v1/transactions/{f['tx_outside']}", {"memo": "checked"},
         {"sales_exec": 200, "finance_viewer": 403, "sales_manager": 404, "sales_rep": 404}),
        ("POST", f"/api/v1/transactions/{f['tx_outside']}/approve", None,
         {"sales_exec": 422, "finance_viewer": 403, "sales_manager": 404, "sales_rep": 404}),
        ("POST", f"/api/v1/transactions/{f['tx_outside']}/reject", None,
         {"sales_exec": 200, "finance_viewer": 403, "sales_manager": 404, "sales_rep": 404}),
    ]


def rows_of(path: str, body: dict) -> list[dict]:
    """The rows of a response that carry a rep id or a territory."""
    found: list[dict] = []

    def walk(value):
        if isinstance(value, dict):
            if "rep_id" in value or "territory" in value:
                if "user" not in value and "role" not in value:  # not the caller's own echo
                    found.append(value)
            for child in value.values():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    walk(body)
    return found


@pytest.mark.parametrize("role", ROLES)
def test_every_endpoint_answers_each_role_within_its_scope(api, people, fixtures, role):
    person = people[role]
    with api.client(api.login(role)) as client:
        for method, path, body, expected in endpoints(fixtures):
            if role not in expected:
                continue
            response = client.request(method, path, json=body)
            assert response.status_code == expected[role], (role, method, path, response.text[:500])
            if response.status_code != 200 or not response.headers.get("content-type", "").startswith("application/json"):
                continue
            data = response.json()
            if path == "/api/v1/query/ask":  # the answer's table: its customers must be the caller's
                table = [dict(zip(data["columns"], row)) for row in data["rows"]]
                assert table, data["text"]
                names = {r.get("customer_name") for r in table} - {None}
                assert names and names <= fixtures["customer_names"][role], (role, names - fixtures["customer_names"][role])
            outside = [r for r in rows_of(path, data) if not in_scope(role, person, r)
                       and not (r.get("created_by") == person["user"])]
            assert not outside, (role, path, outside[:3])


@pytest.mark.parametrize("role", ROLES)
def test_the_overview_counts_only_rows_in_scope(api, people, marts, role):
    person = people[role]
    condition, params = "1 = 1", []
    if role == "sales_manager":
        condition, params = "territory = ?", [person["territory"]]
    elif role == "sales_rep":
        condition, params = "rep_id = ?", [person["rep_id"]]
    expected_pipeline = marts(f"SELECT coalesce(sum(amount), 0) AS v FROM marts.fct_opportunities "
                              f"WHERE {condition} AND NOT is_closed", params)[0]["v"]
    expected_open = marts(f"SELECT count(*) AS v FROM marts.fct_orders WHERE {condition} "
                          "AND status_group IN ('pending', 'partial')", params)[0]["v"]
    with api.client(api.login(role)) as client:
        metrics = client.get("/api/v1/dashboard/overview").json()["metrics"]
    assert metrics["open_pipeline"] == pytest.approx(float(expected_pipeline), abs=0.01)
    assert metrics["open_orders"] == expected_open


def test_the_demo_logins_are_real_people_of_the_demo_company(people, marts, emulators):
    reference = next(s for s in emulators.stories if s.get("kind") == "reference")
    disney = marts("SELECT rep_id, territory FROM marts.dim_customers WHERE netsuite_customer_id = ?",
                   [reference["disney"]["netsuite_customer_id"]])[0]
    rep = marts("SELECT rep_id, manager_id FROM marts.dim_sales_reps WHERE rep_id = ?", [disney["rep_id"]])[0]
    assert people["sales_rep"]["rep_id"] == disney["rep_id"]
    assert people["sales_manager"]["territory"] == disney["territory"]
    assert people["sales_manager"]["rep_id"] == rep["manager_id"]
    assert people["sales_exec"]["territory"] is None and people["finance_viewer"]["rep_id"] is None


def test_lists_filter_sort_and_page_by_cursor_without_gaps(api, people, marts):
    rep = people["sales_rep"]
    expected = [r["order_id"] for r in marts("SELECT order_id FROM marts.fct_orders WHERE rep_id = ? "
                                             "ORDER BY total_amount DESC, order_id DESC", [rep["rep_id"]])]
    seen, cursor = [], None
    with api.client(api.login("sales_rep")) as client:
        while True:
            params = {"sort": "-total_amount", "limit": 17, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/orders", params=params).json()
            seen += [item["order_id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == expected
        assert client.get("/api/v1/orders", params={"limit": 101}).status_code == 422
        assert client.get("/api/v1/orders", params={"cursor": "not-a-cursor"}).status_code == 400
        pending = client.get("/api/v1/orders", params={"status_group": "pending", "limit": 100}).json()["items"]
        assert pending and all(o["status_group"] == "pending" for o in pending)
        hats = client.get("/api/v1/products", params={"category": "Hats", "sort": "-list_price", "limit": 100}).json()
        prices = [p["list_price"] for p in hats["items"]]
        assert prices == sorted(prices, reverse=True) and all(p["category"] == "Hats" for p in hats["items"])


def test_responses_are_compressed_and_carry_etags(api):
    with api.as_role("sales_exec") as client:
        first = client.get("/api/v1/customers", params={"limit": 100}, headers={"Accept-Encoding": "gzip"})
        assert first.headers["content-encoding"] == "gzip" and first.headers["etag"]
        again = client.get("/api/v1/customers", params={"limit": 100}, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        other = client.get("/api/v1/customers", params={"limit": 99}, headers={"If-None-Match": first.headers["etag"]})
        assert other.status_code == 200


def test_without_a_token_nothing_but_login_answers(api):
    with api.client() as client:
        for path in ("/api/v1/auth/me", "/api/v1/dashboard/overview", "/api/v1/orders", "/api/v1/insights"):
            response = client.get(path)
            assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
        assert client.get("/api/v1/auth/config").status_code == 200
        assert client.get("/health").json()["status"] == "ok"
        assert "scc_api_requests_total" in client.get("/metrics").text


def test_a_manager_without_a_territory_gets_no_scope_at_all(api):
    """No longer a scope that sees nothing (and whose NULL matched drafts without a customer): none is made,
    and a token that says so is refused (tests/api/test_auth.py forges them for both roles)."""
    import jwt

    from api.security import ScopeError, signing_key
    from scc.config import get_settings

    for role, missing in (("sales_manager", "territory"), ("sales_rep", "rep_id")):
        with pytest.raises(ScopeError, match=missing.replace("_", " ")):
            scope_for(role, **{"territory": None, "rep_id": None})
        claims = {"sub": "nobody@test.example", "role": role, "iss": "scc-api", "iat": int(time.time()),
                  "exp": int(time.time()) + 600}
        with api.client(jwt.encode(claims, signing_key(get_settings()), algorithm="HS256")) as client:
            for path in ("/api/v1/orders", "/api/v1/dashboard/overview"):
                response = client.get(path)
                assert response.status_code == 401 and missing.replace("_", " ") in response.json()["detail"]
