// Counts SLA badges down (templates/console/tickets/_sla_badge.html). No dependencies.
// A badge carries data-due-at (and data-warn-at); the colour follows urgency: breached
// once due has passed, warning from the warning instant, neutral before. Paused badges
// have no due instant and are left alone. Badges added later (live updates) are picked up
// at the next tick.
(function () {
  "use strict";

  function duration(seconds, el) {
    seconds = Math.abs(Math.trunc(seconds));
    var d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600), m = Math.floor((seconds % 3600) / 60);
    var ud = el.dataset.unitDays || "d", uh = el.dataset.unitHours || "h", um = el.dataset.unitMinutes || "min";
    if (d) return d + " " + ud + " " + h + " " + uh;
    if (h) return h + " " + uh + " " + m + " " + um;
    return m + " " + um;
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-sla-badge][data-due-at]").forEach(function (el) {
      var due = Date.parse(el.dataset.dueAt);
      if (isNaN(due)) return;
      var warn = el.dataset.warnAt ? Date.parse(el.dataset.warnAt) : NaN;
      var left = (due - now) / 1000;
      var urgency = left < 0 || el.hasAttribute("data-breached") ? "breached" : (!isNaN(warn) && now >= warn ? "warning" : "normal");
      el.classList.remove("sla-normal", "sla-warning", "sla-breached");
      el.classList.add("sla-" + urgency);
      var time = el.querySelector(".sla-time");
      if (time) {
        var label = left < 0 ? (el.dataset.labelOverdue || "%(time)s overdue") : (el.dataset.labelLeft || "%(time)s left");
        time.textContent = label.replace("%(time)s", duration(left, el));
      }
    });
  }

  tick();
  window.setInterval(tick, 15000);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) tick(); });
})();
