// Dialogs. A <dialog> that htmx swaps into #dialog-slot opens modal (showModal: a backdrop,
// Escape closes it, the page behind is inert); Tab and Shift+Tab stay inside it; closing it
// empties the slot and returns focus to the control that opened it. A link marked
// data-close-dialog closes the dialog it sits in; outside a dialog (the same content as a
// page of its own, without JavaScript) it is an ordinary link.
(function () {
  "use strict";
  var openerId = null;
  var opener = null;
  var FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), ' +
    'select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

  function slot() { return document.getElementById("dialog-slot"); }

  function current() {
    var s = slot();
    return s ? s.querySelector("dialog") : null;
  }

  function focusables(root) {
    return Array.prototype.filter.call(root.querySelectorAll(FOCUSABLE), function (el) {
      return !el.hidden && el.getClientRects().length > 0;
    });
  }

  function open(dialog) {
    if (!dialog || typeof dialog.showModal !== "function" || dialog.matches(":modal")) { return; }
    dialog.removeAttribute("open");
    dialog.showModal();
    var first = dialog.querySelector("[autofocus]") || focusables(dialog)[0];
    if (first) { first.focus(); }
  }

  // Remember who opens a dialog (a request into an empty slot), not the form inside it.
  document.addEventListener("htmx:beforeRequest", function (e) {
    var target = e.detail && e.detail.target;
    var elt = e.detail && e.detail.elt;
    if (!target || target.id !== "dialog-slot" || current()) { return; }
    opener = elt && elt.closest ? elt : document.activeElement;
    openerId = opener && opener.id ? opener.id : null;
  });

  document.addEventListener("htmx:afterSettle", function () { open(current()); });

  // "close" does not bubble: listen while it travels down.
  document.addEventListener("close", function (e) {
    var dialog = e.target;
    var s = slot();
    if (!s || !(dialog instanceof HTMLDialogElement) || dialog.parentNode !== s) { return; }
    s.replaceChildren();
    // The row may have been swapped meanwhile: find the opener again by its id.
    var back = (openerId && document.getElementById(openerId)) ||
      (opener && document.contains(opener) ? opener : null);
    opener = null;
    openerId = null;
    if (back) { back.focus(); }
  }, true);

  document.addEventListener("keydown", function (e) {
    if (e.key !== "Tab") { return; }
    var dialog = current();
    if (!dialog || !dialog.open) { return; }
    var items = focusables(dialog);
    if (items.length === 0) { return; }
    var first = items[0];
    var last = items[items.length - 1];
    var inside = dialog.contains(document.activeElement);
    if (e.shiftKey && (!inside || document.activeElement === first)) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (!inside || document.activeElement === last)) {
      e.preventDefault();
      first.focus();
    }
  });

  document.addEventListener("click", function (e) {
    var link = e.target.closest ? e.target.closest("[data-close-dialog]") : null;
    var dialog = link ? link.closest("dialog") : null;
    if (!dialog) { return; }
    e.preventDefault();
    dialog.close();
  });
})();
