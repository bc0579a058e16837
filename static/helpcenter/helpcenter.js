/* The help center without JavaScript is complete; this adds two things:
   1. as-you-type suggestions under the search box (ARIA 1.2 combobox with a listbox:
      arrow keys move, Enter opens, Escape closes; the form still submits a full search);
   2. "Was this helpful?" answered in place (the same form, sent with fetch). */
(function () {
  "use strict";

  function debounce(fn, ms) {
    var timer;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  var counter = 0;

  function setupSuggest(input) {
    var url = input.getAttribute("data-hc-suggest");
    if (!url) { return; }
    counter += 1;
    var listId = "hc-suggest-" + counter;
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "hc-listbox";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", input.labels && input.labels[0] ? input.labels[0].textContent.trim() : "");
    list.hidden = true;
    var status = document.createElement("div");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    input.parentNode.appendChild(list);
    input.parentNode.appendChild(status);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);

    var items = [], active = -1, lastQuery = "", controller = null;
    var announce = input.getAttribute("data-hc-announce") || "{n}";

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var options = list.querySelectorAll("[role=option]");
      options.forEach(function (option, i) { option.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function render(results) {
      items = results;
      list.textContent = "";
      results.forEach(function (result, i) {
        var option = document.createElement("li");
        option.id = listId + "-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.textContent = result.title;
        if (result.locale) { option.setAttribute("lang", result.locale); }
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });
        option.addEventListener("click", function () { window.location.assign(result.url); });
        list.appendChild(option);
      });
      if (results.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      } else {
        close();
      }
      status.textContent = results.length ? announce.replace("{n}", results.length) : "";
    }

    var fetchSuggestions = debounce(function () {
      var query = input.value.trim();
      if (query === lastQuery) { return; }
      lastQuery = query;
      if (query.length < 2) { render([]); return; }
      if (controller) { controller.abort(); }
      controller = "AbortController" in window ? new AbortController() : null;
      fetch(url + "?q=" + encodeURIComponent(query), {
        headers: { "Accept": "application/json" }, credentials: "same-origin",
        signal: controller ? controller.signal : undefined
      }).then(function (response) {
        return response.ok ? response.json() : { results: [] };
      }).then(function (data) {
        if (input.value.trim() === query) { render(data.results || []); }
      }).catch(function () { /* offline or aborted: the form still works */ });
    }, 150);

    input.addEventListener("input", fetchSuggestions);
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") {
        if (list.hidden && items.length) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
        if (items.length) { highlight((active + 1) % items.length); event.preventDefault(); }
      } else if (event.key === "ArrowUp") {
        if (items.length) { highlight(active <= 0 ? items.length - 1 : active - 1); event.preventDefault(); }
      } else if (event.key === "Enter") {
        if (!list.hidden && active >= 0 && items[active]) {
          event.preventDefault();
          window.location.assign(items[active].url);
        }
      } else if (event.key === "Escape") {
        if (!list.hidden) { close(); event.preventDefault(); }
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }

  function setupVote(box) {
    box.addEventListener("submit", function (event) {
      var form = event.target.closest("form[data-hc-vote]");
      if (!form || !window.fetch || !window.FormData) { return; }
      event.preventDefault();
      var data = new FormData(form);
      var submitter = event.submitter;
      if (submitter && submitter.name) { data.set(submitter.name, submitter.value); }
      fetch(form.action, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": data.get("csrfmiddlewaretoken") || "" }
      }).then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      }).then(function (result) {
        if (result.ok && result.body.html) {
          box.innerHTML = result.body.html;
          var statusLine = box.querySelector("[data-hc-vote-status]");
          if (statusLine) { statusLine.focus(); }
        } else {
          var error = box.querySelector(".hc-vote-error") || document.createElement("p");
          error.className = "error hc-vote-error";
          error.setAttribute("role", "alert");
          error.textContent = (result.body && result.body.error) || "";
          form.appendChild(error);
        }
      }).catch(function () {
        // Send it the plain way (with the pressed button's value, which submit() leaves out).
        if (submitter && submitter.name) {
          var hidden = document.createElement("input");
          hidden.type = "hidden";
          hidden.name = submitter.name;
          hidden.value = submitter.value;
          form.appendChild(hidden);
        }
        form.submit();
      });
    });
  }

  document.querySelectorAll("input[data-hc-suggest]").forEach(setupSuggest);
  document.querySelectorAll("[data-hc-vote-box]").forEach(setupVote);
})();
