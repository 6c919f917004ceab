// Small DOM helpers the tabs share: escaping, filling [data-field] elements from data, tables, KPI cards,
// notices. No framework: a tab writes its HTML once and fills it from the API's answers, in place.

import { format, pick, moneyUnit, NONE } from "./format.js";

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $all(selector, root = document) {
  return Array.from(root.querySelectorAll(selector));
}

/** An element showing one value of an API answer: filled (and re-filled in place) by fill(). */
export function field(path, kind = "text", { tag = "span", cls = "" } = {}) {
  return `<${tag} class="${cls}" data-field="${esc(path)}" data-format="${kind}">${NONE}</${tag}>`;
}

/** Set every [data-field] under root from data (the root's own API answer). Changed values flash. */
export function fill(root, data, { flash = false } = {}) {
  for (const el of $all("[data-field]", root)) {
    if (el.closest("[data-src]") !== root && root.hasAttribute("data-src")) continue; // another answer's
    const value = pick(data, el.dataset.field);
    const shown = format(value, el.dataset.format);
    const raw = value === null || value === undefined ? "" : String(value);
    const before = el.dataset.value;
    el.textContent = shown;
    el.dataset.value = raw;
    el.classList.remove("skeleton");
    if (flash && before !== undefined && before !== raw) flashElement(el);
  }
  for (const el of $all("[data-delta]", root)) {
    const [now, then] = el.dataset.delta.split("|").map((path) => pick(data, path));
    setDelta(el, now, then);
  }
  for (const el of $all("[data-meter]", root)) {
    const ratio = pick(data, el.dataset.meter);
    const width = typeof ratio === "number" ? Math.max(0, Math.min(1, ratio)) * 100 : 0;
    el.firstElementChild.style.width = `${width}%`;
  }
}

export function flashElement(el) {
  el.classList.remove("flash");
  void el.offsetWidth; // restart the animation
  el.classList.add("flash");
}

/** "+19.8%" (green, up) or "−4.1%" (red, down) of now against then; read out as "up 19.8%". */
export function setDelta(el, now, then) {
  el.classList.remove("up", "down");
  if (typeof now !== "number" || typeof then !== "number" || then === 0) {
    el.textContent = NONE;
    el.removeAttribute("aria-label");
    return;
  }
  const pct = ((now - then) / Math.abs(then)) * 100;
  const shown = format(pct, "change");
  el.textContent = (pct > 0 ? "▲ " : pct < 0 ? "▼ " : "") + shown;
  el.classList.add(pct >= 0 ? "up" : "down");
  el.setAttribute("aria-label", `${pct >= 0 ? "up" : "down"} ${Math.abs(pct).toFixed(1)} percent`);
}

/** A KPI card: label, value, and an optional line under it. */
/** A headline figure. `what`: one line saying what it measures (HTML: it may name its window with fields);
 * `sub`: a line (or a list of lines) of detail. */
export function kpi({ id, label, path, kind = "money", sub = "", meter = null, textValue = false, what = "" }) {
  return `<article class="kpi" aria-labelledby="kpi-${id}" data-card="${id}">
    <h3 id="kpi-${id}">${esc(label)}</h3>
    ${what ? `<p class="what">${what}</p>` : ""}
    <p class="value${textValue ? " text" : ""}" data-kpi="${id}" data-field="${esc(path)}" data-format="${kind}">${NONE}</p>
    ${(Array.isArray(sub) ? sub : [sub]).filter(Boolean).map((line) => `<p class="sub">${line}</p>`).join("")}
    ${meter ? `<div class="meter" data-meter="${esc(meter)}" role="presentation"><span></span></div>` : ""}
  </article>`;
}

/**
 * A table of rows of an API answer. columns: [{label, key, kind, num, render(row, i, path)}]; each cell
 * shows rows[i][key] through a [data-field] of `${listPath}.${i}.${key}`, so fill() and the tests can check it.
 */
export function table({ caption, columns, rows, listPath, empty = "Nothing to show.", rowAttrs = () => "", total, totalPath }) {
  if (!rows || rows.length === 0) return `<p class="empty">${esc(empty)}</p>`;
  // a list cut short says how much of it is shown ("10 of 76"), the whole count from its own query
  const shown = total != null && total > rows.length
    ? `<p class="list-count">${format(rows.length, "count")} of ${field(totalPath, "count")}</p>` : "";
  // one money style per column: the unit its largest figure needs ($28.3K and $5.5K, never $28.3K and $5,515)
  columns = columns.map((c) => (c.kind === "money" ? { ...c, kind: `money-${moneyUnit(rows.map((r) => r[c.key]))}` } : c));
  const head = columns.map((c) => `<th scope="col"${c.num ? ' class="num"' : ""}>${esc(c.label)}</th>`).join("");
  const body = rows.map((row, i) => {
    const cells = columns.map((c) => {
      const path = `${listPath}.${i}.${c.key}`;
      const inner = c.render ? c.render(row, i, path) : field(path, c.kind || "text");
      return `<td${c.num ? ' class="num"' : ""}>${inner}</td>`;
    }).join("");
    return `<tr ${rowAttrs(row, i)}>${cells}</tr>`;
  }).join("");
  return `${shown}<div class="table-wrap"><table>${caption ? `<caption class="visually-hidden">${esc(caption)}</caption>` : ""}
    <thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

export function badge(value, extraClass = "") {
  return `<span class="badge ${esc(value)} ${extraClass}">${esc(format(value, "words"))}</span>`;
}

/** A short notice in the corner (read out by screen readers); it goes by itself. */
export function notify(title, body = "", { kind = "info", timeout = 9000 } = {}) {
  const box = document.getElementById("notices");
  const item = document.createElement("div");
  item.className = `notice ${kind}`;
  item.dataset.kind = kind;
  item.innerHTML = `<div class="body"><strong>${esc(title)}</strong>${body ? `<span>${esc(body)}</span>` : ""}</div>
    <button type="button" aria-label="Dismiss">✕</button>`;
  item.querySelector("button").addEventListener("click", () => item.remove());
  box.append(item);
  while (box.children.length > 4) box.firstElementChild.remove();
  if (timeout) setTimeout(() => item.remove(), timeout);
  return item;
}

export function errorBox(error) {
  return `<div class="state-error" role="alert">Could not load this: ${esc(error?.message || error)}.
    <button type="button" class="link-btn" data-retry>Try again</button></div>`;
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
