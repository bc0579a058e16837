/* Answering first: while a customer writes a request, articles that may answer it appear
   under the description. A progressive enhancement: without JavaScript (or when the lookup
   fails) the form is the same plain form and still sends. Articles open in a new tab, so
   what was written stays; the server counts the click and, if no request follows, the visit
   as deflected. */
(function () {
  "use strict";
  var box = document.getElementById("request-suggestions");
  if (!box || !window.fetch || !window.URLSearchParams) { return; }
  var form = box.closest("form");
  var list = box.querySelector("[data-suggestion-list]");
  var status = document.getElementById("request-suggestions-status");
  var subject = form && form.querySelector("[name=subject]");
  var description = form && form.querySelector("[name=description]");
  if (!form || !list || !subject) { return; }

  var url = box.getAttribute("data-suggest-url");
  var locale = box.getAttribute("data-locale") || "";
  var DELAY = 450;
  var MIN_CHARS = 4;
  var timer = null;
  var controller = null;
  var searchId = null;
  var lastText = null;

  function currentText() {
    var parts = [subject.value || ""];
    if (description) { parts.push(description.value || ""); }
    return parts.join("\n").replace(/\s+/g, " ").trim().slice(0, 2000);
  }

  function announce(count) {
    if (!status) { return; }
    if (!count) { status.textContent = ""; return; }
    var text = count === 1 ? box.getAttribute("data-label-found-one")
                           : box.getAttribute("data-label-found-many").replace("%(n)s", String(count));
    status.textContent = text;
  }

  function render(results) {
    list.textContent = "";
    results.forEach(function (item) {
      var li = document.createElement("li");
      li.className = "suggestion";
      var link = document.createElement("a");
      link.href = item.open_url || item.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = item.title;
      li.appendChild(link);
      if (item.snippet) {
        var snippet = document.createElement("p");
        snippet.className = "snippet";
        // Escaped by the server except for <mark> around the matched words.
        snippet.innerHTML = item.snippet;
        li.appendChild(snippet);
      }
      list.appendChild(li);
    });
    box.hidden = results.length === 0;
    announce(results.length);
  }

  function lookUp() {
    var text = currentText();
    if (text === lastText) { return; }
    lastText = text;
    if (text.length < MIN_CHARS) { render([]); return; }
    if (controller) { controller.abort(); }
    controller = window.AbortController ? new AbortController() : null;
    var params = new URLSearchParams({ q: text, locale: locale });
    if (searchId) { params.set("search", String(searchId)); }
    fetch(url + "?" + params.toString(), {
      credentials: "same-origin", headers: { "Accept": "application/json" },
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (data) {
      if (data.search_id) { searchId = data.search_id; }
      render(data.results || []);
    }).catch(function (error) {
      // Aborted by newer typing, offline, or rate limited: the form works as it is.
      if (error && error.name === "AbortError") { return; }
      lastText = null;
    });
  }

  function schedule() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(lookUp, DELAY);
  }

  subject.addEventListener("input", schedule);
  if (description) { description.addEventListener("input", schedule); }
  // A form shown again after an error keeps what was typed: suggest for it at once.
  if (currentText().length >= MIN_CHARS) { lookUp(); }
}());
