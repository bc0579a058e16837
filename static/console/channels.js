/* Copy buttons of the channel pages: <button data-copy="element-id"> copies that element's text.
   The result is announced in the page's .copy-status live region. */
(function () {
  "use strict";
  function announce(button, key) {
    var status = document.querySelector(".copy-status");
    if (status) { status.textContent = status.getAttribute(key) || ""; }
  }
  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) { return; }
    var text = source.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { announce(button, "data-copied"); },
        function () { selectText(source); announce(button, "data-copy-failed"); });
    } else {
      selectText(source);
      announce(button, "data-copy-failed");
    }
  });
}());
