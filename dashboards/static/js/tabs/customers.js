// Customers: health, top customers, concentration (revenue share of the largest customers), and the
// customers that need attention (declining, at risk).

import { draw, axis, describe, PALETTE, GREY } from "../charts.js";
import { fill, kpi, table, field, badge } from "../ui.js";
import { money, percent, words, count } from "../format.js";
import { loadAll } from "./common.js";

const SRC = "dashboard/customers";
const HEALTH_COLOURS = { healthy: "#15803d", new: "#0891b2", declining: "#d97706", at_risk: "#b91c1c", inactive: "#94a3b8" };

export function createCustomers(ctx) {
  let panel;

  function mount(element) {
    panel = element;
    panel.innerHTML = `
      <div class="panel-head"><div><h2>Customers</h2>
        <p class="as-of" data-section="head" data-src="${SRC}">As of ${field("as_of", "date")}; concentration over the 12 months since ${field("concentration.since", "date")}</p></div></div>
      <div class="kpis" role="group" data-section="kpis" data-src="${SRC}" aria-label="Customer figures">
        ${kpi({ id: "customers", what: "Customers with NetSuite orders in the last 12 months, cancelled ones left out", label: "Buying customers (12 months)", path: "concentration.customers", kind: "count",
          sub: `${field("concentration.revenue", "money")} in orders` })}
        ${kpi({ id: "top-1", what: "The biggest customer's share of the last 12 months' bookings", label: "Largest customer's share", path: "concentration.top_1_share", kind: "percent",
          sub: `${field("concentration.pareto.0.customer_name")}` })}
        ${kpi({ id: "top-10", what: "The 10 biggest customers' share of the last 12 months' bookings", label: "Top 10 customers' share", path: "concentration.top_10_share", kind: "percent",
          sub: `top 5: ${field("concentration.top_5_share", "percent")}` })}
        ${kpi({ id: "hhi", what: "Herfindahl index: the sum of every customer's squared share of 12 months' bookings", label: "Concentration (HHI)", path: "concentration.hhi", kind: "decimal",
          sub: "Σ share²; above 0.15 is concentrated" })}
        ${kpi({ id: "declining", what: "Customers whose last 90 days' bookings fell under 70% of the 90 days before", label: "Declining customers", path: "by_health[health=declining].customers", kind: "count",
          sub: "90-day revenue under 70% of the 90 days before" })}
        ${kpi({ id: "at-risk", what: "Customers with a rhythm of orders, not growing, whose next order is long overdue", label: "Customers at risk", path: "by_health[health=at_risk].customers", kind: "count",
          sub: "not growing, and quiet for over twice their usual gap (business days)" })}
      </div>
      <div class="grid three">
        <figure class="card"><h3 id="health-title">Customers by health</h3>
          <div class="chart-box"><canvas id="chart-health"></canvas></div></figure>
        <figure class="card"><h3 id="top-customers-title">Top customers, last 90 days</h3>
          <div class="chart-box"><canvas id="chart-top-customers"></canvas></div></figure>
        <figure class="card"><h3 id="pareto-title">Concentration: revenue and cumulative share</h3>
          <div class="chart-box"><canvas id="chart-concentration"></canvas></div></figure>
      </div>
      <div class="grid two">
        <section class="card" data-section="top" data-src="${SRC}"><h3>Top customers</h3><div class="body"></div></section>
        <section class="card" data-section="attention" data-src="${SRC}"><h3>Needs attention</h3>
          <p class="card-note">Declining or at-risk customers, largest first.</p><div class="body"></div></section>
      </div>
      <section class="card" data-section="health" data-src="${SRC}"><h3>Health</h3><div class="body"></div></section>`;
  }

  function apply(data, quiet) {
    const customerColumns = [
      { label: "Customer", key: "customer_name" },
      { label: "Territory", key: "territory" },
      { label: "Last 90 days", key: "revenue_last_90d", kind: "money", num: true },
      { label: "90 days before", key: "revenue_prior_90d", kind: "money", num: true },
      { label: "Change", key: "change_pct", kind: "change", num: true },
      { label: "Health", key: "health", render: (row) => badge(row.health) },
    ];
    panel.querySelector('[data-section="top"] .body').innerHTML = table({
      caption: "Top customers by revenue in the last 90 days", listPath: "top_customers", rows: data.top_customers,
      columns: customerColumns, empty: "No orders in the last 90 days." });
    panel.querySelector('[data-section="attention"] .body').innerHTML = table({
      caption: "Customers that are declining or at risk", listPath: "at_risk", rows: data.at_risk, total: data.at_risk_count, totalPath: "at_risk_count",
      columns: [...customerColumns.filter((c) => c.key !== "territory"), { label: "Last order", key: "last_order_date", kind: "date" }],
      empty: "No customer is declining or at risk." });
    panel.querySelector('[data-section="health"] .body').innerHTML = table({
      caption: "Customers by health", listPath: "by_health", rows: data.by_health,
      columns: [{ label: "Health", key: "health", kind: "words" }, { label: "Customers", key: "customers", kind: "count", num: true },
        { label: "Revenue, last 90 days", key: "revenue_last_90d", kind: "money", num: true }] });
    for (const box of panel.querySelectorAll(`[data-src="${SRC}"]`)) fill(box, data, { flash: quiet });

    const health = data.by_health || [];
    draw(panel.querySelector("#chart-health"), {
      type: "doughnut",
      data: { labels: health.map((r) => words(r.health)), datasets: [{ data: health.map((r) => r.customers),
        backgroundColor: health.map((r, i) => HEALTH_COLOURS[r.health] || PALETTE[i]) }] },
      options: { plugins: { legend: { position: "right" } } },
    }, describe("Customers by health", health.map((r) => words(r.health)), health.map((r) => r.customers), count));

    const top = data.top_customers || [];
    draw(panel.querySelector("#chart-top-customers"), {
      type: "bar",
      data: { labels: top.map((r) => r.customer_name), datasets: [
        { label: "Last 90 days", data: top.map((r) => r.revenue_last_90d), backgroundColor: PALETTE[0] },
        { label: "90 days before", data: top.map((r) => r.revenue_prior_90d), backgroundColor: GREY }] },
      options: { indexAxis: "y", scales: { x: { ...axis.money, beginAtZero: true } },
        plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${money(c.parsed.x)}` } } } },
    }, describe("Top customers by revenue in the last 90 days", top.map((r) => r.customer_name), top.map((r) => r.revenue_last_90d)));

    const pareto = data.concentration?.pareto || [];
    draw(panel.querySelector("#chart-concentration"), {
      type: "bar",
      data: { labels: pareto.map((r, i) => `${i + 1}. ${r.customer_name}`), datasets: [
        { type: "bar", label: "Revenue", data: pareto.map((r) => r.revenue), backgroundColor: PALETTE[0], yAxisID: "y" },
        { type: "line", label: "Cumulative share", data: pareto.map((r) => r.cumulative_share), borderColor: PALETTE[2],
          backgroundColor: PALETTE[2], yAxisID: "share", pointRadius: 2 }] },
      options: { scales: { x: { ticks: { display: false } }, y: { ...axis.money, beginAtZero: true },
        share: { ...axis.percent, position: "right", min: 0, max: 1, grid: { drawOnChartArea: false } } },
        plugins: { tooltip: { callbacks: { label: (c) => c.dataset.yAxisID === "share" ? `Cumulative: ${percent(c.parsed.y)}` : `Revenue: ${money(c.parsed.y)}` } } } },
    }, describe("Cumulative revenue share of the largest customers", pareto.map((r) => r.customer_name), pareto.map((r) => r.cumulative_share), percent, 10));
  }

  async function load({ quiet = false } = {}) {
    await loadAll(ctx, panel, "customers", [{ src: SRC, apply }], { quiet });
  }

  return { id: "customers", mount, load };
}
