// Overview: the headline figures (KPI cards), the bookings trend against last year, the latest insights.
// The KPI cards update in place from the live connection (snapshot and refresh messages).

import { draw, axis, describe, partialLabels, dashedLast, PALETTE, GREY } from "../charts.js";
import { field, fill, kpi, esc, badge } from "../ui.js";
import { money, month } from "../format.js";
import { loadAll } from "./common.js";

const PERIODS = { month: "Month to date", quarter: "Quarter to date", year: "Year to date" };
// Figures of the chosen period; every other figure is the same whatever the period.
const PERIOD_FIGURES = new Set(["bookings", "orders", "average_order_value", "billings", "closed_won", "deals_won",
  "deals_lost", "win_rate"]);

export function createOverview(ctx) {
  let panel;
  let overview = null;

  const period = () => (PERIODS[ctx.prefs.period] ? ctx.prefs.period : "quarter");
  const src = () => `dashboard/overview?period=${period()}`;

  function cards() {
    const mine = ctx.me.role === "sales_rep";
    const p = period();
    const periodName = { month: "this month", quarter: "this quarter", year: "this year" }[p];
    const span = (path) => `${field(`${path}.start`, "date")} – ${field(`${path}.end`, "date")}`;
    // the comparison with the period before (the same days of it), on the card of the chosen period
    const before = `<span class="delta" data-delta="metrics.bookings|previous.bookings"></span> vs ${field("previous.bookings", "money")}, ${span("previous_period")} (the same days of the ${p} before)`;
    // one card per stretch of days: the chosen period's comparison goes on the card of that period
    const toDate = (id, label, key, windowKey, ofPeriod) => kpi({ id, label, path: `metrics.${key}`,
      what: `NetSuite orders dated ${span(`windows.${windowKey}`)}, cancelled ones left out`,
      sub: [`<span class="delta" data-delta="metrics.${key}|metrics.${key}_last_year"></span> vs ${field(`metrics.${key}_last_year`, "money")}, ${span(`windows.${windowKey}_last_year`)}`,
        p === ofPeriod ? before : ""] });
    return [
      toDate("bookings-mtd", "Bookings month to date", "bookings_mtd", "month_to_date", "month"),
      toDate("bookings-qtd", "Bookings quarter to date", "bookings_qtd", "quarter_to_date", "quarter"),
      p === "year" ? kpi({ id: "bookings-period", label: "Bookings year to date", path: "metrics.bookings",
        what: `NetSuite orders dated ${span("period")}, cancelled ones left out`,
        sub: [before, `${field("metrics.orders", "count")} orders`] }) : "",
      kpi({ id: "orders-today", label: "Orders today", path: "metrics.orders_today", kind: "count",
        what: `NetSuite orders dated ${field("as_of", "date")}, cancelled ones left out`,
        sub: `${field("metrics.bookings_today", "money")} booked today` }),
      kpi({ id: "pending-orders", label: "Pending orders", path: "metrics.pending_orders", kind: "count",
        what: "Orders waiting for approval or for fulfilment, now",
        sub: `worth ${field("metrics.pending_order_value", "money")}; ${field("metrics.open_orders", "count")} open in all` }),
      kpi({ id: "open-pipeline", label: "Open pipeline", path: "metrics.open_pipeline",
        what: "Amount of the Salesforce deals not yet won or lost, now",
        sub: `${field("metrics.open_opportunities", "count")} open deals, ${field("metrics.stalled_deals", "count")} stalled` }),
      kpi({ id: "weighted-pipeline", label: "Weighted pipeline", path: "metrics.weighted_pipeline",
        what: "Each open deal's amount × its stage's probability, now", sub: "amount × probability" }),
      kpi({ id: "win-rate", label: `Win rate ${periodName}`, path: "metrics.win_rate", kind: "percent",
        what: `Salesforce deals won / deals won or lost, closed ${span("period")}`,
        sub: `${field("metrics.deals_won", "count")} won, ${field("metrics.deals_lost", "count")} lost; was ${field("previous.win_rate", "percent")} over ${span("previous_period")} (the same days of the ${p} before)` }),
      kpi({ id: "quota", label: mine ? "My quota attainment" : "Quota attainment", path: "metrics.quota_attainment",
        kind: "percent", meter: "metrics.quota_attainment",
        what: `Won Salesforce deals' amounts against the quarter's quota, ${span("windows.quarter_to_date")} (bookings count NetSuite orders instead)`,
        sub: `${field("metrics.closed_won_qtd", "money")} won of ${field("metrics.quota_qtd", "money")} this quarter` }),
      kpi({ id: "receivables", label: "Open receivables", path: "metrics.open_receivables",
        what: "Unpaid NetSuite invoices, now",
        sub: `${field("metrics.overdue_receivables", "money")} overdue` }),
    ].join("");
  }

  function mount(element) {
    panel = element;
    panel.innerHTML = `
      <div class="panel-head">
        <div><h2>Overview</h2><p class="as-of" data-section="as-of">As of ${field("as_of", "date")}; ${field("period.start", "date")} to ${field("period.end", "date")}</p></div>
        <div class="field">
          <label for="overview-period">Period</label>
          <select id="overview-period">${Object.entries(PERIODS).map(([value, label]) =>
            `<option value="${value}"${value === period() ? " selected" : ""}>${label}</option>`).join("")}</select>
        </div>
      </div>
      <div class="kpis" role="group" data-section="kpis" aria-label="Key figures"></div>
      <div class="grid wide-left">
        <figure class="card" data-section="trend">
          <h3 id="overview-trend-title">Bookings by month, against a year before</h3>
          <div class="chart-box tall"><canvas id="chart-bookings-trend"></canvas></div>
        </figure>
        <section class="card" data-section="insights" data-src="insights" aria-labelledby="insights-title">
          <h3 id="insights-title">Latest insights</h3>
          <p class="insight-summary" data-field="summary" data-format="text"></p>
          <ul class="insights"></ul>
        </section>
      </div>`;
    panel.querySelector("#overview-period").addEventListener("change", (event) => {
      ctx.savePrefs({ period: event.target.value });
      renderCards();
      load();
    });
    renderCards();
  }

  function renderCards() {
    const box = panel.querySelector('[data-section="kpis"]');
    box.innerHTML = cards();
    box.dataset.src = src();
    panel.querySelector('[data-section="as-of"]').dataset.src = src();
    if (overview) fill(box, overview);
  }

  function applyOverview(data, quiet) {
    overview = data;
    for (const name of ["kpis", "as-of"]) {
      const box = panel.querySelector(`[data-section="${name}"]`);
      box.dataset.src = src();
      fill(box, data, { flash: quiet });
    }
    const trend = data.bookings_trend || [];
    const partial = Boolean(trend.at(-1)?.partial);
    const labels = partialLabels(trend.map((row) => month(row.month)), partial);
    // this month so far against the same days a year before, not against the whole month
    const lastYear = trend.map((r) => (r.partial ? r.bookings_last_year_to_date : r.bookings_last_year));
    draw(panel.querySelector("#chart-bookings-trend"), {
      type: "line",
      data: {
        labels,
        datasets: [
          { label: "Bookings", data: trend.map((r) => r.bookings), borderColor: PALETTE[0], backgroundColor: "rgba(29,78,216,.12)", fill: true, cubicInterpolationMode: "monotone", pointRadius: 3,
            segment: dashedLast(trend.length, partial) },
          { label: partial ? "A year before (this month: the same days)" : "A year before", data: lastYear, borderColor: GREY, borderDash: [2, 3], pointRadius: 0, cubicInterpolationMode: "monotone" },
        ],
      },
      options: { scales: { y: { ...axis.money, beginAtZero: true } }, plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${money(c.parsed.y)}` } } } },
    }, describe("Bookings by month", labels, trend.map((r) => r.bookings)));
  }

  function applyInsights(data, quiet) {
    const box = panel.querySelector('[data-section="insights"]');
    box.dataset.src = "insights";
    const items = (data.insights || []).slice(0, 8);
    box.querySelector(".insights").innerHTML = items.length ? items.map((item, i) => `
      <li>${badge(item.severity || "low")}<div><span data-field="insights.${i}.title" data-format="text">${esc(item.title)}</span>
        ${item.action ? `<p class="muted small">${esc(item.action)}</p>` : ""}</div></li>`).join("")
      : `<li class="empty">Nothing needs your attention right now.</li>`;
    const summary = box.querySelector(".insight-summary");
    summary.hidden = !data.summary;
    if (data.summary) summary.setAttribute("data-field", "summary");
    else summary.removeAttribute("data-field");
    fill(box, data, { flash: quiet });
  }

  async function load({ quiet = false } = {}) {
    await loadAll(ctx, panel, "overview", [
      { src: src(), apply: applyOverview },
      { src: "insights", apply: applyInsights, optional: true, fail: (error) => {
        const box = panel.querySelector('[data-section="insights"]');
        box.removeAttribute("data-src");
        box.querySelector(".insight-summary").textContent = "";
        box.querySelector(".insights").innerHTML = `<li class="empty" role="alert">Insights are not available right now (${esc(error.message)}).</li>`;
      } },
    ], { quiet });
  }

  /** Live figures (the overview of the quarter): update the cards in place. */
  function onLive(message) {
    if (!overview || !message.metrics) return;
    const same = period() === "quarter";
    const metrics = { ...overview.metrics };
    for (const [key, value] of Object.entries(message.metrics)) {
      if (same || !PERIOD_FIGURES.has(key)) metrics[key] = value;
    }
    overview = { ...overview, metrics };
    fill(panel.querySelector('[data-section="kpis"]'), overview, { flash: true });
  }

  return { id: "overview", mount, load, onLive };
}
