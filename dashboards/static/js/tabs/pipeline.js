// Pipeline: the funnel by stage, forecast categories, the win-rate trend, stalled and slipping deals.

import { draw, axis, describe, partialLabels, dashedLast, wrapLabel, PALETTE } from "../charts.js";
import { fill, kpi, table, field } from "../ui.js";
import { money, percent, quarter, count } from "../format.js";
import { loadAll } from "./common.js";

const SRC = "dashboard/pipeline";
const FORECAST_COLOURS = { Commit: PALETTE[5], "Best Case": PALETTE[0], Pipeline: PALETTE[7], Omitted: "#cbd5e1", Closed: PALETTE[1] };

export function createPipeline(ctx) {
  let panel;

  function mount(element) {
    panel = element;
    panel.innerHTML = `
      <div class="panel-head"><div><h2>Pipeline</h2>
        <p class="as-of" data-section="head" data-src="${SRC}">As of ${field("as_of", "date")}; quarter ends ${field("closing_this_quarter.end", "date")}</p></div></div>
      <div class="kpis" role="group" data-section="kpis" data-src="${SRC}" aria-label="Pipeline figures">
        ${kpi({ id: "closing", what: "Open Salesforce deals whose close date falls in this quarter", label: "Closing this quarter", path: "closing_this_quarter.amount",
          sub: `${field("closing_this_quarter.opportunities", "count")} deals` })}
        ${kpi({ id: "closing-weighted", what: "The same deals, each amount × its stage's probability", label: "Weighted, this quarter", path: "closing_this_quarter.weighted_amount" })}
        ${kpi({ id: "commit", what: "Open deals in forecast category Commit (Negotiation/Review), now", label: "Commit", path: "by_forecast_category[forecast_category=Commit].amount",
          sub: `${field("by_forecast_category[forecast_category=Commit].opportunities", "count")} deals` })}
        ${kpi({ id: "best-case", what: "Open deals in forecast category Best Case, now", label: "Best case", path: "by_forecast_category[forecast_category=Best Case].amount",
          sub: `${field("by_forecast_category[forecast_category=Best Case].opportunities", "count")} deals` })}
        ${kpi({ id: "stalled", what: "Open deals in their stage over twice as long as won deals take, or 30 days without activity", label: "Stalled deals", path: "stalled_deals_count", kind: "count", sub: "in stage too long or no activity" })}
        ${kpi({ id: "slipping", what: "Open deals whose close date has been pushed out at least once", label: "Slipping deals", path: "slipping_deals_count", kind: "count", sub: "close date pushed out" })}
      </div>
      <div class="grid two">
        <figure class="card"><h3 id="funnel-title">Funnel by stage (open deals)</h3>
          <div class="chart-box tall"><canvas id="chart-funnel"></canvas></div></figure>
        <figure class="card"><h3 id="forecast-title">Forecast categories (open deals)</h3>
          <div class="chart-box tall"><canvas id="chart-forecast"></canvas></div></figure>
      </div>
      <div class="grid two">
        <figure class="card"><h3 id="winrate-title">Win rate by quarter</h3>
          <div class="chart-box"><canvas id="chart-win-rate"></canvas></div></figure>
        <section class="card" data-section="forecast-table" data-src="${SRC}"><h3>By forecast category</h3><div class="body"></div></section>
      </div>
      <section class="card mb" data-section="stalled" data-src="${SRC}"><h3>Stalled deals</h3>
        <p class="card-note">Open deals in their stage more than twice as long as won deals usually take, or without activity for 30 days.</p><div class="body"></div></section>
      <section class="card" data-section="slipping" data-src="${SRC}"><h3>Slipping deals</h3>
        <p class="card-note">Open deals whose close date was pushed out.</p><div class="body"></div></section>`;
  }

  function apply(data, quiet) {
    const stageColumns = [
      { label: "Deal", key: "opportunity_name" },
      { label: "Customer", key: "customer_name" },
      { label: "Stage", key: "stage" },
      { label: "Amount", key: "amount", kind: "money", num: true },
    ];
    panel.querySelector('[data-section="stalled"] .body').innerHTML = table({
      caption: "Stalled deals", listPath: "stalled_deals", rows: data.stalled_deals, empty: "No stalled deals.",
      total: data.stalled_deals_count, totalPath: "stalled_deals_count",
      columns: [...stageColumns, { label: "Days in stage", key: "days_in_stage", kind: "count", num: true },
        { label: "Close date", key: "close_date", kind: "date" }],
    });
    panel.querySelector('[data-section="slipping"] .body').innerHTML = table({
      caption: "Slipping deals", listPath: "slipping_deals", rows: data.slipping_deals, empty: "No deal has slipped.",
      total: data.slipping_deals_count, totalPath: "slipping_deals_count",
      columns: [...stageColumns, { label: "First close date", key: "first_close_date", kind: "date" },
        { label: "Close date now", key: "close_date", kind: "date" },
        { label: "Pushes", key: "close_date_pushes", kind: "count", num: true }],
    });
    panel.querySelector('[data-section="forecast-table"] .body').innerHTML = table({
      caption: "Open pipeline by forecast category", listPath: "by_forecast_category", rows: data.by_forecast_category,
      columns: [{ label: "Category", key: "forecast_category" },
        { label: "Deals", key: "opportunities", kind: "count", num: true },
        { label: "Amount", key: "amount", kind: "money", num: true }],
    });
    for (const box of panel.querySelectorAll(`[data-src="${SRC}"]`)) fill(box, data, { flash: quiet });

    const funnel = data.funnel || [];
    const stages = funnel.map((row) => `${row.stage} (${row.probability}%)`);
    draw(panel.querySelector("#chart-funnel"), {
      type: "bar",
      data: { labels: stages, datasets: [{ label: "Open amount", data: funnel.map((r) => r.amount),
        backgroundColor: funnel.map((_, i) => `rgba(29,78,216,${0.35 + (0.65 * (i + 1)) / Math.max(1, funnel.length)})`) }] },
      options: { indexAxis: "y", scales: { x: { ...axis.money, beginAtZero: true },
        // a narrow chart (a phone) puts each stage's name in lines, so none runs off the edge
        y: { ticks: { autoSkip: false, callback(value) { const label = this.getLabelForValue(value); return this.chart.width < 520 ? wrapLabel(label) : label; } } } },
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => `${money(c.parsed.x)} in ${count(funnel[c.dataIndex].opportunities)} deals` } } } },
    }, describe("Open pipeline by stage", funnel.map((r) => r.stage), funnel.map((r) => r.amount)));

    const forecast = data.by_forecast_category || [];
    draw(panel.querySelector("#chart-forecast"), {
      type: "doughnut",
      data: { labels: forecast.map((r) => r.forecast_category), datasets: [{ data: forecast.map((r) => r.amount),
        backgroundColor: forecast.map((r, i) => FORECAST_COLOURS[r.forecast_category] || PALETTE[i % PALETTE.length]) }] },
      options: { plugins: { legend: { position: "right" }, tooltip: { callbacks: { label: (c) => `${c.label}: ${money(c.parsed)}` } } } },
    }, describe("Open pipeline by forecast category", forecast.map((r) => r.forecast_category), forecast.map((r) => r.amount)));

    const trend = data.win_rate_trend || [];
    const partial = trend.length > 0 && quarter(trend.at(-1).quarter) === quarter(data.as_of);  // this quarter, so far
    const quarters = partialLabels(trend.map((r) => quarter(r.quarter)), partial);
    draw(panel.querySelector("#chart-win-rate"), {
      type: "line",
      data: { labels: quarters, datasets: [{ label: "Win rate", data: trend.map((r) => r.win_rate),
        borderColor: PALETTE[2], backgroundColor: PALETTE[2], pointRadius: 4, cubicInterpolationMode: "monotone",
        segment: dashedLast(trend.length, partial) }] },
      options: { scales: { y: { ...axis.percent, beginAtZero: true } }, plugins: { legend: { display: false },
        tooltip: { callbacks: { label: (c) => `${percent(c.parsed.y)} (${trend[c.dataIndex].won} won, ${trend[c.dataIndex].lost} lost)` } } } },
    }, describe("Win rate by quarter", quarters, trend.map((r) => r.win_rate), percent));
  }

  async function load({ quiet = false } = {}) {
    await loadAll(ctx, panel, "pipeline", [{ src: SRC, apply }], { quiet });
  }

  return { id: "pipeline", mount, load };
}
