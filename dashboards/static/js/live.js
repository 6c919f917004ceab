// The live connection: holds /ws/dashboard, hands every message on, pings to keep it open, and
// reconnects by itself with exponential backoff and jitter (0.5 s, 1 s, 2 s, … up to 30 s).

export function connectLive({ token, onMessage, onStatus, onExpired }) {
  let socket = null;
  let attempt = 0;
  let retryTimer = null;
  let pingTimer = null;
  let stopped = false;

  function url() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.host}/ws/dashboard?token=${encodeURIComponent(token())}`;
  }

  function open() {
    if (stopped) return;
    clearTimeout(retryTimer);
    onStatus("connecting");
    socket = new WebSocket(url());
    socket.addEventListener("open", () => {
      attempt = 0;
      onStatus("live");
      clearInterval(pingTimer);
      pingTimer = setInterval(() => socket?.readyState === WebSocket.OPEN && socket.send("ping"), 25000);
    });
    socket.addEventListener("message", (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      if (message.type === "expired") {
        stopped = true;
        onStatus("expired");
        onExpired?.();
        return;
      }
      onMessage(message);
    });
    socket.addEventListener("close", (event) => {
      clearInterval(pingTimer);
      socket = null;
      if (stopped) return;
      if (event.code === 4401 || event.code === 1008) { // the token is no longer accepted
        stopped = true;
        onStatus("expired");
        onExpired?.();
        return;
      }
      const delay = Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
      attempt += 1;
      onStatus("offline", delay);
      retryTimer = setTimeout(open, delay);
    });
  }

  // Back online, or the tab shown again after a long sleep: try now rather than wait out the backoff.
  const retryNow = () => { if (!stopped && !socket) { attempt = 0; open(); } };
  window.addEventListener("online", retryNow);
  document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && retryNow());

  open();
  return {
    close() {
      stopped = true;
      clearTimeout(retryTimer);
      clearInterval(pingTimer);
      window.removeEventListener("online", retryNow);
      socket?.close(1000);
    },
    get connected() { return socket?.readyState === WebSocket.OPEN; },
  };
}
