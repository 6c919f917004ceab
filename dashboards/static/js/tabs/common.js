// What every tab does the same way: load its API answers (in parallel), fill each section as soon as its
// answer arrives, mark the moments the benchmarks measure, and show a retry when something fails.

import { errorBox } from "../ui.js";

/**
 * jobs: [{ src: "dashboard/overview?period=quarter", apply(data, quiet), optional, fail(error) }]. `src` is the
 * API path under /api/v1/; the section showing it carries data-src="<src>" so the tests can fetch the same
 * answer. An optional job that fails only says so in its own section (fail(error)); the tab still works.
 */
export async function loadAll(ctx, panel, id, jobs, { quiet = false } = {}) {
  if (!quiet) panel.dataset.state = "loading";
  panel.setAttribute("aria-busy", "true");
  let first = true;
  const results = await Promise.allSettled(jobs.map(async (job) => {
    let data;
    try {
      data = await ctx.api.get(job.src);
    } catch (error) {
      if (!job.optional) throw error;
      job.fail?.(error);
      return;
    }
    job.apply(data, quiet);
    if (first) {
      first = false;
      ctx.mark(id, "first-render");
    }
  }));
  panel.removeAttribute("aria-busy");
  panel.querySelector(":scope > .state-error")?.remove();
  const failures = results.filter((r) => r.status === "rejected").map((r) => r.reason);
  if (failures.length) {
    panel.dataset.state = "error";
    panel.insertAdjacentHTML("afterbegin", errorBox(failures[0]));
    panel.querySelector(":scope > .state-error [data-retry]").addEventListener("click", () => {
      loadAll(ctx, panel, id, jobs);
    });
    return false;
  }
  panel.dataset.state = "ready";
  ctx.mark(id, "ready");
  return true;
}

/** The section of a panel that shows one API answer, its data-src kept up to date. */
export function section(panel, name, src) {
  const el = panel.querySelector(`[data-section="${name}"]`);
  if (el && src) el.dataset.src = src;
  return el;
}
