/* Ticket pages: keyboard shortcuts, live list updates, bulk selection, the ticket page's
 * presence socket, live new messages and delivery panels, macros without a reload, and
 * measured handle time.
 * Every page works without this script. Server data is written with textContent only; the
 * one HTML fragment inserted (the properties panel, the new entries) is rendered by our
 * own templates, which escape everything a customer or agent wrote. */
(function () {
  "use strict";

  var toast = function (text, kind) { if (window.consoleToast) { window.consoleToast(text, kind); } };

  function isTyping(el) {
    if (!el) { return false; }
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  function label(el, name, fallback) {
    return (el && el.getAttribute("data-label-" + name)) || fallback || "";
  }

  function fill(text, n) { return String(text).replace("%(n)s", String(n)); }

  /* --- the shortcuts help -------------------------------------------------------------- */
  var dialog = document.getElementById("shortcuts-dialog");
  function openHelp() {
    if (dialog && !dialog.open && typeof dialog.showModal === "function") { dialog.showModal(); }
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-shortcuts-open]"), function (button) {
    button.addEventListener("click", openHelp);
  });

  var keyHandlers = {};
  document.addEventListener("keydown", function (ev) {
    if (ev.defaultPrevented || ev.altKey || ev.metaKey) { return; }
    if (ev.ctrlKey) {
      if (ev.key === "Enter" && keyHandlers["ctrl+enter"]) { keyHandlers["ctrl+enter"](ev); }
      return;
    }
    if (isTyping(ev.target)) {
      if (ev.key === "Escape" && ev.target.blur) { ev.target.blur(); }
      return;
    }
    if (dialog && dialog.open) { return; }
    if (ev.key === "?") { ev.preventDefault(); openHelp(); return; }
    var handler = keyHandlers[ev.key];
    if (handler) { handler(ev); }
  });

  /* --- SLA countdowns ------------------------------------------------------------------- */
  var rtf = ("Intl" in window && Intl.RelativeTimeFormat)
    ? new Intl.RelativeTimeFormat(document.documentElement.lang || undefined, { numeric: "auto" }) : null;
  function countdowns() {
    var now = Date.now();
    Array.prototype.forEach.call(document.querySelectorAll("[data-due]"), function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) { return; }
      if (!el.title) { el.title = el.textContent; }
      var minutes = Math.round((due - now) / 60000);
      el.setAttribute("data-urgency", minutes < 0 ? "overdue" : minutes <= 60 ? "soon" : "later");
      if (!rtf) { return; }
      el.textContent = Math.abs(minutes) < 90 ? rtf.format(minutes, "minute") : rtf.format(Math.round(minutes / 60), "hour");
    });
  }
  countdowns();
  setInterval(countdowns, 30000);

  var listPage = document.getElementById("ticket-list-page");
  if (listPage) { initList(listPage); }
  var ticketPage = document.getElementById("ticket-page");
  if (ticketPage) { initTicket(ticketPage); }

  /* --- the list --------------------------------------------------------------------------- */
  function initList(page) {
    // Rows can be swapped in place by live updates: always look them up, never keep them.
    function allRows() { return Array.prototype.slice.call(page.querySelectorAll(".ticket-row")); }
    function rowById(id) { return page.querySelector('.ticket-row[data-ticket-id="' + id + '"]'); }
    var current = -1;

    function focusRow(index) {
      var rows = allRows();
      if (!rows.length) { return; }
      index = Math.max(0, Math.min(rows.length - 1, index));
      if (rows[current]) { rows[current].classList.remove("is-focused"); rows[current].removeAttribute("aria-current"); }
      current = index;
      var row = rows[current];
      row.classList.add("is-focused");
      row.setAttribute("aria-current", "true");
      var link = row.querySelector(".ticket-subject, .ticket-number");
      if (link) { link.focus({ preventScroll: true }); }
      row.scrollIntoView({ block: "nearest" });
    }
    keyHandlers.j = function () { focusRow(current + 1); };
    keyHandlers.k = function () { focusRow(current < 0 ? 0 : current - 1); };
    keyHandlers.Enter = function (ev) {
      var row = allRows()[current];
      if (row) { ev.preventDefault(); window.location.assign(row.getAttribute("data-href")); }
    };
    keyHandlers.x = function () {
      var row = allRows()[current];
      var box = row && row.querySelector("input[type=checkbox]");
      if (box) { box.checked = !box.checked; updateCount(); }
    };
    keyHandlers["/"] = function (ev) {
      var search = document.getElementById("filter-q");
      if (search) { ev.preventDefault(); search.focus(); }
    };
    var table = document.getElementById("ticket-table");
    if (table) {
      table.addEventListener("click", function (ev) {
        var row = ev.target.closest(".ticket-row");
        if (!row || ev.target.closest("a, input, label, button")) { return; }
        focusRow(allRows().indexOf(row));
      });
      table.addEventListener("dblclick", function (ev) {
        var row = ev.target.closest(".ticket-row");
        if (row && !ev.target.closest("a, input, label, button")) { window.location.assign(row.getAttribute("data-href")); }
      });
    }

    // Bulk selection: the change form opens once something is selected.
    var count = document.getElementById("bulk-count");
    var bulkBar = document.getElementById("bulk-bar");
    var all = document.getElementById("select-all");
    function boxes() { return Array.prototype.slice.call(page.querySelectorAll(".ticket-row input[type=checkbox]")); }
    function updateCount() {
      var list = boxes();
      var n = list.filter(function (b) { return b.checked; }).length;
      if (count) { count.textContent = n ? fill(label(count, "some"), n) : label(count, "none"); }
      if (bulkBar && n && !bulkBar.open) { bulkBar.open = true; }
      if (all) { all.checked = n > 0 && n === list.length; all.indeterminate = n > 0 && n < list.length; }
    }
    page.addEventListener("change", function (ev) {
      if (ev.target.closest(".ticket-row") && ev.target.matches("input[type=checkbox]")) { updateCount(); }
    });
    if (all) {
      all.addEventListener("change", function () {
        boxes().forEach(function (b) { b.checked = all.checked; });
        updateCount();
      });
    }

    /* Live updates. The console socket pushes every committed event of the tenant (console.js
     * turns them into "console:event"). Events are gathered for a moment, then the server
     * renders the rows of those tickets that are still in this list (same view, filters and
     * template): rows on the page are swapped in place; tickets that newly belong here, or
     * rows that no longer do, are only announced in the bar, so nothing moves under the
     * agent's cursor. */
    var bar = document.getElementById("live-bar");
    var rowsUrl = page.getAttribute("data-rows-url");
    // Rows on the page are fetched half a second after the last event (at most every 2 s in a
    // stream); tickets elsewhere only feed the bar, so they wait longer, and a hidden tab
    // waits until it is looked at: a busy tenant does not become a flood of requests.
    var DEBOUNCE_MS = 500;
    var MAX_WAIT_MS = 2000;
    var OFF_PAGE_DEBOUNCE_MS = 3000;
    var OFF_PAGE_MAX_WAIT_MS = 10000;
    var MAX_IDS = 100;  // the server's cap (tickets.views.list.MAX_LIVE_ROWS)
    var pending = {};  // ticket id -> "created" | "changed"
    var timer = null;
    var firstAt = 0;
    var fetching = false;
    var announced = {};
    var changedCount = 0;
    var created = 0;

    function ticketIdOf(ev) {
      if (typeof ev.type !== "string") { return ""; }
      if (ev.subject_type !== "tickets.ticket" && ev.type.indexOf("ticket.") !== 0) { return ""; }
      var id = String(ev.subject_id || (ev.data && ev.data.ticket && ev.data.ticket.id) || "");
      return /^[0-9]{1,19}$/.test(id) ? id : "";
    }
    function showBar() {
      if (!bar) { return; }
      var parts = [];
      if (changedCount) {
        parts.push(changedCount === 1 ? label(page, "changed-one") : fill(label(page, "changed-many"), changedCount));
      }
      if (created) { parts.push(label(page, "new")); }
      bar.querySelector(".live-bar-text").textContent = parts.join(" ");
      bar.hidden = false;
    }
    function announce(id, kind) {
      var key = (kind === "created" ? "new-" : "changed-") + id;
      if (announced[key]) { return; }
      announced[key] = true;
      if (kind === "created") { created += 1; } else { changedCount += 1; }
      showBar();
    }
    function markChanged(row, gone) {
      row.classList.add("is-changed");
      if (gone) {
        row.classList.add("is-gone");
        row.title = label(page, "gone");
      }
    }
    function replaceRow(old, fresh) {
      var box = old.querySelector("input[type=checkbox]");
      var freshBox = fresh.querySelector("input[type=checkbox]");
      if (box && freshBox) { freshBox.checked = box.checked; }
      if (old.classList.contains("is-focused")) {
        fresh.classList.add("is-focused");
        fresh.setAttribute("aria-current", "true");
      }
      var active = document.activeElement;
      var refocus = null;
      if (active && old.contains(active)) {
        refocus = [".ticket-subject", ".ticket-number", "input[type=checkbox]"].filter(function (sel) {
          return active.matches(sel);
        })[0] || null;
      }
      fresh.classList.add("is-changed", "is-updated");
      old.replaceWith(fresh);
      if (refocus) {
        var target = fresh.querySelector(refocus);
        if (target) { target.focus({ preventScroll: true }); }
      }
      setTimeout(function () { fresh.classList.remove("is-updated"); }, 1500);
    }
    function fallback(batch) {
      // No answer from the server: say what changed, as before live rows.
      Object.keys(batch).forEach(function (id) {
        var row = rowById(id);
        if (row) { markChanged(row, false); }
        announce(id, row ? "changed" : batch[id]);
      });
    }
    function schedule() {
      var now = Date.now();
      if (timer === null) { firstAt = now; } else { clearTimeout(timer); }
      var onPage = Object.keys(pending).some(function (id) { return !!rowById(id); });
      // Trailing debounce, but a steady stream of events still flushes every so often.
      var wait = onPage ? DEBOUNCE_MS : OFF_PAGE_DEBOUNCE_MS;
      var most = onPage ? MAX_WAIT_MS : OFF_PAGE_MAX_WAIT_MS;
      timer = setTimeout(flush, Math.max(0, Math.min(wait, firstAt + most - now)));
    }
    function flush() {
      timer = null;
      if (fetching || document.hidden) { return; }  // rescheduled when the answer is in / the tab is shown
      var ids = Object.keys(pending).slice(0, MAX_IDS);
      if (!ids.length) { return; }
      var batch = {};
      ids.forEach(function (id) { batch[id] = pending[id]; delete pending[id]; });
      if (!rowsUrl || !window.fetch) { fallback(batch); return; }
      fetching = true;
      var url = rowsUrl + (rowsUrl.indexOf("?") < 0 ? "?" : "&") + "ids=" + ids.join(",");
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      }).then(function (html) {
        var holder = document.createElement("template");
        holder.innerHTML = html; // our own template's output, escaped there
        var fresh = {};
        Array.prototype.forEach.call(holder.content.querySelectorAll(".ticket-row"), function (row) {
          fresh[row.getAttribute("data-ticket-id")] = row;
        });
        ids.forEach(function (id) {
          var old = rowById(id);
          if (old && fresh[id]) {
            replaceRow(old, fresh[id]);
          } else if (old) {
            markChanged(old, true);  // no longer in this list: stays until the agent refreshes
            announce(id, "changed");
          } else if (fresh[id]) {
            announce(id, batch[id]);  // belongs here now, but not on this page
          }
          // Neither on the page nor in this list: nothing to say.
        });
        updateCount();
        countdowns();
      }).catch(function () { fallback(batch); }).then(function () {
        fetching = false;
        if (Object.keys(pending).length) { schedule(); }
      });
    }
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && timer === null && Object.keys(pending).length) { schedule(); }
    });
    document.addEventListener("console:event", function (e) {
      var ev = e.detail || {};
      var id = ticketIdOf(ev);
      if (!id) { return; }
      if (ev.type === "ticket.created") { pending[id] = "created"; } else if (!pending[id]) { pending[id] = "changed"; }
      schedule();
    });
  }

  /* --- the ticket page ------------------------------------------------------------------ */
  function initTicket(page) {
    var ticketId = page.getAttribute("data-ticket-id");
    var myId = page.getAttribute("data-user-id");
    var knownVersion = parseInt(page.getAttribute("data-version"), 10) || 0;
    var lastMessageId = parseInt(page.getAttribute("data-last-message-id"), 10) || 0;
    var replyForm = document.getElementById("reply-form");
    var replyBox = document.getElementById("reply");
    var body = replyForm && replyForm.querySelector("textarea");
    var liveBar = document.getElementById("ticket-live");

    function kindRadio(value) { return replyForm && replyForm.querySelector("input[name=kind][value=" + value + "]"); }
    function syncKind() {
      var note = kindRadio("note");
      if (replyBox) { replyBox.classList.toggle("is-note", !!(note && note.checked)); }
    }
    function startWriting(kind) {
      var radio = kindRadio(kind);
      if (!radio || !body) { return; }
      radio.checked = true;
      syncKind();
      body.focus();
    }
    if (replyForm) {
      Array.prototype.forEach.call(replyForm.querySelectorAll("input[name=kind]"), function (r) {
        r.addEventListener("change", syncKind);
      });
      syncKind();
    }
    keyHandlers.r = function (ev) { if (kindRadio("public")) { ev.preventDefault(); startWriting("public"); } };
    keyHandlers.n = function (ev) { if (kindRadio("note")) { ev.preventDefault(); startWriting("note"); } };
    keyHandlers.a = function (ev) {
      var form = document.getElementById("assign-form");
      if (form) { ev.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.submit(); }
    };
    keyHandlers.u = function () { window.location.assign(page.getAttribute("data-list-url")); };
    keyHandlers["ctrl+enter"] = function (ev) {
      if (body && ev.target === body) { ev.preventDefault(); replyForm.requestSubmit ? replyForm.requestSubmit() : replyForm.submit(); }
    };

    /* Macros: apply without leaving the page; the reply goes into the box. */
    var macroForm = document.getElementById("macro-form");
    if (macroForm && window.fetch) {
      macroForm.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var button = macroForm.querySelector("button");
        button.disabled = true;
        inflight += 1;
        fetch(macroForm.action, {
          method: "POST", body: new FormData(macroForm), credentials: "same-origin",
          headers: { "Accept": "application/json" }
        }).then(function (response) {
          return response.json().then(function (data) { return { ok: response.ok, data: data }; });
        }).then(function (result) {
          var data = result.data || {};
          if (!result.ok) {
            toast((data.error && data.error.message) || label(page, "macro-failed"), "error");
            return;
          }
          if (data.reply && body) {
            body.value = body.value.trim() ? body.value.replace(/\s+$/, "") + "\n\n" + data.reply : data.reply;
            if (data.public !== null && data.public !== undefined) {
              var radio = kindRadio(data.public ? "public" : "note");
              if (radio) { radio.checked = true; syncKind(); }
            }
            body.focus();
          }
          var badge = document.querySelector(".ticket-meta .status");
          if (badge && data.status) {
            badge.className = "status status-" + data.status;
            badge.textContent = data.status_label || data.status;
          }
          if (typeof data.version === "number") {
            knownVersion = Math.max(knownVersion, data.version);
            Array.prototype.forEach.call(document.querySelectorAll("input[name=expected_version]"), function (input) {
              input.value = String(data.version);
            });
          }
          var panel = document.getElementById("properties");
          if (panel && data.properties_html) {
            var holder = document.createElement("template");
            holder.innerHTML = data.properties_html; // our own template's output, escaped there
            var fresh = holder.content.querySelector("#properties");
            if (fresh) { panel.replaceWith(fresh); }
          }
          toast(label(page, "macro-applied") + (data.macro ? " " + data.macro : ""), "success");
        }).catch(function () {
          toast(label(page, "macro-failed"), "error");
        }).then(function () { button.disabled = false; ownChangeDone(); });
      });
    }

    /* New entries: fetched (rendered by the server) when the ticket says it has some. */
    var fetching = false;
    var again = false;
    var announce = false;
    function loadNewEntries(fromOthers) {
      announce = announce || fromOthers;
      if (!window.fetch) { return; }
      if (fetching) { again = true; return; }
      fetching = true;
      var url = page.getAttribute("data-messages-url") + "?after=" + lastMessageId;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        var last = parseInt(response.headers.get("X-Last-Message-Id"), 10);
        return response.text().then(function (html) { return { html: html, last: last }; });
      }).then(function (result) {
        var list = document.getElementById("entries");
        var holder = document.createElement("template");
        holder.innerHTML = result.html; // our own template's output, escaped there
        var added = 0;
        Array.prototype.forEach.call(holder.content.querySelectorAll("li.entry"), function (li) {
          if (!document.getElementById(li.id)) { list.appendChild(li); added += 1; }
        });
        if (!isNaN(result.last) && result.last > lastMessageId) { lastMessageId = result.last; }
        if (added && announce) { showLive(label(page, "new-message")); }
        announce = false;
      }).catch(function () { /* the next event or a reload shows them */ }).then(function () {
        fetching = false;
        if (again) { again = false; loadNewEntries(false); }
      });
    }
    function showLive(text) {
      if (!liveBar) { return; }
      liveBar.querySelector(".live-bar-text").textContent = text;
      liveBar.hidden = false;
    }

    /* Delivery panels (email, connector): their containers are always on the page; a frame
     * naming a panel's event makes the page fetch that panel again (the frame says only which
     * delivery changed; the fragment comes with the server's permission checks). Frames in a
     * burst are gathered; only the deliveries that changed are swapped, so the live region
     * announces those alone and a focused link keeps its place. */
    var PANEL_DEBOUNCE_MS = 300;
    var panels = {};  // frame type -> { box, timer, fetching, again }
    Array.prototype.forEach.call(page.querySelectorAll("[data-live-panel]"), function (box) {
      var event = box.getAttribute("data-panel-event");
      if (event && box.getAttribute("data-panel-url")) { panels[event] = { box: box, timer: null, fetching: false, again: false }; }
    });
    function refreshPanel(panel) {
      clearTimeout(panel.timer);
      panel.timer = setTimeout(function () { fetchPanel(panel); }, PANEL_DEBOUNCE_MS);
    }
    function refreshAllPanels() { Object.keys(panels).forEach(function (key) { refreshPanel(panels[key]); }); }
    function fetchPanel(panel) {
      panel.timer = null;
      if (!window.fetch) { return; }
      if (panel.fetching) { panel.again = true; return; }
      panel.fetching = true;
      fetch(panel.box.getAttribute("data-panel-url"), {
        credentials: "same-origin", cache: "no-store", headers: { "Accept": "text/html" }
      }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      }).then(function (html) { swapPanel(panel.box, html); })
        .catch(function () { /* the next frame or a reload shows it */ })
        .then(function () {
          panel.fetching = false;
          if (panel.again) { panel.again = false; refreshPanel(panel); }
        });
    }
    function itemsOf(root) {
      var items = {};
      Array.prototype.forEach.call(root.querySelectorAll("[data-delivery-id]"), function (li) {
        items[li.getAttribute("data-delivery-id")] = li;
      });
      return items;
    }
    function withoutItems(root) {
      var copy = root.cloneNode(true);
      Array.prototype.forEach.call(copy.querySelectorAll("[data-delivery-id]"), function (li) { li.remove(); });
      return copy.innerHTML.replace(/\s+/g, " ");
    }
    function swapPanel(box, html) {
      var holder = document.createElement("template");
      holder.innerHTML = html; // our own template's output, escaped there
      var fresh = holder.content;
      var active = document.activeElement;
      var focused = active && box.contains(active) ? active : null;
      var focusedItem = focused && focused.closest("[data-delivery-id]");
      var oldItems = itemsOf(box);
      var newItems = itemsOf(fresh);
      var freshBox = document.createElement("div");
      freshBox.appendChild(fresh.cloneNode(true));
      var list = box.querySelector("ul");
      if (list && Object.keys(oldItems).length && withoutItems(box) === withoutItems(freshBox)) {
        // Same panel around the list: patch the deliveries in place, newest first.
        var previous = null;
        Array.prototype.forEach.call(fresh.querySelectorAll("[data-delivery-id]"), function (li) {
          var old = oldItems[li.getAttribute("data-delivery-id")];
          var keep = old && old.outerHTML === li.outerHTML ? old : li;
          if (old && keep !== old) { old.replaceWith(keep); }
          var next = previous ? previous.nextElementSibling : list.firstElementChild;
          if (next !== keep) { list.insertBefore(keep, next); }
          previous = keep;
        });
        Object.keys(oldItems).forEach(function (id) { if (!newItems[id]) { oldItems[id].remove(); } });
      } else {
        box.replaceChildren(fresh);
      }
      if (focused && document.activeElement !== focused) {
        // The focused element was replaced or moved: focus its twin, else the panel's heading, never <body>.
        var item = focusedItem && box.querySelector('[data-delivery-id="' + focusedItem.getAttribute("data-delivery-id") + '"]');
        var twin = item && (focused.getAttribute("href") ? item.querySelector('a[href="' + focused.getAttribute("href") + '"]') : null);
        var target = twin || box.querySelector("h2[tabindex]");
        if (target) { target.focus({ preventScroll: true }); }
      }
    }

    var seenEvents = {};
    var inflight = 0;  // this page's own changes on their way (a macro): their events wait for the answer
    var waiting = [];
    function onTicketEvent(ev) {
      if (ev && typeof ev.type === "string" && Object.prototype.hasOwnProperty.call(panels, ev.type)) {
        refreshPanel(panels[ev.type]);
        return;
      }
      if (!ev || (ev.id && seenEvents[ev.id])) { return; }
      if (ev.id) { seenEvents[ev.id] = true; }
      if (inflight) { waiting.push(ev); return; }
      handleTicketEvent(ev);
    }
    function ownChangeDone() {
      inflight = Math.max(0, inflight - 1);
      if (!inflight) { waiting.splice(0).forEach(handleTicketEvent); }
    }
    function handleTicketEvent(ev) {
      var data = ev.data || {};
      var version = data.ticket && typeof data.ticket.version === "number" ? data.ticket.version : null;
      // This page's own changes (a macro) are at or below the version it knows: shown, not announced.
      var fromOthers = version === null || version > knownVersion;
      if (ev.type === "ticket.message_added" || ev.type === "ticket.updated" || ev.type === "ticket.merged") {
        loadNewEntries(fromOthers);
      }
      if ((ev.type === "ticket.updated" || ev.type === "ticket.merged") && fromOthers && data.changes &&
          Object.keys(data.changes).length) {
        showLive(label(page, "updated"));
      }
    }
    document.addEventListener("console:event", function (e) {
      var ev = e.detail || {};
      if (String(ev.subject_id) === String(ticketId) && typeof ev.type === "string" && ev.type.indexOf("ticket.") === 0) {
        onTicketEvent(ev);
      }
    });

    /* Presence: who else has this ticket open, and who is replying. */
    var presenceBox = document.getElementById("presence");
    var presenceList = document.getElementById("presence-list");
    var peers = {};
    function renderPresence() {
      var now = Date.now();
      var people = {};
      Object.keys(peers).forEach(function (conn) {
        var peer = peers[conn];
        if (peer.expires < now) { delete peers[conn]; return; }
        if (String(peer.user.id) === String(myId)) { return; }
        var key = String(peer.user.id);
        var person = people[key] || { name: peer.user.name, typing: false };
        person.typing = person.typing || peer.state === "typing";
        people[key] = person;
      });
      if (!presenceList) { return; }
      while (presenceList.firstChild) { presenceList.removeChild(presenceList.firstChild); }
      var keys = Object.keys(people);
      keys.forEach(function (key) {
        var li = document.createElement("li");
        li.setAttribute("data-state", people[key].typing ? "typing" : "viewing");
        li.setAttribute("data-user-id", key);
        li.textContent = people[key].name + " (" + label(page, people[key].typing ? "typing" : "viewing") + ")";
        presenceList.appendChild(li);
      });
      presenceBox.hidden = keys.length === 0;
    }
    setInterval(renderPresence, 5000);

    var socket = null;
    var connectedBefore = false;
    var attempt = 0;
    var heartbeat = null;
    var stopped = false;
    var typing = false;
    var typingTimer = null;
    function send(message) {
      if (socket && socket.readyState === 1) { socket.send(JSON.stringify(message)); }
    }
    function setTyping(state) {
      if (state === typing) { return; }
      typing = state;
      send({ type: "typing", state: state });
    }
    if (body) {
      body.addEventListener("input", function () {
        setTyping(true);
        clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { setTyping(false); }, 5000);
      });
      body.addEventListener("blur", function () { clearTimeout(typingTimer); setTyping(false); });
      replyForm.addEventListener("submit", function () { setTyping(false); });
    }
    function connect() {
      if (stopped || !("WebSocket" in window)) { return; }
      var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + page.getAttribute("data-ws-path");
      try { socket = new WebSocket(url); } catch (e) { schedule(); return; }
      socket.addEventListener("message", function (msg) {
        var data;
        try { data = JSON.parse(msg.data); } catch (e) { return; }
        if (!data || typeof data !== "object") { return; }
        if (data.type === "hello") {
          if (connectedBefore) { refreshAllPanels(); }  // frames sent while the socket was down are lost
          connectedBefore = true;
          attempt = 0;
          clearInterval(heartbeat);
          heartbeat = setInterval(function () { send({ type: "heartbeat" }); }, (data.heartbeat || 20) * 1000);
          if (typing) { send({ type: "typing", state: true }); }
        } else if (data.type === "presence" && data.conn && data.user) {
          if (data.state === "left") { delete peers[data.conn]; } else {
            peers[data.conn] = { user: data.user, state: data.state, expires: Date.now() + (data.ttl || 60) * 1000 };
          }
          renderPresence();
        } else if (data.type === "event" && data.event) {
          onTicketEvent(data.event);
        }
      });
      socket.addEventListener("close", function (ev) {
        clearInterval(heartbeat);
        peers = {};
        renderPresence();
        if (ev.code === 4401 || ev.code === 4403 || ev.code === 4404) { stopped = true; return; }
        schedule();
      });
    }
    function schedule() {
      if (stopped) { return; }
      var delay = Math.min(30000, 1000 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
      attempt += 1;
      setTimeout(connect, delay);
    }
    connect();

    /* Handle time: measured while the page is visible, sent every minute and on leaving. */
    var timeUrl = page.getAttribute("data-time-url");
    var tokenInput = document.querySelector("#time-auto-form input[name=csrfmiddlewaretoken]");
    var visibleSince = document.visibilityState === "visible" ? Date.now() : null;
    var pendingMs = 0;
    function collect() {
      if (visibleSince !== null) {
        pendingMs += Date.now() - visibleSince;
        visibleSince = document.visibilityState === "visible" ? Date.now() : null;
      }
    }
    function flush(leaving) {
      collect();
      var seconds = Math.min(3600, Math.floor(pendingMs / 1000));
      if (seconds < 1 || !timeUrl || !tokenInput) { return; }
      pendingMs -= seconds * 1000;
      var data = new FormData();
      data.append("csrfmiddlewaretoken", tokenInput.value);
      data.append("source", "auto");
      data.append("seconds", String(seconds));
      if (leaving && navigator.sendBeacon) {
        navigator.sendBeacon(timeUrl, data);
      } else if (window.fetch) {
        fetch(timeUrl, { method: "POST", body: data, credentials: "same-origin", keepalive: true,
                         headers: { "Accept": "application/json" } }).catch(function () {});
      }
    }
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") {
        visibleSince = Date.now();
      } else {
        flush(true);
        visibleSince = null;
      }
    });
    window.addEventListener("pagehide", function () { flush(true); visibleSince = null; });
    setInterval(function () { flush(false); }, 60000);
  }
})();
