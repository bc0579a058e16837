/* The help-center article editor: a contenteditable with a small toolbar over the form's
   textarea (which stays the source of truth on submit, and the whole editor without JS).
   Everything pasted or loaded is cleaned to an allowlist here for comfort; the server
   sanitises again on save, which is what counts. No dependencies, no network but uploads. */
(function () {
  "use strict";

  var BLOCK = { P: 1, H2: 1, H3: 1, H4: 1, UL: 1, OL: 1, LI: 1, BLOCKQUOTE: 1, PRE: 1, TABLE: 1, THEAD: 1, TBODY: 1,
    TR: 1, TH: 1, TD: 1, HR: 1, FIGURE: 1, FIGCAPTION: 1, BR: 1 };
  var INLINE = { STRONG: 1, B: 1, EM: 1, I: 1, U: 1, S: 1, CODE: 1, A: 1, IMG: 1, SUB: 1, SUP: 1, MARK: 1 };
  var DROP = { SCRIPT: 1, STYLE: 1, IFRAME: 1, OBJECT: 1, EMBED: 1, TEMPLATE: 1, NOSCRIPT: 1, SVG: 1, MATH: 1,
    FORM: 1, INPUT: 1, BUTTON: 1, SELECT: 1, TEXTAREA: 1, LINK: 1, META: 1, TITLE: 1, HEAD: 1 };

  function safeUrl(value, forImage) {
    var url = (value || "").trim();
    if (!url) return "";
    if (url.charAt(0) === "/" && url.charAt(1) !== "/") return url;
    if (/^https:\/\//i.test(url)) return url;
    if (!forImage && /^(http:\/\/|mailto:|tel:|#)/i.test(url)) return url;
    return "";
  }

  // Copy the allowed parts of an inert (DOMParser) tree into a fragment of this document.
  function cleanNode(node, into) {
    for (var child = node.firstChild; child; child = child.nextSibling) {
      if (child.nodeType === 3) { into.appendChild(document.createTextNode(child.nodeValue)); continue; }
      if (child.nodeType !== 1) continue;
      var tag = child.nodeName.toUpperCase();
      if (DROP[tag]) continue;
      if (BLOCK[tag] || INLINE[tag]) {
        var el = document.createElement(tag === "B" ? "strong" : tag === "I" ? "em" : tag.toLowerCase());
        if (tag === "A") {
          var href = safeUrl(child.getAttribute("href"), false);
          if (href) el.setAttribute("href", href);
        } else if (tag === "IMG") {
          var src = safeUrl(child.getAttribute("src"), true);
          if (!src) continue;
          el.setAttribute("src", src);
          el.setAttribute("alt", child.getAttribute("alt") || "");
        }
        cleanNode(child, el);
        into.appendChild(el);
      } else {
        cleanNode(child, into); // unknown wrapper (div, span, font…): keep its content
        if (tag === "DIV") into.appendChild(document.createElement("br"));
      }
    }
  }

  function cleanHtml(html) {
    var doc = new DOMParser().parseFromString("<body>" + (html || "") + "</body>", "text/html");
    var fragment = document.createDocumentFragment();
    cleanNode(doc.body, fragment);
    return fragment;
  }

  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function setup(host) {
    var source = document.getElementById(host.getAttribute("data-source"));
    if (!source || !window.DOMParser || !document.execCommand) return;
    var form = source.form;
    var d = host.dataset;
    var savedRange = null;
    var dirty = false;

    var toolbar = document.createElement("div");
    toolbar.className = "kb-editbar";
    toolbar.setAttribute("role", "toolbar");
    toolbar.setAttribute("aria-label", d.labelToolbar);
    toolbar.setAttribute("aria-controls", source.id + "-rich");

    var rich = document.createElement("div");
    rich.className = "kb-rich kb-body";
    rich.id = source.id + "-rich";
    rich.contentEditable = "true";
    rich.setAttribute("role", "textbox");
    rich.setAttribute("aria-multiline", "true");
    rich.setAttribute("aria-label", d.labelRich);
    rich.appendChild(cleanHtml(source.value));

    function remember() {
      var sel = window.getSelection();
      if (sel.rangeCount && rich.contains(sel.getRangeAt(0).commonAncestorContainer)) {
        savedRange = sel.getRangeAt(0).cloneRange();
      }
    }
    function restore() {
      rich.focus();
      if (savedRange) {
        var sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(savedRange);
      }
    }
    function exec(command, value) {
      restore();
      document.execCommand(command, false, value);
      dirty = true;
      remember();
    }
    function insertFragment(fragment) {
      var wrapper = document.createElement("div");
      wrapper.appendChild(fragment);
      exec("insertHTML", wrapper.innerHTML);
    }

    var sourceMode = false;
    var actions = [
      ["h2", "H2", function () { exec("formatBlock", "<h2>"); }],
      ["h3", "H3", function () { exec("formatBlock", "<h3>"); }],
      ["p", "¶", function () { exec("formatBlock", "<p>"); }],
      null,
      ["bold", "B", function () { exec("bold"); }],
      ["italic", "I", function () { exec("italic"); }],
      null,
      ["ul", "•", function () { exec("insertUnorderedList"); }],
      ["ol", "1.", function () { exec("insertOrderedList"); }],
      ["quote", "“”", function () { exec("formatBlock", "<blockquote>"); }],
      ["code", "</>", function () {
        restore();
        var text = window.getSelection().toString();
        if (text) { exec("insertHTML", "<code>" + escapeHtml(text) + "</code>"); }
        else { exec("formatBlock", "<pre>"); }
      }],
      null,
      ["link", d.labelLink, function () {
        remember();
        var url = safeUrl(window.prompt(d.promptLink, "https://"), false);
        if (url) exec("createLink", url);
      }],
      ["unlink", d.labelUnlink, function () { exec("unlink"); }],
      ["image", d.labelImageShort || d.labelImage, function () {
        remember();
        var first = document.querySelector("[data-kb-insert][data-kb-image='1']");
        if (first) { first.focus(); } else { window.alert(d.noImages); }
      }],
      null,
      ["source", "HTML", function (button) {
        sourceMode = !sourceMode;
        if (sourceMode) {
          sync();
          source.hidden = false;
          rich.hidden = true;
          source.focus();
        } else {
          rich.textContent = "";
          rich.appendChild(cleanHtml(source.value));
          source.hidden = true;
          rich.hidden = false;
          rich.focus();
        }
        button.setAttribute("aria-pressed", sourceMode ? "true" : "false");
        Array.prototype.forEach.call(toolbar.querySelectorAll("button"), function (other) {
          if (other !== button) other.disabled = sourceMode;
        });
      }]
    ];
    actions.forEach(function (item) {
      if (!item) {
        var sep = document.createElement("span");
        sep.className = "kb-sep";
        sep.setAttribute("aria-hidden", "true");
        toolbar.appendChild(sep);
        return;
      }
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = item[1];
      var label = d["label" + item[0].charAt(0).toUpperCase() + item[0].slice(1)] || item[0];
      button.setAttribute("aria-label", label);
      button.title = label;
      if (item[0] === "source") button.setAttribute("aria-pressed", "false");
      // Keep the editor's selection when the button is clicked with a mouse.
      button.addEventListener("mousedown", function (event) { event.preventDefault(); });
      button.addEventListener("click", function () { item[2](button); });
      toolbar.appendChild(button);
    });

    // Arrow keys move between the toolbar's buttons (one tab stop for the toolbar).
    toolbar.addEventListener("keydown", function (event) {
      if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
      var buttons = Array.prototype.filter.call(toolbar.querySelectorAll("button"), function (b) { return !b.disabled; });
      var index = buttons.indexOf(document.activeElement);
      if (index < 0) return;
      var next = buttons[(index + (event.key === "ArrowRight" ? 1 : buttons.length - 1)) % buttons.length];
      buttons.forEach(function (b) { b.tabIndex = -1; });
      next.tabIndex = 0;
      next.focus();
      event.preventDefault();
    });
    Array.prototype.forEach.call(toolbar.querySelectorAll("button"), function (b, i) { b.tabIndex = i === 0 ? 0 : -1; });

    rich.addEventListener("keyup", remember);
    rich.addEventListener("mouseup", remember);
    rich.addEventListener("input", function () { dirty = true; });
    rich.addEventListener("paste", function (event) {
      var data = event.clipboardData;
      if (!data) return;
      event.preventDefault();
      var html = data.getData("text/html");
      if (html) { insertFragment(cleanHtml(html)); }
      else { exec("insertText", data.getData("text/plain")); }
    });
    rich.addEventListener("drop", function (event) { event.preventDefault(); });
    source.addEventListener("input", function () { dirty = true; });

    function sync() {
      // Through the same allowlist as a paste: <b>/<i> from the browser's commands become
      // <strong>/<em>, stray wrappers go.
      if (sourceMode) return;
      var wrapper = document.createElement("div");
      wrapper.appendChild(cleanHtml(rich.innerHTML));
      source.value = wrapper.innerHTML;
    }
    if (form) {
      form.addEventListener("submit", function () { sync(); dirty = false; });
    }
    window.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });

    source.hidden = true;
    host.appendChild(toolbar);
    host.appendChild(rich);

    // "Insert" buttons of the files list, and uploads in place.
    function wireInsert(button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var url = safeUrl(button.getAttribute("data-kb-insert"), true);
        if (!url) return;
        var name = button.getAttribute("data-kb-name") || "";
        if (sourceMode) return;
        if (button.getAttribute("data-kb-image") === "1") {
          exec("insertHTML", '<img src="' + escapeHtml(url) + '" alt="' + escapeHtml(name) + '">');
        } else {
          exec("insertHTML", '<a href="' + escapeHtml(url) + '">' + escapeHtml(name) + "</a>");
        }
      });
    }
    Array.prototype.forEach.call(document.querySelectorAll("[data-kb-insert]"), wireInsert);

    var upload = document.querySelector("[data-kb-upload]");
    var list = document.querySelector("[data-kb-files]");
    if (upload && list && window.fetch && window.FormData) {
      var status = upload.querySelector("[data-kb-upload-status]");
      upload.addEventListener("submit", function (event) {
        event.preventDefault();
        var body = new FormData(upload);
        status.textContent = "…";
        fetch(upload.action, {
          method: "POST", body: body, credentials: "same-origin",
          headers: { "Accept": "application/json", "X-CSRFToken": body.get("csrfmiddlewaretoken") }
        }).then(function (response) {
          return response.json().then(function (data) { return { ok: response.ok, data: data }; });
        }).then(function (result) {
          if (!result.ok) { status.textContent = (result.data.errors || []).join(" "); return; }
          var file = result.data;
          status.textContent = file.filename;
          var empty = list.querySelector("[data-kb-no-files]");
          if (empty) empty.remove();
          var li = document.createElement("li");
          if (file.is_image) {
            var img = document.createElement("img");
            img.src = file.preview_url;
            img.alt = "";
            li.appendChild(img);
          }
          var link = document.createElement("a");
          link.href = file.preview_url;
          link.textContent = file.filename;
          li.appendChild(link);
          var insert = document.createElement("button");
          insert.type = "button";
          insert.className = "button button-small";
          insert.textContent = file.is_image ? (upload.getAttribute("data-label-insert-image") || "+") : "+";
          insert.setAttribute("data-kb-insert", file.url);
          insert.setAttribute("data-kb-name", file.filename);
          insert.setAttribute("data-kb-image", file.is_image ? "1" : "");
          li.appendChild(insert);
          list.insertBefore(li, list.firstChild);
          wireInsert(insert);
          upload.reset();
          if (file.is_image) insert.click();
        }).catch(function () { status.textContent = "!"; });
      });
    }
  }

  function setupVisibility() {
    var group = document.querySelector("[data-kb-visibility]");
    var organizations = document.querySelector("[data-kb-organizations]");
    if (!group || !organizations) return;
    function update() {
      var checked = group.querySelector("input:checked");
      organizations.hidden = !(checked && checked.value === "organizations");
    }
    group.addEventListener("change", update);
    update();
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-kb-editor]"), setup);
    setupVisibility();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
