/* The requester card's panel of data from the tenant's own systems: loaded after the ticket
   page, so a slow shop never slows the page. Without JavaScript the link opens it as a page. */
(function () {
  "use strict";
  var panel = document.getElementById("integration-panel");
  if (!panel || !window.fetch) { return; }
  var body = panel.querySelector("[data-integrations-body]");
  var url = panel.getAttribute("data-integrations-url");
  if (!body || !url) { return; }
  panel.setAttribute("aria-busy", "true");
  fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html", "X-Requested-With": "fetch" } })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    })
    .then(function (html) {
      // Server-rendered and escaped there: the integration's values are text, never markup.
      body.innerHTML = html;
    })
    .catch(function () {
      // Leave the link in place: the agent can still open the panel on its own page.
    })
    .then(function () { panel.setAttribute("aria-busy", "false"); });
}());
