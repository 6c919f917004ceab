// Orders: status breakdown, the order-aging heat map (status × days open), bookings by month, and the
// orders themselves: a filterable, sortable, paginated table whose rows open the order with its lines.

import { draw, axis, describe, partialLabels, PALETTE } from "../charts.js";
import { fill, table, field, esc, badge, debounce, $ } from "../ui.js";
import { money, month, words, count } from "../format.js";
import { loadAll } from "./common.js";

const SRC = "dashboard/orders";
const PAGE_SIZE = 25;
const OPEN_STATUSES = ["pending_approval", "pending_fulfillment", "partially_fulfilled", "pending_billing"];
const SORTABLE = { order_number: "asc", order_date: "desc", total_amount: "desc", days_open: "desc" };

/** The heat map's colour of a cell worth t (0–1) of the largest, and a text colour readable on it (WCAG AA):
 *  light blues with dark text for the lower half, dark blues with white text for the upper half (the
 *  middle of the #eff6ff → #1e3a8a scale, where neither text colour reaches 4.5:1, is skipped). */
function heatColour(t) {
  const from = [239, 246, 255];
  const to = [30, 58, 138];
  const dark = t > 0.5;
  const at = dark ? 0.72 + (t - 0.5) * 0.56 : t * 1.2;
  const rgb = from.map((c, i) => Math.round(c + (to[i] - c) * at));
  return { background: `rgb(${rgb.join(",")})`, color: dark ? "#ffffff" : "#0f172a" };
}

export function createOrders(ctx) {
  let panel;
  const list = {
    filters: { q: "", status_group: "", min_amount: "", date_from: ctx.prefs.orders_from || "", date_to: ctx.prefs.orders_to || "" },
    sort: "-order_date",
    cursors: [null],
    page: 0,
    next: null,
  };

  function mount(element) {
    panel = element;
    const f = list.filters;
    panel.innerHTML = `
      <div class="panel-head"><div><h2>Orders</h2>
        <p class="as-of" data-section="head" data-src="${SRC}">As of ${field("as_of", "date")}</p></div></div>
      <div class="grid three">
        <figure class="card"><h3 id="open-status-title">Open orders by status</h3>
          <div class="chart-box"><canvas id="chart-open-status"></canvas></div></figure>
        <figure class="card"><h3 id="status-90-title">All orders of the last 90 days by status</h3>
          <div class="chart-box"><canvas id="chart-status-90"></canvas></div></figure>
        <figure class="card"><h3 id="bookings-month-title">Bookings by month</h3>
          <div class="chart-box"><canvas id="chart-bookings-month"></canvas></div></figure>
      </div>
      <div class="grid wide-left">
        <section class="card" data-section="heatmap" data-src="${SRC}" aria-labelledby="heatmap-title">
          <h3 id="heatmap-title">Order aging: open orders by status and days open</h3>
          <div class="body"></div>
          <p class="legend-scale" aria-hidden="true">less value <span class="bar"></span> more value</p>
        </section>
        <section class="card" data-section="open-status" data-src="${SRC}"><h3>Open orders</h3><div class="body"></div></section>
      </div>
      <section class="card" data-section="list" aria-labelledby="orders-list-title">
        <h3 id="orders-list-title">All orders</h3>
        <form class="filters" id="orders-filters" role="search" aria-label="Filter the orders">
          <div class="field"><label for="orders-q">Order number or customer</label>
            <input id="orders-q" name="q" type="search" value="${esc(f.q)}" placeholder="e.g. SO1030 or Disney"></div>
          <div class="field"><label for="orders-status">Status</label>
            <select id="orders-status" name="status_group">
              <option value="">Any</option><option value="pending">Pending</option><option value="partial">Partially fulfilled</option>
              <option value="fulfilled">Fulfilled</option><option value="cancelled">Cancelled</option></select></div>
          <div class="field"><label for="orders-min">Min. amount ($)</label>
            <input id="orders-min" name="min_amount" type="number" min="0" step="1000" value="${esc(f.min_amount)}"></div>
          <div class="field"><label for="orders-from">From</label>
            <input id="orders-from" name="date_from" type="date" value="${esc(f.date_from)}"></div>
          <div class="field"><label for="orders-to">To</label>
            <input id="orders-to" name="date_to" type="date" value="${esc(f.date_to)}"></div>
          <button type="reset" class="btn">Clear</button>
        </form>
        <div class="body" data-section="orders-table" aria-live="polite"></div>
        <div class="pager">
          <button type="button" class="btn small" id="orders-prev">← Previous</button>
          <span id="orders-page" class="muted small"></span>
          <button type="button" class="btn small" id="orders-next">Next →</button>
        </div>
      </section>`;

    const form = $("#orders-filters", panel);
    const changed = () => {
      const data = new FormData(form);
      const filters = Object.fromEntries(Object.keys(list.filters).map((key) => [key, String(data.get(key) || "").trim()]));
      if (JSON.stringify(filters) === JSON.stringify(list.filters)) return; // typing and then leaving the field
      list.filters = filters;
      ctx.savePrefs({ orders_from: list.filters.date_from, orders_to: list.filters.date_to });
      list.cursors = [null];
      list.page = 0;
      loadList();
    };
    form.addEventListener("input", debounce(changed, 350));
    form.addEventListener("change", changed);
    form.addEventListener("submit", (event) => { event.preventDefault(); changed(); });
    form.addEventListener("reset", () => setTimeout(changed, 0));
    $("#orders-prev", panel).addEventListener("click", () => {
      if (list.page > 0) { list.page -= 1; loadList(); }
    });
    $("#orders-next", panel).addEventListener("click", () => {
      if (list.next) { list.cursors[list.page + 1] = list.next; list.page += 1; loadList(); }
    });
    panel.addEventListener("click", (event) => {
      const sorter = event.target.closest("button[data-sort]");
      if (sorter) {
        const key = sorter.dataset.sort;
        const current = list.sort.replace(/^-/, "");
        const descending = current === key ? !list.sort.startsWith("-") : SORTABLE[key] === "desc";
        list.sort = (descending ? "-" : "") + key;
        list.cursors = [null];
        list.page = 0;
        loadList(true);
        return;
      }
      const opener = event.target.closest("button[data-order-id]");
      if (opener) openOrder(opener.dataset.orderId, opener);
    });
  }

  function listSrc() {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(list.filters)) if (value) params.set(key, value);
    params.set("sort", list.sort);
    params.set("limit", String(PAGE_SIZE));
    const cursor = list.cursors[list.page];
    if (cursor) params.set("cursor", cursor);
    return `orders?${params}`;
  }

  function sortHeader(label, key, num = false) {
    const current = list.sort.replace(/^-/, "");
    const state = current === key ? (list.sort.startsWith("-") ? "descending" : "ascending") : "none";
    return `<th scope="col"${num ? ' class="num"' : ""} aria-sort="${state}"><button type="button" class="sort" data-sort="${key}">${esc(label)}</button></th>`;
  }

  function applyList(data) {
    const box = panel.querySelector('[data-section="orders-table"]');
    box.dataset.src = listSrc();
    const rows = data.items || [];
    // approved here, accepted by NetSuite, not in the marts yet: at the top, until the next sync brings them
    const syncing = list.page === 0 ? data.syncing || [] : [];
    list.next = data.next_cursor || null;
    if (!rows.length && !syncing.length) {
      box.innerHTML = `<p class="empty">No orders match these filters.</p>`;
    } else {
      box.innerHTML = `<div class="table-wrap"><table><caption class="visually-hidden">Orders, sorted by ${esc(words(list.sort.replace(/^-/, "")))}</caption>
        <thead><tr>${sortHeader("Order", "order_number")}<th scope="col">Customer</th>${sortHeader("Date", "order_date")}
          <th scope="col">Status</th>${sortHeader("Total", "total_amount", true)}<th scope="col" class="num">Fulfilled</th>
          ${sortHeader("Days open", "days_open", true)}</tr></thead>
        <tbody>${syncing.map((row, i) => `<tr data-syncing="${esc(row.transaction_id)}">
          <td><span data-field="syncing.${i}.order_number" data-format="text">${esc(row.order_number)}</span></td>
          <td>${field(`syncing.${i}.customer_name`)}</td>
          <td>${field(`syncing.${i}.order_date`, "date")}</td>
          <td><span class="badge submitted_syncing" title="NetSuite has it; the next sync brings it into the figures">Submitted, syncing</span></td>
          <td class="num">${field(`syncing.${i}.total_amount`, "money-full")}</td>
          <td class="num">—</td><td class="num">—</td></tr>`).join("")}${rows.map((row, i) => `<tr>
          <td><button type="button" class="link-btn" data-order-id="${esc(row.order_id)}" aria-haspopup="dialog"
            data-field="items.${i}.order_number" data-format="text">${esc(row.order_number)}</button></td>
          <td>${field(`items.${i}.customer_name`)}</td>
          <td>${field(`items.${i}.order_date`, "date")}</td>
          <td>${badge(row.status)}</td>
          <td class="num">${field(`items.${i}.total_amount`, "money-full")}</td>
          <td class="num">${field(`items.${i}.fulfillment_pct`, "percent-value")}</td>
          <td class="num">${field(`items.${i}.days_open`, "count")}</td></tr>`).join("")}</tbody></table></div>`;
      fill(box, data);
    }
    $("#orders-prev", panel).disabled = list.page === 0;
    $("#orders-next", panel).disabled = !list.next;
    $("#orders-page", panel).textContent = `Page ${list.page + 1}${rows.length ? `, orders ${list.page * PAGE_SIZE + 1}–${list.page * PAGE_SIZE + rows.length}` : ""}`;
  }

  async function loadList(focusSort = false) {
    const box = panel.querySelector('[data-section="orders-table"]');
    box.setAttribute("aria-busy", "true");
    try {
      applyList(await ctx.api.get(listSrc()));
      if (focusSort) panel.querySelector(`th button[data-sort="${list.sort.replace(/^-/, "")}"]`)?.focus();
    } catch (error) {
      box.innerHTML = `<p class="state-error" role="alert">Could not load the orders: ${esc(error.message)}</p>`;
    } finally {
      box.removeAttribute("aria-busy");
    }
  }

  function apply(data, quiet) {
    // the heat map: open statuses × age buckets
    const cells = data.aging_heatmap?.cells || [];
    const buckets = data.aging_heatmap?.buckets || [];
    const statuses = [...new Set([...OPEN_STATUSES.filter((s) => cells.some((c) => c.status === s)), ...cells.map((c) => c.status)])];
    const largest = Math.max(1, ...cells.map((c) => c.amount));
    const heat = panel.querySelector('[data-section="heatmap"] .body');
    heat.innerHTML = cells.length ? `<div class="table-wrap"><table class="heatmap">
      <caption class="visually-hidden">Open orders by status (rows) and days open (columns): number of orders and their value</caption>
      <thead><tr><th scope="col">Status</th>${buckets.map((b) => `<th scope="col" class="num">${esc(b)} days</th>`).join("")}</tr></thead>
      <tbody>${statuses.map((status) => `<tr><th scope="row">${esc(words(status))}</th>${buckets.map((bucket) => {
        const index = cells.findIndex((c) => c.status === status && c.age_days === bucket);
        if (index < 0) return `<td class="cell" style="background:${heatColour(0).background}">0</td>`;
        const colour = heatColour(cells[index].amount / largest);
        return `<td class="cell" style="background:${colour.background};color:${colour.color}">
          ${field(`aging_heatmap.cells.${index}.orders`, "count", { cls: "orders" })}<span class="visually-hidden"> orders worth </span>
          ${field(`aging_heatmap.cells.${index}.amount`, "money", { cls: "amount" })}</td>`;
      }).join("")}</tr>`).join("")}</tbody></table></div>` : `<p class="empty">No open orders.</p>`;

    panel.querySelector('[data-section="open-status"] .body').innerHTML = table({
      caption: "Open orders by status", listPath: "open_by_status", rows: data.open_by_status, empty: "No open orders.",
      columns: [{ label: "Status", key: "status", kind: "words" }, { label: "Orders", key: "orders", kind: "count", num: true },
        { label: "Value", key: "amount", kind: "money", num: true }],
    });
    for (const box of panel.querySelectorAll(`[data-src="${SRC}"]`)) fill(box, data, { flash: quiet });

    const open = data.open_by_status || [];
    draw(panel.querySelector("#chart-open-status"), {
      type: "bar",
      data: { labels: open.map((r) => words(r.status)), datasets: [{ label: "Orders", data: open.map((r) => r.orders),
        backgroundColor: open.map((_, i) => PALETTE[i % PALETTE.length]) }] },
      options: { scales: { y: { ...axis.count, beginAtZero: true } }, plugins: { legend: { display: false },
        tooltip: { callbacks: { label: (c) => `${count(c.parsed.y)} orders, ${money(open[c.dataIndex].amount)}` } } } },
    }, describe("Open orders by status", open.map((r) => words(r.status)), open.map((r) => r.orders), count));

    const recent = data.status_last_90d || [];
    draw(panel.querySelector("#chart-status-90"), {
      type: "doughnut",
      data: { labels: recent.map((r) => words(r.status)), datasets: [{ data: recent.map((r) => r.orders),
        backgroundColor: recent.map((_, i) => PALETTE[i % PALETTE.length]) }] },
      options: { plugins: { legend: { position: "right" } } },
    }, describe("Orders of the last 90 days by status", recent.map((r) => words(r.status)), recent.map((r) => r.orders), count));

    const monthly = data.bookings_by_month || [];
    const partial = monthly.length > 0 && month(monthly.at(-1).month) === month(data.as_of);  // this month, so far
    const months = partialLabels(monthly.map((r) => month(r.month)), partial);
    draw(panel.querySelector("#chart-bookings-month"), {
      type: "bar",
      data: { labels: months, datasets: [{ label: "Bookings", data: monthly.map((r) => r.bookings),
        backgroundColor: monthly.map((_, i) => (partial && i === monthly.length - 1 ? "rgba(29,78,216,.45)" : PALETTE[0])) }] },
      options: { scales: { y: { ...axis.money, beginAtZero: true } }, plugins: { legend: { display: false },
        tooltip: { callbacks: { label: (c) => money(c.parsed.y) } } } },
    }, describe("Bookings by month", months, monthly.map((r) => r.bookings)));
  }

  async function openOrder(orderId, opener) {
    const dialog = document.getElementById("order-dialog");
    const body = document.getElementById("order-dialog-body");
    const title = document.getElementById("order-dialog-title");
    title.textContent = "Order";
    body.innerHTML = `<p class="muted">Loading…</p>`;
    body.removeAttribute("data-src");
    if (!dialog.open) dialog.showModal();
    dialog.querySelector("[data-close]").onclick = () => dialog.close();
    dialog.onclose = () => opener?.focus();
    try {
      const order = await ctx.api.get(`orders/${encodeURIComponent(orderId)}`);
      title.textContent = `Order ${order.order_number}`;
      body.dataset.src = `orders/${orderId}`;
      body.innerHTML = `<dl class="facts">
          <div><dt>Customer</dt><dd>${field("customer_name")}</dd></div>
          <div><dt>Order date</dt><dd>${field("order_date", "date")}</dd></div>
          <div><dt>Status</dt><dd>${badge(order.status)}</dd></div>
          <div><dt>Total</dt><dd>${field("total_amount", "money-full")}</dd></div>
          <div><dt>Fulfilled</dt><dd>${field("fulfillment_pct", "percent-value")}</dd></div>
          <div><dt>Days open</dt><dd>${field("days_open", "count")}</dd></div>
          <div><dt>Territory</dt><dd>${field("territory")}</dd></div>
          <div><dt>Source</dt><dd>${field("source_system", "words")}</dd></div>
        </dl>
        <h3>Lines</h3>
        ${table({ caption: `Lines of order ${order.order_number}`, listPath: "lines", rows: order.lines, empty: "This order has no lines.",
          columns: [{ label: "#", key: "line_number", kind: "count" }, { label: "SKU", key: "sku" }, { label: "Product", key: "product_name" },
            { label: "Quantity", key: "quantity", kind: "count", num: true }, { label: "Unit price", key: "unit_price", kind: "money-full", num: true },
            { label: "Amount", key: "amount", kind: "money-full", num: true }, { label: "Fulfilled", key: "quantity_fulfilled", kind: "count", num: true },
            { label: "Billed", key: "quantity_billed", kind: "count", num: true }] })}`;
      fill(body, order);
    } catch (error) {
      body.innerHTML = `<p class="state-error" role="alert">Could not load the order: ${esc(error.message)}</p>`;
    }
  }

  async function load({ quiet = false } = {}) {
    await loadAll(ctx, panel, "orders", [
      { src: SRC, apply },
      { src: listSrc(), apply: (data) => applyList(data) },
    ], { quiet });
  }

  return { id: "orders", mount, load };
}
