/* Console shell: live connection (one websocket per tab) and toasts.
 * The page works without this script; only live updates need it.
 * Server data is only ever written with textContent, never innerHTML. */
(function () {
  "use strict";

  var toasts = document.getElementById("toasts");

  function toast(text, kind) {
    if (!toasts) { return; }
    var box = document.createElement("div");
    box.className = "toast toast-" + (kind || "info");
    var span = document.createElement("span");
    span.className = "toast-text";
    span.textContent = String(text);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", toasts.getAttribute("data-label-close") || "Dismiss");
    close.textContent = "\u00d7";
    close.addEventListener("click", function () { box.remove(); });
    box.appendChild(span);
    box.appendChild(close);
    toasts.appendChild(box);
    setTimeout(function () { box.remove(); }, 8000);
  }
  window.consoleToast = toast;

  // Server-rendered messages (Django messages) fade out after a while too.
  if (toasts) {
    Array.prototype.forEach.call(toasts.querySelectorAll(".toast"), function (box) {
      setTimeout(function () { box.remove(); }, 10000);
    });
  }

  var indicator = document.getElementById("live-indicator");
  if (!indicator || !("WebSocket" in window)) { return; }
  var label = indicator.querySelector(".live-text");

  function setState(state) {
    indicator.setAttribute("data-state", state);
    label.textContent = indicator.getAttribute("data-label-" + state) || state;
  }

  var socket = null;
  var attempt = 0;
  var pingTimer = null;
  var stopped = false;
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host +
    (indicator.getAttribute("data-ws-path") || "/ws/console/");

  function schedule() {
    if (stopped) { return; }
    // Exponential backoff with jitter: 1 s, 2 s, 4 s ... at most 30 s.
    var delay = Math.min(30000, 1000 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
    attempt += 1;
    setState("reconnecting");
    setTimeout(connect, delay);
  }

  function connect() {
    if (stopped) { return; }
    setState(attempt === 0 ? "connecting" : "reconnecting");
    try {
      socket = new WebSocket(url);
    } catch (e) {
      schedule();
      return;
    }
    socket.addEventListener("message", function (msg) {
      var data;
      try { data = JSON.parse(msg.data); } catch (e) { return; }
      if (!data || typeof data !== "object") { return; }
      if (data.type === "hello") {
        attempt = 0;
        setState("connected");
      } else if (data.type === "event" && data.event) {
        var ev = data.event;
        // Only events written for people (notifications) become toasts; routine events
        // (ticket.updated, …) are for the pages that listen to "console:event".
        var text = ev.message || ev.title;
        if (text) { toast(text, "info"); }
        document.dispatchEvent(new CustomEvent("console:event", { detail: ev }));
      }
    });
    socket.addEventListener("close", function (ev) {
      clearInterval(pingTimer);
      if (ev.code === 4401 || ev.code === 4403) {
        // Signed out or not a member here: reconnecting would not help.
        stopped = true;
        setState("denied");
        return;
      }
      schedule();
    });
    socket.addEventListener("open", function () {
      clearInterval(pingTimer);
      pingTimer = setInterval(function () {
        if (socket && socket.readyState === 1) { socket.send(JSON.stringify({ type: "ping" })); }
      }, 25000);
    });
  }

  window.addEventListener("online", function () { if (!stopped && socket && socket.readyState > 1) { attempt = 0; connect(); } });
  connect();
})();
