// Products: best sellers, revenue trends by category, stock against open orders, items low on stock.

import { draw, axis, describe, partialLabels, dashedLast, PALETTE, GREY } from "../charts.js";
import { fill, kpi, table, field } from "../ui.js";
import { money, month, count } from "../format.js";
import { loadAll } from "./common.js";

const SRC = "dashboard/products";

export function createProducts(ctx) {
  let panel;

  function mount(element) {
    panel = element;
    panel.innerHTML = `
      <div class="panel-head"><div><h2>Products</h2>
        <p class="as-of" data-section="head" data-src="${SRC}">As of ${field("as_of", "date")}; sales since ${field("since", "date")}</p></div></div>
      <div class="kpis" role="group" data-section="kpis" data-src="${SRC}" aria-label="Product figures">
        ${kpi({ id: "best-seller", what: "The item with the most revenue on orders of the last 90 days", label: "Best seller, 90 days", path: "top_products.0.product_name", kind: "text", textValue: true,
          sub: `${field("top_products.0.revenue", "money")}, ${field("top_products.0.units", "count")} units` })}
        ${kpi({ id: "top-category", what: "The category with the most revenue on orders of the last 90 days", label: "Top category, 90 days", path: "revenue_by_category.0.category", kind: "text", textValue: true,
          sub: `${field("revenue_by_category.0.revenue", "money")}` })}
        ${kpi({ id: "short", what: "The item whose stock on hand covers the least of its open orders", label: "Least covered by stock", path: "stock_vs_open_orders.0.sku", kind: "text", textValue: true,
          sub: `${field("stock_vs_open_orders.0.open_quantity", "count")} on order, ${field("stock_vs_open_orders.0.quantity_on_hand", "count")} on hand` })}
        ${kpi({ id: "lowest", what: "The active item with the fewest units available, now", label: "Lowest stock", path: "low_stock.0.sku", kind: "text", textValue: true,
          sub: `${field("low_stock.0.quantity_available", "count")} available` })}
      </div>
      <div class="grid three">
        <figure class="card"><h3 id="best-sellers-title">Best sellers, last 90 days</h3>
          <div class="chart-box tall"><canvas id="chart-best-sellers"></canvas></div></figure>
        <figure class="card"><h3 id="category-trend-title">Revenue by category and month</h3>
          <div class="chart-box tall"><canvas id="chart-category-trend"></canvas></div></figure>
        <figure class="card"><h3 id="stock-title">Stock against open orders</h3>
          <div class="chart-box tall"><canvas id="chart-stock"></canvas></div></figure>
      </div>
      <div class="grid two">
        <section class="card" data-section="best" data-src="${SRC}"><h3>Best sellers</h3><div class="body"></div></section>
        <section class="card" data-section="stock" data-src="${SRC}"><h3>Stock against open orders</h3>
          <p class="card-note">Items with the least stock on hand for their open orders (on hand ÷ on order), lowest first.</p><div class="body"></div></section>
      </div>
      <div class="grid two">
        <section class="card" data-section="categories" data-src="${SRC}"><h3>Revenue by category, last 90 days</h3><div class="body"></div></section>
        <section class="card" data-section="low" data-src="${SRC}"><h3>Lowest stock</h3><div class="body"></div></section>
      </div>`;
  }

  function apply(data, quiet) {
    panel.querySelector('[data-section="best"] .body').innerHTML = table({
      caption: "Best sellers by revenue in the last 90 days", listPath: "top_products", rows: data.top_products,
      columns: [{ label: "SKU", key: "sku" }, { label: "Product", key: "product_name" }, { label: "Category", key: "category" },
        { label: "Units", key: "units", kind: "count", num: true }, { label: "Revenue", key: "revenue", kind: "money", num: true }] });
    panel.querySelector('[data-section="stock"] .body').innerHTML = table({
      caption: "Stock against open orders", listPath: "stock_vs_open_orders", rows: data.stock_vs_open_orders,
      total: data.stock_vs_open_orders_count, totalPath: "stock_vs_open_orders_count",
      empty: "No open orders.",
      columns: [{ label: "SKU", key: "sku" }, { label: "Product", key: "product_name" },
        { label: "On hand", key: "quantity_on_hand", kind: "count", num: true },
        { label: "Available", key: "quantity_available", kind: "count", num: true },
        { label: "On open orders", key: "open_quantity", kind: "count", num: true },
        { label: "Short by", key: "shortfall", kind: "count", num: true }] });
    panel.querySelector('[data-section="categories"] .body').innerHTML = table({
      caption: "Revenue by category in the last 90 days", listPath: "revenue_by_category", rows: data.revenue_by_category,
      columns: [{ label: "Category", key: "category" }, { label: "Units", key: "units", kind: "count", num: true },
        { label: "Revenue", key: "revenue", kind: "money", num: true }] });
    panel.querySelector('[data-section="low"] .body').innerHTML = table({
      caption: "Active items with the lowest stock", listPath: "low_stock", rows: data.low_stock,
      columns: [{ label: "SKU", key: "sku" }, { label: "Product", key: "product_name" },
        { label: "List price", key: "list_price", kind: "money-full", num: true },
        { label: "On hand", key: "quantity_on_hand", kind: "count", num: true },
        { label: "Available", key: "quantity_available", kind: "count", num: true }] });
    for (const box of panel.querySelectorAll(`[data-src="${SRC}"]`)) fill(box, data, { flash: quiet });

    const top = data.top_products || [];
    draw(panel.querySelector("#chart-best-sellers"), {
      type: "bar",
      data: { labels: top.map((r) => r.sku), datasets: [{ label: "Revenue", data: top.map((r) => r.revenue), backgroundColor: PALETTE[0] }] },
      options: { indexAxis: "y", scales: { x: { ...axis.money, beginAtZero: true } }, plugins: { legend: { display: false },
        tooltip: { callbacks: { title: (items) => top[items[0].dataIndex].product_name, label: (c) => `${money(c.parsed.x)}, ${count(top[c.dataIndex].units)} units` } } } },
    }, describe("Best sellers by revenue", top.map((r) => r.product_name), top.map((r) => r.revenue)));

    const trend = data.category_trend || [];
    const months = [...new Set(trend.map((r) => r.month))].sort();
    const categories = [...new Set(trend.map((r) => r.category))].sort();
    const partial = months.length > 0 && month(months.at(-1)) === month(data.as_of);  // this month, so far
    draw(panel.querySelector("#chart-category-trend"), {
      type: "line",
      data: { labels: partialLabels(months.map(month), partial), datasets: categories.map((category, i) => ({
        label: category, borderColor: PALETTE[i % PALETTE.length], backgroundColor: PALETTE[i % PALETTE.length], pointRadius: 2, cubicInterpolationMode: "monotone",
        segment: dashedLast(months.length, partial),
        data: months.map((m) => trend.find((r) => r.month === m && r.category === category)?.revenue ?? 0) })) },
      options: { scales: { y: { ...axis.money, beginAtZero: true } }, plugins: { legend: { position: "bottom" },
        tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${money(c.parsed.y)}` } } } },
    }, `Revenue by category and month over ${months.length} months, for ${categories.join(", ")}.`);

    const stock = data.stock_vs_open_orders || [];
    draw(panel.querySelector("#chart-stock"), {
      type: "bar",
      data: { labels: stock.map((r) => r.sku), datasets: [
        { label: "On open orders", data: stock.map((r) => r.open_quantity), backgroundColor: PALETTE[6] },
        { label: "On hand", data: stock.map((r) => r.quantity_on_hand), backgroundColor: GREY }] },
      options: { scales: { y: { ...axis.count, beginAtZero: true } }, plugins: { legend: { position: "bottom" },
        tooltip: { callbacks: { title: (items) => stock[items[0].dataIndex].product_name } } } },
    }, describe("Units on open orders", stock.map((r) => r.sku), stock.map((r) => r.open_quantity), count));
  }

  async function load({ quiet = false } = {}) {
    await loadAll(ctx, panel, "products", [{ src: SRC, apply }], { quiet });
  }

  return { id: "products", mount, load };
}
