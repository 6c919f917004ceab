// How numbers, dates and words are shown. One place, so every card, table and chart agrees (and the
// browser tests format the API's numbers the same way: tests/dashboard/formatting.py mirrors this file).

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
export const NONE = "—";

function group(integerText) {
  return integerText.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function fixed(value, digits) {
  const [whole, fraction] = Math.abs(value).toFixed(digits).split(".");
  const sign = value < 0 && Number(Math.abs(value).toFixed(digits)) !== 0 ? "-" : "";
  return sign + group(whole) + (fraction ? "." + fraction : "");
}

function isNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}

/** $1.20M, $265.1K, $6,850: money as a glance reads it. */
export function money(value) {
  if (!isNumber(value)) return NONE;
  const size = Math.abs(value);
  if (size >= 1e9) return "$" + fixed(value / 1e9, 2) + "B";
  if (size >= 1e6) return "$" + fixed(value / 1e6, 2) + "M";
  if (size >= 1e4) return "$" + fixed(value / 1e3, 1) + "K";
  return "$" + fixed(value, 0);
}

/** Money in one unit ("units": $6,850; "k": $265.1K; "m": $1.20M): every figure of a table column alike. */
export function moneyIn(value, unit) {
  if (!isNumber(value)) return NONE;
  if (unit === "m") return "$" + fixed(value / 1e6, 2) + "M";
  if (unit === "k") return "$" + fixed(value / 1e3, 1) + "K";
  return "$" + fixed(value, 0);
}

/** The unit a column of money is shown in: the one its largest figure needs. */
export function moneyUnit(values) {
  const largest = Math.max(0, ...values.filter(isNumber).map(Math.abs));
  return largest >= 1e6 ? "m" : largest >= 1e4 ? "k" : "units";
}

/** $1,198,768.75: money to the cent (order details, drafts). */
export function moneyFull(value) {
  return isNumber(value) ? "$" + fixed(value, 2) : NONE;
}

export function count(value) {
  return isNumber(value) ? fixed(value, 0) : NONE;
}

/** 0.283 → 28.3% */
export function percent(ratio) {
  return isNumber(ratio) ? fixed(ratio * 100, 1) + "%" : NONE;
}

/** 52.75 → 52.8% (a value already in percent) */
export function percentValue(value) {
  return isNumber(value) ? fixed(value, 1) + "%" : NONE;
}

/** 25.1 → +25.1% (a change already in percent) */
export function change(pct) {
  if (!isNumber(pct)) return NONE;
  return (pct > 0 ? "+" : "") + fixed(pct, 1) + "%";
}

export function decimal(value, digits = 3) {
  return isNumber(value) ? fixed(value, digits) : NONE;
}

// Dates and times in the browser's own locale, in the style of its date fields (the orders' filters):
// 05/20/2026 in the US, 20/05/2026 in the UK. A date is a calendar day (no time zone shift).
const DATE_FORMAT = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "2-digit", day: "2-digit", timeZone: "UTC" });
const TIME_FORMAT = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

/** "2026-05-20" → 05/20/2026 (en-US) */
export function date(value) {
  if (!value) return NONE;
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(value));
  if (!match) return String(value);
  return DATE_FORMAT.format(new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))));
}

/** A time of day in the browser's locale (12:05 AM in the US): the live badge's "updated" time. */
export function time(value = new Date()) {
  return TIME_FORMAT.format(value);
}

/** "2026-05-01" → May 2026 */
export function month(value) {
  const match = /^(\d{4})-(\d{2})/.exec(String(value || ""));
  return match ? `${MONTHS[Number(match[2]) - 1]} ${match[1]}` : String(value ?? NONE);
}

/** "2026-04-01" → Q2 2026 */
export function quarter(value) {
  const match = /^(\d{4})-(\d{2})/.exec(String(value || ""));
  return match ? `Q${Math.floor((Number(match[2]) - 1) / 3) + 1} ${match[1]}` : String(value ?? NONE);
}

/** pending_fulfillment → Pending fulfillment */
export function words(value) {
  if (value === null || value === undefined || value === "") return NONE;
  const text = String(value).replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function text(value) {
  return value === null || value === undefined || value === "" ? NONE : String(value);
}

/** Format a value by the name a template gives it in data-format. */
export function format(value, kind = "text") {
  switch (kind) {
    case "money": return money(value);
    case "money-full": return moneyFull(value);
    case "money-units": return moneyIn(value, "units");
    case "money-k": return moneyIn(value, "k");
    case "money-m": return moneyIn(value, "m");
    case "count": return count(value);
    case "percent": return percent(value);
    case "percent-value": return percentValue(value);
    case "change": return change(value);
    case "decimal": return decimal(value);
    case "date": return date(value);
    case "month": return month(value);
    case "quarter": return quarter(value);
    case "words": return words(value);
    default: return text(value);
  }
}

/** A value from nested data by a path: "metrics.bookings", "top_customers.0.revenue",
 *  "by_health[health=at_risk].customers", "stalled_deals.#" (the length of a list). */
export function pick(data, path) {
  let value = data;
  for (const part of String(path).split(".")) {
    if (value === null || value === undefined) return null;
    const where = /^(\w+)\[(\w+)=([^\]]*)\]$/.exec(part);
    if (where) {
      const list = value[where[1]];
      value = Array.isArray(list) ? list.find((row) => String(row?.[where[2]]) === where[3]) ?? null : null;
    } else if (part === "#") {
      value = Array.isArray(value) ? value.length : null;
    } else {
      value = value[part];
    }
  }
  return value === undefined ? null : value;
}
