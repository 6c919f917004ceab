// AI Assistant: ask the data in plain words (typed or spoken). Each answer shows its text, its table, a
// chart (the answer's own chart, or one drawn from the table) and, on request, the SQL behind it.
// "Create a sales order for …" gives a draft-order card: edit it, then approve (it goes to NetSuite and
// comes back with NetSuite's order number) or reject it.

import { draw, axis, PALETTE } from "../charts.js";
import { esc, $, notify } from "../ui.js";
import { money, moneyFull, count, percent, percentValue, date, month, words, decimal } from "../format.js";

const SUGGESTIONS = [
  "Show me pending orders over $100K",
  "What's my win rate this quarter?",
  "Bookings by month this year",
  "Which customers are at risk?",
  "Create a sales order for Disney, 500 hats, $50 each",
];
const MAX_TABLE_ROWS = 25;
const MONEY_COLUMN = /(amount|total|revenue|bookings|billings|price|value|pipeline|balance|limit|sales|receivable)/i;
const RATIO_COLUMN = /(rate|share|attainment|coverage)$/i;
const PERCENT_COLUMN = /(_pct|percent|probability)$/i;
const WORD_COLUMN = /(^|_)(status|health|group)$/i;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T00:00:00)?$/;
const ISO_MONTH_START = /^\d{4}-\d{2}-01(T00:00:00)?$/;

let answerCount = 0;

function cell(value, column) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "number") {
    if (PERCENT_COLUMN.test(column)) return percentValue(value);
    if (RATIO_COLUMN.test(column)) return percent(value);
    if (MONEY_COLUMN.test(column)) return moneyFull(value);
    return Number.isInteger(value) ? count(value) : decimal(value, 2);
  }
  if (typeof value === "string" && ISO_DATE.test(value)) return date(value);
  if (typeof value === "string" && WORD_COLUMN.test(column)) return words(value);
  return String(value);
}

function label(value) {
  if (typeof value === "string" && ISO_MONTH_START.test(value)) return month(value);
  if (typeof value === "string" && ISO_DATE.test(value)) return date(value);
  return String(value ?? "—");
}

/** The answer's chart spec, or one drawn from its table: labels from the first text column, values from
 *  the first money column (else the first number column). */
function chartSpec(answer) {
  if (answer.chart && answer.chart.labels && answer.chart.series) return answer.chart;
  const columns = answer.columns || [];
  const rows = answer.rows || [];
  if (!rows.length || !columns.length) return null;
  const numeric = columns.map((_, i) => rows.every((r) => r[i] === null || typeof r[i] === "number"));
  const x = columns.findIndex((_, i) => !numeric[i]);
  const candidates = columns.map((c, i) => i).filter((i) => numeric[i] && i !== x);
  const y = candidates.find((i) => MONEY_COLUMN.test(columns[i])) ?? candidates[0];
  if (x < 0 || y === undefined) return null;
  const shown = rows.slice(0, 20);
  return { type: "bar", title: `${words(columns[y])} by ${words(columns[x]).toLowerCase()}`, x: columns[x], y: [columns[y]],
    labels: shown.map((r) => r[x]), series: { [columns[y]]: shown.map((r) => r[y]) }, derived: true };
}

function valueFormatter(name) {
  if (RATIO_COLUMN.test(name)) return percent;
  if (PERCENT_COLUMN.test(name)) return percentValue;
  if (MONEY_COLUMN.test(name)) return money;
  return count;
}

function drawAnswerChart(canvas, spec) {
  const names = Object.keys(spec.series);
  const moneyNames = names.filter((n) => MONEY_COLUMN.test(n));
  const twoAxes = names.length > 1 && moneyNames.length > 0 && moneyNames.length < names.length;
  const type = ["line", "bar", "pie", "doughnut"].includes(spec.type) ? spec.type : "bar";
  const round = type === "pie" || type === "doughnut";
  const datasets = names.map((name, i) => ({
    label: words(name), data: spec.series[name],
    borderColor: PALETTE[i % PALETTE.length],
    backgroundColor: round ? spec.labels.map((_, j) => PALETTE[j % PALETTE.length]) : PALETTE[i % PALETTE.length],
    maxBarThickness: 56,
    yAxisID: twoAxes && !MONEY_COLUMN.test(name) ? "y2" : "y",
    tension: .25,
  }));
  const first = valueFormatter(names[0]);
  const scales = round ? {} : {
    y: { beginAtZero: true, ticks: { callback: (v) => valueFormatter(twoAxes ? moneyNames[0] : names[0])(Number(v)) } },
    ...(twoAxes ? { y2: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, ...axis.count } } : {}),
  };
  const labels = spec.labels.map(label);
  draw(canvas, {
    type,
    data: { labels, datasets },
    options: { scales, plugins: { legend: { display: names.length > 1 || round },
      tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${valueFormatter(names[c.datasetIndex])(round ? c.parsed : c.parsed.y)}` } } } },
  }, `${spec.title || "Chart"}: ${labels.slice(0, 8).map((l, i) => `${l} ${first(spec.series[names[0]][i])}`).join(", ")}${labels.length > 8 ? ", …" : ""}.`);
}

export function createAssistant(ctx) {
  let panel;
  let log;
  let input;
  let conversationId = sessionStorage.getItem("scc.conversation") || null;
  let activeDraft = null; // {tx, element} of the newest draft card in this conversation
  let busy = false;

  function mount(element) {
    panel = element;
    panel.innerHTML = `
      <div class="panel-head"><div><h2>AI Assistant</h2>
        <p class="as-of">Ask about orders, pipeline, customers and products${ctx.me.can_write ? ", or place a sales order" : ""}. Answers stay within what your role may see.</p></div>
        <button type="button" class="btn" id="chat-new">New conversation</button></div>
      <div class="chat">
        <div class="chat-log" id="chat-log" role="log" aria-live="polite" aria-label="Conversation with the assistant"></div>
        <div>
          <div class="chips" id="chat-suggestions" role="group" aria-label="Suggested questions">${SUGGESTIONS
            .filter((s) => ctx.me.can_write || !s.startsWith("Create"))
            .map((s) => `<button type="button" class="chip" data-ask="${esc(s)}">${esc(s)}</button>`).join("")}</div>
          <form class="chat-form" id="chat-form">
            <label for="chat-input" class="visually-hidden">Your question</label>
            <input id="chat-input" name="question" autocomplete="off" maxlength="2000" placeholder="Ask a question, e.g. show me pending orders over $100K">
            <button type="button" class="btn voice" id="chat-voice" aria-pressed="false" aria-label="Ask by voice" title="Ask by voice">
              <svg viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"><rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5 11a7 7 0 0 0 14 0M12 18v3"/></svg>
            </button>
            <button type="submit" class="btn primary" id="chat-send">Ask</button>
          </form>
          <p class="muted small" id="voice-note" role="status"></p>
        </div>
      </div>`;
    log = $("#chat-log", panel);
    input = $("#chat-input", panel);
    $("#chat-form", panel).addEventListener("submit", (event) => {
      event.preventDefault();
      const question = input.value.trim();
      if (question) ask(question);
    });
    panel.addEventListener("click", (event) => {
      const chip = event.target.closest("[data-ask]");
      if (chip) ask(chip.dataset.ask);
    });
    $("#chat-new", panel).addEventListener("click", () => {
      conversationId = null;
      activeDraft = null;
      sessionStorage.removeItem("scc.conversation");
      log.innerHTML = "";
      input.focus();
    });
    setUpVoice();
  }

  // --- voice ----------------------------------------------------------------------------------------
  function setUpVoice() {
    const button = $("#chat-voice", panel);
    const note = $("#voice-note", panel);
    const Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
    if (!Recognition) {
      button.hidden = true;
      note.textContent = "Voice questions need a browser with speech recognition (Chrome, Edge or Safari); type your question instead.";
      panel.dataset.voice = "unsupported";
      return;
    }
    panel.dataset.voice = "supported";
    let recognition = null;
    button.addEventListener("click", () => {
      if (recognition) { recognition.stop(); return; }
      recognition = new Recognition();
      recognition.lang = navigator.language || "en-US";
      recognition.interimResults = true;
      recognition.maxAlternatives = 1;
      button.setAttribute("aria-pressed", "true");
      button.setAttribute("aria-label", "Stop listening");
      note.textContent = "Listening… speak your question.";
      let finalText = "";
      recognition.onresult = (event) => {
        const text = Array.from(event.results).map((r) => r[0].transcript).join("");
        input.value = text;
        if (event.results[event.results.length - 1].isFinal) finalText = text;
      };
      recognition.onerror = (event) => {
        const reasons = {
          "not-allowed": "Microphone access was refused; allow it in the browser to ask by voice.",
          "service-not-allowed": "This browser does not allow speech recognition here.",
          network: "The browser's speech recognition service cannot be reached (it may need the internet).",
          "no-speech": "No speech was heard; try again.",
          "audio-capture": "No microphone was found.",
        };
        note.textContent = reasons[event.error] || `Voice input stopped (${event.error}).`;
      };
      recognition.onend = () => {
        recognition = null;
        button.setAttribute("aria-pressed", "false");
        button.setAttribute("aria-label", "Ask by voice");
        if (finalText.trim()) {
          note.textContent = "";
          ask(finalText.trim());
        } else if (note.textContent.startsWith("Listening")) {
          note.textContent = "";
        }
      };
      try {
        recognition.start();
      } catch (error) {
        note.textContent = `Voice input cannot start: ${error.message}`;
        recognition = null;
        button.setAttribute("aria-pressed", "false");
      }
    });
  }

  // --- asking -----------------------------------------------------------------------------------------
  function addMessage(cls, html) {
    const item = document.createElement("article");
    item.className = `msg ${cls}`;
    item.innerHTML = html;
    log.append(item);
    item.scrollIntoView({ block: "nearest" });
    return item;
  }

  async function ask(question) {
    if (busy) return;
    busy = true;
    $("#chat-send", panel).disabled = true;
    input.value = "";
    addMessage("user", esc(question));
    const reply = addMessage("bot", `<p class="thinking">Thinking…</p>`);
    reply.setAttribute("aria-busy", "true");
    try {
      const answer = await ctx.api.post("query/ask", { question, conversation_id: conversationId });
      if (answer.conversation_id) {
        conversationId = answer.conversation_id;
        sessionStorage.setItem("scc.conversation", conversationId);
      }
      const isDraft = answer.draft || String(answer.intent || "").startsWith("transactions.");
      if (isDraft) await showDraft(reply, question, answer);
      else renderAnswer(reply, answer);
    } catch (error) {
      reply.classList.add("error");
      reply.dataset.intent = "error";
      reply.innerHTML = `<p role="alert">Sorry, that did not work: ${esc(error.message)}.</p>`;
    } finally {
      reply.removeAttribute("aria-busy");
      busy = false;
      $("#chat-send", panel).disabled = false;
      input.focus();
    }
  }

  function renderAnswer(reply, answer) {
    const n = ++answerCount;
    const columns = answer.columns || [];
    const rows = answer.rows || [];
    const spec = chartSpec(answer);
    reply.dataset.intent = answer.intent || "";
    reply.dataset.turn = answer.turn ?? "";
    reply.dataset.rows = String(rows.length);
    if (answer.refused || answer.error) reply.classList.add("error");
    reply.innerHTML = `
      <p class="answer-text">${esc(answer.text || "No answer.")}</p>
      ${readingHtml(answer)}
      ${rows.length && columns.length ? `<div class="answer-table table-wrap"><table>
        <caption class="visually-hidden">${esc(answer.text || "Answer")}</caption>
        <thead><tr>${columns.map((c, i) => `<th scope="col"${typeof rows[0][i] === "number" ? ' class="num"' : ""}>${esc(words(c))}</th>`).join("")}</tr></thead>
        <tbody>${rows.slice(0, MAX_TABLE_ROWS).map((row) => `<tr>${row.map((v, i) =>
          `<td${typeof v === "number" ? ' class="num"' : ""} data-column="${esc(columns[i])}">${esc(cell(v, columns[i]))}</td>`).join("")}</tr>`).join("")}</tbody>
      </table>${rows.length > MAX_TABLE_ROWS ? `<p class="muted small">Showing ${MAX_TABLE_ROWS} of ${count(rows.length)} rows${answer.truncated ? " (the answer was cut at the row limit)" : ""}.</p>` : ""}</div>` : ""}
      ${spec ? `<figure class="answer-chart" data-derived="${spec.derived ? "true" : "false"}"><canvas id="answer-chart-${n}"></canvas></figure>` : ""}
      <div class="tools">
        ${answer.sql ? `<button type="button" class="btn small" aria-expanded="false" aria-controls="answer-sql-${n}" data-sql-toggle>Show SQL</button>` : ""}
      </div>
      ${answer.sql ? `<pre class="sql" id="answer-sql-${n}" hidden><code>${esc(answer.sql)}</code></pre>` : ""}
      ${(answer.follow_ups || []).length ? `<div class="chips" role="group" aria-label="Follow-up questions">${answer.follow_ups
        .map((f) => `<button type="button" class="chip" data-ask="${esc(f)}">${esc(f)}</button>`).join("")}</div>` : ""}`;
    if (spec) drawAnswerChart(reply.querySelector("canvas"), spec);
    wireReading(reply, answer);
    reply.querySelector("[data-sql-toggle]")?.addEventListener("click", (event) => {
      const button = event.currentTarget;
      const sql = reply.querySelector("pre.sql");
      const open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      button.textContent = open ? "Hide SQL" : "Show SQL";
      sql.hidden = !open;
    });
  }

  // --- how the question was read: chips to remove or change, then ask again --------------------------------
  function readingHtml(answer) {
    const reading = answer.reading || {};
    const chips = reading.chips || [];
    if (!chips.length && !(reading.unused || []).length) return "";
    const chip = (c, i) => c.phrase
      ? `<span class="reading-chip" data-kind="${esc(c.kind)}" data-chip="${i}">
          <button type="button" class="chip-text" data-change-chip="${i}" title="Change “${esc(c.phrase)}”">${esc(c.text)}</button>
          <button type="button" class="chip-remove" data-remove-chip="${i}" aria-label="Ask again without “${esc(c.phrase)}”" title="Ask again without it">×</button></span>`
      : `<span class="reading-chip fixed" data-kind="${esc(c.kind)}" data-chip="${i}">${esc(c.text)}</span>`;
    return `<div class="reading" role="group" aria-label="How the question was read">
        <span class="muted small">Read as</span> ${chips.map(chip).join(" ")}
        ${(reading.corrections || []).length ? `<span class="muted small" data-corrections>spelling: ${reading.corrections.map((c) => `${esc(c.typed)} → ${esc(c.read_as)}`).join(", ")}</span>` : ""}
        ${(reading.unused || []).length ? `<span class="muted small" data-unused>not used: ${reading.unused.map(esc).join(", ")}</span>` : ""}
      </div>`;
  }

  /** The question with a chip's words taken out (or replaced), tidied: "bookings for  this year" → "bookings this year". */
  function rewritten(question, phrase, replacement = "") {
    const at = question.toLowerCase().indexOf(phrase.toLowerCase());
    if (at < 0) return null;
    let before = question.slice(0, at);
    const after = question.slice(at + phrase.length);
    if (!replacement) before = before.replace(/\b(for|in|from|of|with|at|during)\s+(the\s+)?$/i, "");
    return `${before}${replacement}${after}`.replace(/\s+([?.,!])/g, "$1").replace(/\s{2,}/g, " ").trim();
  }

  function wireReading(reply, answer) {
    const chips = answer.reading?.chips || [];
    const question = answer.question || "";
    reply.querySelectorAll("[data-remove-chip]").forEach((button) => button.addEventListener("click", () => {
      const next = rewritten(question, chips[Number(button.dataset.removeChip)].phrase);
      if (next) ask(next);
    }));
    reply.querySelectorAll("[data-change-chip]").forEach((button) => button.addEventListener("click", () => {
      const c = chips[Number(button.dataset.changeChip)];
      const holder = button.closest(".reading-chip");
      holder.innerHTML = `<label class="visually-hidden" for="chip-edit-${answerCount}-${button.dataset.changeChip}">Change ${esc(c.text)}</label>
        <input class="chip-edit" id="chip-edit-${answerCount}-${button.dataset.changeChip}" value="${esc(c.phrase)}" size="${Math.max(8, c.phrase.length + 2)}">`;
      const input = holder.querySelector("input");
      input.focus();
      input.select();
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter") {
          event.preventDefault();
          const next = rewritten(question, c.phrase, input.value.trim());
          if (next) ask(next);
        } else if (event.key === "Escape") {
          renderAnswer(reply, answer);
        }
      });
    }));
  }

  // --- draft orders -------------------------------------------------------------------------------------
  async function showDraft(reply, question, answer) {
    reply.dataset.intent = answer.intent || "transactions.draft";
    if (!ctx.me.can_write) {
      reply.innerHTML = `<p class="answer-text">${esc(answer.text || "")}</p>
        <p class="muted">Your role (${esc(words(ctx.me.role))}) is read-only, so no order can be placed from here.</p>`;
      return;
    }
    let tx;
    const open = activeDraft && activeDraft.tx.status === "draft" && answer.turn > 1 && answer.draft?.lines?.length;
    if (open) { // a change to the draft being discussed ("make it 600"): edit that draft
      const current = activeDraft.tx.draft.lines;
      const lines = answer.draft.lines.map((line, i) => ({
        product_id: current[i]?.product_id ?? line.product_id, quantity: line.quantity, unit_price: line.unit_price }));
      tx = await writeCall(() => ctx.api.patch(`transactions/${activeDraft.tx.id}`, { lines }));
      activeDraft.element.closest(".msg")?.querySelectorAll("[data-action]").forEach((b) => { b.disabled = true; });
    } else {
      tx = await writeCall(() => ctx.api.post("transactions/create", { sentence: question }));
    }
    reply.innerHTML = `<p class="answer-text">${esc(open ? "Here is the draft with that change:" : "Here is a draft sales order. Check it, change what needs changing, then approve it to send it to NetSuite.")}</p><div class="draft-card"></div>`;
    const card = reply.querySelector(".draft-card");
    activeDraft = { tx: tx.transaction, element: card };
    renderDraft(card, tx.transaction, tx.message);
  }

  /** Run a write call; its refusal (422/409/502 with the transaction in the body) is shown on the card. */
  async function writeCall(call) {
    try {
      return { transaction: await call(), message: null };
    } catch (error) {
      if (error.body?.transaction) return { transaction: error.body.transaction, message: error.message, failed: true };
      throw error;
    }
  }

  function checkItem(check, name) {
    if (!check) return "";
    // passed ✓, failed ✗, not checked ? (never a tick for what was not checked)
    const state = check.ok === true ? "ok" : check.ok === false ? "fail" : "unknown";
    let message = check.message || { ok: "ok", fail: "failed", unknown: "not checked" }[state];
    if (name && message.toLowerCase().startsWith(`${name} `)) message = message.slice(name.length + 1);  // "customer: Disney"
    return `<li class="${state}" data-check="${esc(name || "")}">${esc(name ? `${name}: ` : "")}${esc(message)}</li>`;
  }

  function renderDraft(card, tx, message = null) {
    const draft = tx.draft || {};
    const checks = tx.checks || {};
    const editable = ctx.me.can_write && (tx.status === "draft" || tx.status === "failed");
    const customer = draft.customer || {};
    const customerChoices = checks.customer?.choices || [];
    card.dataset.transactionId = tx.id;
    card.dataset.status = tx.status;
    card.dataset.version = tx.version;
    const lineChecks = (checks.lines || []);
    card.innerHTML = `
      <h3>Sales order draft <span class="badge ${esc(tx.status)}" data-status-badge>${esc(words(tx.status))}</span></h3>
      <p class="customer-line">Customer: <strong data-customer>${esc(customer.customer_name || customer.query || "not found")}</strong>
        ${customer.credit_limit != null ? `<span class="muted small">(credit limit ${esc(moneyFull(customer.credit_limit))}, open balance ${esc(moneyFull(customer.open_balance))})</span>` : ""}</p>
      ${editable && !customer.customer_name ? `<p><label>Find the customer
        <input type="search" data-customer-query placeholder="Customer name" value="${esc(customer.query || "")}"></label>
        <span class="muted small">then Save changes</span></p>` : ""}
      ${editable && customerChoices.length ? `<p><label>Choose the customer
        <select data-customer-choice><option value="">—</option>${customerChoices.map((c) =>
          `<option value="${esc(c.customer_id)}">${esc(c.customer_name)}${c.territory ? ` (${esc(c.territory)})` : ""}</option>`).join("")}</select></label></p>` : ""}
      <div class="table-wrap"><table>
        <caption class="visually-hidden">Lines of the draft order</caption>
        <thead><tr><th scope="col">Product</th><th scope="col" class="num">Quantity</th><th scope="col" class="num">Unit price ($)</th>
          <th scope="col" class="num">Amount</th><th scope="col">Checks</th></tr></thead>
        <tbody>${(draft.lines || []).map((line, i) => {
          const lineCheck = lineChecks[i] || {};
          const choices = lineCheck.product?.choices || [];
          const n = line.line ?? i + 1;
          return `<tr data-line="${i}">
            <td>${editable && choices.length ? `<label class="visually-hidden" for="draft-${tx.id}-product-${i}">Product of line ${n}</label>
              <select id="draft-${tx.id}-product-${i}" data-product>${[{ product_id: line.product_id, sku: line.sku, product_name: line.product_name }, ...choices]
                .map((c) => `<option value="${esc(c.product_id)}"${String(c.product_id) === String(line.product_id) ? " selected" : ""}>${esc(c.sku)} ${esc(c.product_name)}</option>`).join("")}</select>`
              : `<span data-product-fixed="${esc(line.product_id)}">${esc(line.sku || "")} ${esc(line.product_name || line.query || "")}</span>`}
              ${line.list_price != null ? `<div class="muted small">list ${esc(moneyFull(line.list_price))}, min ${esc(moneyFull(line.min_price))}; ${esc(count(line.quantity_available))} available</div>` : ""}</td>
            <td class="num">${editable ? `<label class="visually-hidden" for="draft-${tx.id}-qty-${i}">Quantity of line ${n}</label>
              <input id="draft-${tx.id}-qty-${i}" data-quantity type="number" min="1" step="1" inputmode="numeric" value="${esc(line.quantity)}">`
              : `<span data-quantity-fixed>${esc(count(line.quantity))}</span>`}</td>
            <td class="num">${editable ? `<label class="visually-hidden" for="draft-${tx.id}-price-${i}">Unit price of line ${n}</label>
              <input id="draft-${tx.id}-price-${i}" data-price type="number" min="0" step="0.01" inputmode="decimal" value="${esc(line.unit_price)}">`
              : esc(moneyFull(line.unit_price))}</td>
            <td class="num" data-line-amount>${esc(moneyFull(line.amount))}</td>
            <td><ul class="checks">${checkItem(lineCheck.product, "product")}${checkItem(lineCheck.price, "price")}${checkItem(lineCheck.stock, "stock")}</ul></td>
          </tr>`;
        }).join("")}</tbody></table></div>
      <ul class="checks">${checkItem(checks.customer, "customer")}${checkItem(checks.credit, "credit")}</ul>
      <p class="total">Total <span data-total>${esc(moneyFull(tx.total ?? draft.total))}</span></p>
      ${editable ? `<div class="actions">
        <button type="button" class="btn" data-action="save">Save changes</button>
        <button type="button" class="btn primary" data-action="approve"${tx.valid ? "" : " disabled"}>${tx.status === "failed" ? "Try sending again" : "Approve and send to NetSuite"}</button>
        <button type="button" class="btn danger" data-action="reject">Reject</button>
        <button type="button" class="btn" data-action="pdf">PDF</button>
      </div>` : `<div class="actions"><button type="button" class="btn" data-action="pdf">PDF</button></div>`}
      <div class="result-box" role="status" aria-live="polite">${resultHtml(tx, message)}</div>`;
    card.querySelectorAll("input, select").forEach((el) => el.addEventListener("input", () => {
      card.dataset.dirty = "true";
      const save = card.querySelector('[data-action="save"]');
      if (save) save.classList.add("primary");
    }));
    card.querySelectorAll("[data-action]").forEach((button) => button.addEventListener("click", () => act(card, tx, button.dataset.action)));
  }

  function resultHtml(tx, message) {
    if (tx.status === "submitted" && tx.netsuite) {
      return `<p class="result" data-netsuite-number="${esc(tx.netsuite.number)}" data-netsuite-id="${esc(tx.netsuite.id)}">
        Sent to NetSuite: sales order <strong>${esc(tx.netsuite.number)}</strong> (internal id ${esc(tx.netsuite.id)}).</p>`;
    }
    if (tx.status === "rejected" && tx.netsuite_closed_at) {
      return `<p class="result bad">Rejected; ${tx.netsuite?.number ? `order <strong>${esc(tx.netsuite.number)}</strong>` : "its order"} was closed in NetSuite.</p>`;
    }
    if (tx.status === "rejected") return `<p class="result bad">Rejected; nothing was sent to NetSuite.</p>`;
    // the write path's own words: it says whether NetSuite has the order, does not, or cannot be asked
    if (tx.status === "failed") return `<p class="result bad">${esc(String(tx.last_error || message || "The order was not sent").replace(/\.$/, ""))}. You can try again.</p>`;
    if (message) return `<p class="result bad">${esc(message)}</p>`;
    if (!tx.valid) return `<p class="result bad">Fix the failed checks before approving.</p>`;
    return "";
  }

  function edits(card, tx) {
    const lines = Array.from(card.querySelectorAll("tbody tr[data-line]")).map((row) => {
      const original = tx.draft.lines[Number(row.dataset.line)];
      return {
        product_id: row.querySelector("[data-product]")?.value || original.product_id,
        product: original.query || undefined,  // what was asked ("hats"): the other matches stay to choose from
        quantity: Number(row.querySelector("[data-quantity]")?.value || original.quantity),
        unit_price: Number(row.querySelector("[data-price]")?.value || original.unit_price),
      };
    });
    const change = { lines };
    const chosen = card.querySelector("[data-customer-choice]")?.value;
    if (chosen) change.customer_id = chosen;
    const sought = card.querySelector("[data-customer-query]")?.value.trim();
    if (!chosen && sought) change.customer = sought;
    return change;
  }

  async function act(card, tx, action) {
    const buttons = card.querySelectorAll("[data-action]");
    const box = card.querySelector(".result-box");
    try {
      if (action === "pdf") {
        const blob = await ctx.api.blob(`transactions/${tx.id}/pdf`);
        const url = URL.createObjectURL(blob);
        const link = Object.assign(document.createElement("a"), { href: url, download: `sales-order-draft-${tx.id}.pdf` });
        link.click();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
        return;
      }
      buttons.forEach((b) => { b.disabled = true; });
      let result = { transaction: tx, message: null };
      if ((action === "save" || action === "approve") && card.dataset.dirty === "true") {
        box.innerHTML = `<p class="thinking">Checking the changes…</p>`;
        for (const input of card.querySelectorAll("input[type=number]")) {
          if (!input.checkValidity() || Number(input.value) <= 0 && input.matches("[data-quantity]")) {
            throw new Error(`${input.labels?.[0]?.textContent || "A value"} is not valid`);
          }
        }
        result = await writeCall(() => ctx.api.patch(`transactions/${tx.id}`, edits(card, tx)));
        if (action === "approve" && !result.transaction.valid) {
          renderDraft(card, result.transaction, result.message || "The changed draft does not pass its checks; nothing was sent.");
          activeDraft = { tx: result.transaction, element: card };
          return;
        }
      }
      if (action === "approve") {
        box.innerHTML = `<p class="thinking">Sending to NetSuite…</p>`;
        result = await writeCall(() => ctx.api.post(`transactions/${tx.id}/approve`));
        if (result.transaction.status === "submitted") {
          notify("Order sent to NetSuite", `${result.transaction.netsuite?.number || ""} for ${result.transaction.draft?.customer?.customer_name || "the customer"}, ${moneyFull(result.transaction.total)}`);
        }
      } else if (action === "reject") {
        result = await writeCall(() => ctx.api.post(`transactions/${tx.id}/reject`, { reason: "rejected in the dashboard" }));
      }
      renderDraft(card, result.transaction, result.message);
      activeDraft = { tx: result.transaction, element: card };
    } catch (error) {
      buttons.forEach((b) => { b.disabled = false; });
      box.innerHTML = `<p class="result bad" role="alert">${esc(error.message)}</p>`;
    }
  }

  // --- the conversation so far (after a reload) ------------------------------------------------------------
  async function load() {
    ctx.mark("assistant", "first-render");
    if (conversationId && !log.children.length) {
      try {
        const history = await ctx.api.get(`conversations?conversation_id=${conversationId}&limit=20`);
        for (const item of (history.items || []).reverse()) {
          addMessage("user", esc(item.question));
          const reply = addMessage("bot", "");
          if (item.answer && !String(item.intent || "").startsWith("transactions.")) renderAnswer(reply, item.answer);
          else reply.innerHTML = `<p class="answer-text">${esc(item.answer_text || "")}</p>`;
        }
      } catch {
        conversationId = null;
        sessionStorage.removeItem("scc.conversation");
      }
    }
    const linked = ctx.link?.get("draft");  // a link handed out elsewhere (an MCP assistant's draft_order)
    if (linked && !log.querySelector(`[data-transaction-id="${CSS.escape(linked)}"]`)) await openDraft(linked);
    panel.dataset.state = "ready";
    ctx.mark("assistant", "ready");
  }

  /** A draft made elsewhere, on a card to review, change, approve or reject here. */
  async function openDraft(id) {
    const reply = addMessage("bot", `<p class="thinking">Opening the draft…</p>`);
    try {
      const tx = await ctx.api.get(`transactions/${encodeURIComponent(id)}`);
      reply.dataset.intent = "transactions.review";
      reply.innerHTML = `<p class="answer-text">${esc(tx.status === "draft" ? "A draft sales order to review. Check it, change what needs changing, then approve it to send it to NetSuite." : `This order is ${words(tx.status)}.`)}</p><div class="draft-card"></div>`;
      const card = reply.querySelector(".draft-card");
      activeDraft = { tx, element: card };
      renderDraft(card, tx);
    } catch (error) {
      reply.classList.add("error");
      reply.innerHTML = `<p role="alert">That draft cannot be opened: ${esc(error.message)}.</p>`;
    }
  }

  return { id: "assistant", mount, load };
}
