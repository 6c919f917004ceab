// The banner under the header when the latest refresh of the marts failed: the figures on screen are from
// the last good one ("Figures as of 09:12; the latest refresh failed."). Fed by every dashboard answer and
// every live snapshot or refresh (their `refresh`: figures_as_of, last_refresh_failed, failed_at, error).

import { time } from "./format.js";

export function showRefreshStatus(status) {
  const banner = document.getElementById("refresh-banner");
  if (!banner || !status || typeof status !== "object") return;
  if (!status.last_refresh_failed) {
    banner.hidden = true;
    banner.textContent = "";
    delete banner.dataset.failedAt;
    return;
  }
  const asOf = status.figures_as_of ? new Date(status.figures_as_of) : null;
  const figures = asOf && !Number.isNaN(asOf.getTime()) ? `Figures as of ${time(asOf)}` : "No figures published yet";
  banner.textContent = `${figures}; the latest refresh failed.`;
  banner.title = status.error ? `${status.failed_by || "the refresh"}: ${status.error}` : "";
  banner.dataset.failedAt = status.failed_at || "";
  banner.hidden = false;
}
