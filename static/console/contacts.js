/* Contacts pages: "Load more" on the timeline, and the import's live progress bar.
   Both work without JavaScript (links to the full page); this only saves the reloads. */
(function () {
  "use strict";

  // --- the timeline's "Load more": fetch the next fragment and put it in place -----------
  var list = document.getElementById("timeline-list");
  if (list) {
    list.addEventListener("click", function (event) {
      var link = event.target.closest("[data-timeline-more]");
      if (!link) { return; }
      event.preventDefault();
      var item = link.closest("li");
      link.setAttribute("aria-busy", "true");
      fetch(link.getAttribute("data-fragment-url"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.text();
        })
        .then(function (html) {
          var holder = document.createElement("ol");
          holder.innerHTML = html;
          var first = holder.querySelector(".timeline-entry");
          while (holder.firstChild) { list.insertBefore(holder.firstChild, item); }
          item.remove();
          if (first) {
            var focusable = first.querySelector("a");
            if (focusable) { focusable.focus(); }
          }
        })
        .catch(function () {
          link.removeAttribute("aria-busy");
          link.textContent = list.getAttribute("data-label-error") || link.textContent;
        });
    });
  }

  // --- the import's progress: poll the JSON status until it is finished -------------------
  var card = document.getElementById("import-progress");
  if (card && card.getAttribute("data-finished") !== "1") {
    var url = card.getAttribute("data-status-url");
    var bar = document.getElementById("import-bar");
    var refresh = document.getElementById("import-refresh");
    if (refresh) { refresh.hidden = true; }
    var delay = 1000;
    var poll = function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (status) {
          bar.value = status.percent;
          bar.textContent = status.percent + "%";
          ["processed_rows", "total_rows", "created", "updated", "failed"].forEach(function (name) {
            var node = card.querySelector('[data-field="' + name + '"]');
            if (node) { node.textContent = status[name]; }
          });
          if (status.finished) {
            window.location.reload();  // the finished page lists the rows that failed
            return;
          }
          delay = 1000;
          window.setTimeout(poll, delay);
        })
        .catch(function () {
          delay = Math.min(delay * 2, 30000);
          if (refresh) { refresh.hidden = false; }
          window.setTimeout(poll, delay);
        });
    };
    window.setTimeout(poll, delay);
  }
})();
