// The dashboard's entry point: sign-in, the header, the six tabs (keyboard-navigable, the last one
// remembered), the live connection, and the preferences kept in local storage.
//
// To change a chart or a card, open the tab's module in ./tabs/ (one file per tab); there is no build step.

import { createApi } from "./api.js";
import { connectLive } from "./live.js";
import { notify, esc, $, $all } from "./ui.js";
import { money, words, time } from "./format.js";
import { destroyAll } from "./charts.js";
import { createOverview } from "./tabs/overview.js";
import { createPipeline } from "./tabs/pipeline.js";
import { createOrders } from "./tabs/orders.js";
import { createCustomers } from "./tabs/customers.js";
import { createProducts } from "./tabs/products.js";
import { createAssistant } from "./tabs/assistant.js";
import { showRefreshStatus } from "./refresh.js";

const TOKEN_KEY = "scc.token";
const PREFS_KEY = "scc.prefs";
const TABS = ["overview", "pipeline", "orders", "customers", "products", "assistant"];
const ROLE_NAMES = { sales_exec: "Sales executive", sales_manager: "Sales manager", sales_rep: "Sales rep", finance_viewer: "Finance (read-only)" };
const FACTORIES = { overview: createOverview, pipeline: createPipeline, orders: createOrders, customers: createCustomers,
  products: createProducts, assistant: createAssistant };

// --- preferences (local storage) and the session token (session storage) ---------------------------
function loadPrefs() {
  try { return JSON.parse(localStorage.getItem(PREFS_KEY)) || {}; } catch { return {}; }
}

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  me: null,
  prefs: loadPrefs(),
  tabs: {},
  active: null,
  stale: new Set(),
  live: null,
  marks: new Set(),
};

function savePrefs(change) {
  Object.assign(state.prefs, change);
  try { localStorage.setItem(PREFS_KEY, JSON.stringify(state.prefs)); } catch { /* private mode: keep them in memory */ }
}

function setToken(token) {
  state.token = token;
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

const api = createApi({
  token: () => state.token,
  onUnauthorized: (detail) => signOut(`Please sign in again (${detail}).`),
  onRefreshStatus: showRefreshStatus,
});

/** performance marks the benchmarks read: scc:<tab>:first-render and scc:<tab>:ready (once per page). */
function mark(tab, what) {
  const name = `scc:${tab}:${what}`;
  if (state.marks.has(name)) return;
  state.marks.add(name);
  performance.mark(name);
}

// --- sign-in -------------------------------------------------------------------------------------
async function showLogin(message = "") {
  $("#app-view").hidden = true;
  $("#login-view").hidden = false;
  document.title = "Sign in · Sales Command Center";
  $("#login-error").textContent = message;
  $("#login-user").focus();
  try {
    const config = await api.get("auth/config");
    const logins = config.demo_logins?.length ? config.demo_logins
      : (config.demo_users || []).map((username) => ({ username, role: null }));
    if (logins.length) {
      $("#demo-user-list").innerHTML = logins.map((login) => `<li><button type="button" class="btn" data-demo-user="${esc(login.username)}">
        <span>${esc(login.username)}</span><span class="role">${esc(ROLE_NAMES[login.role] || words(login.role) || "")}</span></button></li>`).join("");
      $("#demo-users").hidden = false;
    }
    if (config.oidc && config.oidc_login_url) {
      $("#sso-link").href = config.oidc_login_url;
      $("#sso").hidden = false;
    }
    document.body.dataset.loginReady = "true";
  } catch (error) {
    $("#login-error").textContent = `The server cannot be reached: ${error.message}.`;
  }
}

$("#demo-user-list").addEventListener("click", (event) => {
  const button = event.target.closest("[data-demo-user]");
  if (!button) return;
  $("#login-user").value = button.dataset.demoUser;
  $("#login-password").value = "scc-demo";
  $("#login-submit").focus();
});

$("#login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const username = $("#login-user").value.trim();
  const password = $("#login-password").value;
  if (!username || !password) {
    $("#login-error").textContent = "Enter your email and password.";
    return;
  }
  $("#login-submit").disabled = true;
  $("#login-error").textContent = "";
  try {
    const body = await api.form("/api/v1/auth/token", { username, password });
    setToken(body.access_token);
    await start();
  } catch (error) {
    $("#login-error").textContent = error.status === 401 ? "Unknown user or wrong password." : `Could not sign in: ${error.message}.`;
  } finally {
    $("#login-submit").disabled = false;
  }
});

function signOut(message = "") {
  state.live?.close();
  state.live = null;
  setToken(null);
  for (const tab of Object.values(state.tabs)) destroyAll(document.getElementById(`panel-${tab.id}`));
  for (const id of TABS) {
    const panel = document.getElementById(`panel-${id}`);
    panel.innerHTML = "";
    delete panel.dataset.state;
  }
  state.tabs = {};
  state.active = null;
  state.me = null;
  sessionStorage.removeItem("scc.conversation");
  showLogin(message);
}

$("#logout").addEventListener("click", () => signOut());

// --- the dashboard --------------------------------------------------------------------------------
function scopeText(me) {
  if (me.role === "sales_rep") return "My book";
  if (me.role === "sales_manager") return `Territory: ${me.territory || "none"}`;
  return "All territories";
}

async function start() {
  state.me = await api.get("auth/me");
  $("#login-view").hidden = true;
  $("#app-view").hidden = false;
  $("#user-name").textContent = state.me.name || state.me.user;
  $("#user-role").textContent = ROLE_NAMES[state.me.role] || words(state.me.role);
  $("#scope-badge").textContent = scopeText(state.me);
  const speed = $("#demo-speed");  // the demo company's live mode running faster than real time says so
  speed.hidden = !(state.me.live_speed > 1);
  if (!speed.hidden) {
    const times = Number(state.me.live_speed).toLocaleString(undefined, { maximumFractionDigits: 1 });
    speed.textContent = `Demo clock ×${times}`;
    speed.title = `Live mode runs the demo company ${times} times faster than real time (SCC_EMULATOR_LIVE_SPEED): a day's orders arrive in ${Math.max(1, Math.round(24 * 60 / state.me.live_speed))} minutes.`;
  }
  document.body.dataset.role = state.me.role;
  const [wanted, query] = location.hash.slice(1).split("?");  // #assistant?draft=<id>: a link to review a draft
  state.link = new URLSearchParams(query || "");
  activate(TABS.includes(wanted) ? wanted : TABS.includes(state.prefs.lastTab) ? state.prefs.lastTab : "overview");
  goLive();
}

function context() {
  return { api, me: state.me, prefs: state.prefs, savePrefs, mark, link: state.link };
}

function activate(id, { focus = false } = {}) {
  for (const tab of $all('[role="tab"]')) {
    const selected = tab.dataset.tab === id;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    document.getElementById(tab.getAttribute("aria-controls")).hidden = !selected;
  }
  if (focus) document.getElementById(`tab-${id}`).focus();
  state.active = id;
  savePrefs({ lastTab: id });
  history.replaceState(null, "", `#${id}`);
  document.title = `${document.getElementById(`tab-${id}`).textContent} · Sales Command Center`;
  const panel = document.getElementById(`panel-${id}`);
  let tab = state.tabs[id];
  if (!tab) {
    tab = state.tabs[id] = FACTORIES[id](context());
    tab.mount(panel);
    tab.load();
  } else if (state.stale.has(id)) {
    state.stale.delete(id);
    tab.load({ quiet: true });
  }
}

// Tabs: click, or arrow keys / Home / End once a tab has focus (WAI-ARIA tabs pattern).
$("#tablist").addEventListener("click", (event) => {
  const tab = event.target.closest('[role="tab"]');
  if (tab) activate(tab.dataset.tab);
});
$("#tablist").addEventListener("keydown", (event) => {
  const index = TABS.indexOf(state.active);
  const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: TABS.length - 1 };
  if (!(event.key in moves)) return;
  event.preventDefault();
  activate(TABS[(moves[event.key] + TABS.length) % TABS.length], { focus: true });
});

// --- live updates -------------------------------------------------------------------------------------
const LIVE_LABELS = { connecting: "Connecting…", live: "Live", offline: "Reconnecting…", expired: "Signed out" };

function setLiveStatus(status, delay) {
  const box = $("#live-status");
  box.dataset.state = status;
  const label = status === "offline" && delay ? `Offline; retrying in ${Math.ceil(delay / 1000)} s` : LIVE_LABELS[status];
  box.querySelector(".label").textContent = label;
}

function onLiveMessage(message) {
  document.body.dataset.liveMessages = String(Number(document.body.dataset.liveMessages || 0) + 1);
  if (message.type === "snapshot" || message.type === "refresh") {
    showRefreshStatus(message.refresh);
    state.tabs.overview?.onLive?.(message);
    if (message.type === "refresh" && message.changed && Object.keys(message.changed).length) {
      // the marts changed for this scope: reload what is on screen now, the rest when it is next shown
      for (const id of Object.keys(state.tabs)) if (id !== "assistant") state.stale.add(id);
      const active = state.tabs[state.active];
      if (active && state.active !== "assistant") {
        state.stale.delete(state.active);
        active.load({ quiet: true });
      }
      $("#live-status .label").textContent = `Live, updated ${time()}`;
    }
  } else if (message.type === "event") {
    const data = message.data || {};
    const amount = data.total ?? data.amount;
    const titles = {
      big_order: "Big order",
      deal_won: "Deal won",
      pipeline_run_failed: "A data refresh failed",
      insight: "New insight",
    };
    const parts = [data.order_number, data.headline || data.title || data.customer_name || data.opportunity_name,
      typeof amount === "number" ? money(amount) : null, data.message]
      .filter(Boolean);
    notify(titles[message.kind] || words(message.kind), parts.join(" · "), { kind: message.kind === "pipeline_run_failed" ? "error" : "event" });
  }
}

function goLive() {
  state.live?.close();
  state.live = connectLive({
    token: () => state.token,
    onMessage: onLiveMessage,
    onStatus: setLiveStatus,
    onExpired: () => signOut("Your session ended; please sign in again."),
  });
}

// --- boot -------------------------------------------------------------------------------------------------
async function boot() {
  // single sign-on comes back with #access_token=…
  const fromSso = /(?:^#|&)access_token=([^&]+)/.exec(location.hash);
  if (fromSso) {
    setToken(decodeURIComponent(fromSso[1]));
    history.replaceState(null, "", location.pathname);
  }
  if (state.token) {
    try {
      await start();
      return;
    } catch (error) {
      setToken(null);
    }
  }
  showLogin();
}

boot();
