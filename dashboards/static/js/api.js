// The API client: JSON over fetch with the bearer token, the API's error details as messages, a retry
// after 429/503 (honouring Retry-After), one hook when the token is no longer accepted (401) and one for the
// refresh status every dashboard answer carries (the banner when the latest refresh failed).

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

function detailOf(status, body) {
  if (body && typeof body === "object") {
    const detail = body.detail;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) return detail.map((d) => d.msg || JSON.stringify(d)).join("; ");
  }
  if (typeof body === "string" && body) return body.slice(0, 200);
  return `the server answered ${status}`;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function createApi({ token, onUnauthorized, onRefreshStatus }) {
  async function request(method, path, { json, form, retries = 2, raw = false } = {}) {
    const headers = { Accept: "application/json" };
    const bearer = token();
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    let body;
    if (form) {
      body = new URLSearchParams(form);
      headers["Content-Type"] = "application/x-www-form-urlencoded";
    } else if (json !== undefined) {
      body = JSON.stringify(json);
      headers["Content-Type"] = "application/json";
    }
    let response;
    try {
      response = await fetch(path.startsWith("/") ? path : `/api/v1/${path}`, { method, headers, body });
    } catch (error) {
      throw new ApiError(0, "the server cannot be reached", null);
    }
    if ((response.status === 429 || response.status === 503) && retries > 0) {
      const wait = Math.min(5, Number(response.headers.get("Retry-After")) || 1);
      await sleep(wait * 1000);
      return request(method, path, { json, form, retries: retries - 1, raw });
    }
    if (raw && response.ok) return response;
    const text = await response.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch { data = text; }
    }
    if (response.status === 401 && bearer) onUnauthorized?.(detailOf(401, data));
    if (!response.ok) throw new ApiError(response.status, detailOf(response.status, data), data);
    // every dashboard answer says when its figures are from and whether the latest refresh failed
    if (data && typeof data === "object" && data.refresh && typeof data.refresh === "object") onRefreshStatus?.(data.refresh);
    return data;
  }

  return {
    get: (path, options) => request("GET", path, options),
    post: (path, json, options) => request("POST", path, { ...options, json }),
    patch: (path, json, options) => request("PATCH", path, { ...options, json }),
    form: (path, form) => request("POST", path, { form, retries: 0 }),
    blob: (path) => request("GET", path, { raw: true }).then((response) => response.blob()),
  };
}
