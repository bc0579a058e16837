/* Help-center articles beside a ticket: the suggestions are fetched after the page (a slow
   search never slows the ticket), the panel's search finds others, and one click inserts an
   article's public link or its text into the reply box at the cursor. Without JavaScript the
   panel's links open the same lists as pages. Everything is a native button or link, so the
   keyboard does all of it; what happened is announced in the panel's status line. */
(function () {
  "use strict";
  var panel = document.getElementById("kb-articles");
  if (!panel || !window.fetch || !window.URLSearchParams) { return; }
  var results = panel.querySelector("[data-kb-results]");
  var status = panel.querySelector("[data-kb-status]");
  var searchForm = panel.querySelector("[data-kb-search]");
  var url = panel.getAttribute("data-articles-url");
  var replyForm = document.getElementById("reply-form");
  var body = replyForm && replyForm.querySelector("textarea[name=body]");
  // Where the caret was in the reply box when it was last used (a click on a button moves
  // the focus away, and a box never focused has no meaningful caret: then we append).
  var caret = null;

  function label(name) { return panel.getAttribute("data-label-" + name) || ""; }
  function say(text) { if (status) { status.textContent = ""; status.textContent = text; } }

  if (body) {
    ["select", "keyup", "click", "input", "blur"].forEach(function (name) {
      body.addEventListener(name, function () { caret = { start: body.selectionStart, end: body.selectionEnd }; });
    });
  }

  function load(query) {
    panel.setAttribute("aria-busy", "true");
    say(label("loading"));
    var params = new URLSearchParams({ partial: "1" });
    if (query) { params.set("q", query); }
    return fetch(url + "?" + params.toString(), {
      credentials: "same-origin", headers: { "Accept": "text/html", "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    }).then(function (html) {
      // Our own template's output, escaped there (snippets keep only <mark>).
      results.innerHTML = html;
      if (!body) {
        Array.prototype.forEach.call(results.querySelectorAll("[data-kb-insert]"), function (b) { b.hidden = true; });
      }
      var heading = results.querySelector("[data-kb-count]");
      var count = heading ? parseInt(heading.getAttribute("data-kb-count"), 10) || 0 : 0;
      say(count === 1 ? label("found-one") : count ? label("found").replace("%(n)s", String(count)) : label("none"));
    }).catch(function () {
      say("");  // the fallback link stays: the list opens as a page
    }).then(function () { panel.setAttribute("aria-busy", "false"); });
  }

  /* Put ``text`` into the reply box where the caret was (replacing a selection), with the
     spacing it needs: a block (an article's text) on lines of its own, a link inline. */
  function insert(text, block) {
    var value = body.value;
    var start = caret ? Math.min(caret.start, value.length) : value.length;
    var end = caret ? Math.min(caret.end, value.length) : value.length;
    var before = value.slice(0, start);
    var after = value.slice(end);
    var pre = "", post = "";
    if (block) {
      if (before && !/\n\n$/.test(before)) { pre = /\n$/.test(before) ? "\n" : "\n\n"; }
      if (after && !/^\n/.test(after)) { post = "\n\n"; }
    } else {
      if (before && !/\s$/.test(before)) { pre = " "; }
      if (after && !/^\s/.test(after)) { post = " "; }
    }
    body.value = before + pre + text + post + after;
    var at = (before + pre + text).length;
    body.focus();
    body.setSelectionRange(at, at);
    caret = { start: at, end: at };
    // Others listening to the box (drafts, "replying…") see the change as typing.
    body.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function linkText(title, address) {
    title = (title || "").trim();
    if (!title) { return address; }
    return /[?!.:]$/.test(title) ? title + " " + address : title + ": " + address;
  }

  results.addEventListener("click", function (ev) {
    var button = ev.target.closest("[data-kb-insert]");
    if (!button || !body) { return; }
    ev.preventDefault();
    var textUrl = button.getAttribute("data-reply-text-url");
    if (button.getAttribute("data-kb-insert") === "link") {
      insert(linkText(button.getAttribute("data-title"), button.getAttribute("data-url")), false);
      say(label("link-inserted"));
      // A result of the agent's own search was used: let the search count it (best effort).
      if (textUrl && textUrl.indexOf("search=") !== -1) {
        fetch(textUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } }).catch(function () {});
      }
      return;
    }
    button.disabled = true;
    fetch(textUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      }).then(function (data) {
        insert((data.text || "").trim(), true);
        say(label("text-inserted"));
      }).catch(function () {
        say(label("insert-failed"));
      }).then(function () { button.disabled = false; });
  });

  if (searchForm) {
    searchForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var input = searchForm.querySelector("input[name=q]");
      load(input ? input.value.trim() : "");
    });
  }

  load("");
}());
