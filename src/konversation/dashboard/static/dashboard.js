/* The dashboard's behaviour. Loaded from a file (the pages allow no inline scripts). */
(function () {
  "use strict";

  function toast(text) {
    var box = document.getElementById("kv-toast");
    if (!box) { return; }
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { box.hidden = true; }, 5000);
  }

  // Dialogs marked data-modal open as modal dialogs when they arrive, on load or from htmx.
  function openDialogs(root) {
    var dialogs = root.querySelectorAll ? Array.prototype.slice.call(root.querySelectorAll("dialog[data-modal]")) : [];
    if (root.matches && root.matches("dialog[data-modal]")) { dialogs.push(root); }
    dialogs.forEach( function (dialog) {
      if (dialog.dataset.opened) { return; }
      dialog.dataset.opened = "1";
      // A dialog showing a secret takes it along when closed, out of the page for good.
      if ("removeOnClose" in dialog.dataset) {
        // (The close event of reopening it as a modal below arrives while it is open again.)
        dialog.addEventListener("close", function () { if (!dialog.open) { dialog.remove(); } });
      }
      if (dialog.open) { dialog.close(); }
      if (typeof dialog.showModal === "function") { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
    });
  }

  function selectText(field) {
    field.focus();
    if (typeof field.select === "function") {
      field.select();
    } else {
      var range = document.createRange();
      range.selectNodeContents(field);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
  }

  // Copy buttons: data-copy-target names the field whose text to copy. Without the
  // clipboard API (plain http on another host than localhost) the text is selected instead.
  function copy(button) {
    var field = document.querySelector(button.dataset.copyTarget);
    if (!field) { return; }
    var text = "value" in field ? field.value : field.textContent;
    var done = function () {
      button.textContent = "Copied";
      toast("Copied to the clipboard.");
    };
    var fallback = function () {
      selectText(field);
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
      if (copied) { done(); } else { toast("Press Ctrl+C (or ⌘C) to copy the selected text."); }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy-target]") : null;
    if (button) {
      event.preventDefault();
      copy(button);
    }
    // Close an open user menu when clicking elsewhere.
    var menu = document.querySelector("details.kv-user-menu[open]");
    if (menu && !menu.contains(event.target)) { menu.open = false; }
  });

  document.addEventListener("DOMContentLoaded", function () { openDialogs(document); });
  document.addEventListener("htmx:load", function (event) { openDialogs(event.target); });
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    toast(status === 403 ? "Refused: reload the page and try again." : "Something went wrong (" + status + ").");
  });
  document.addEventListener("htmx:sendError", function () { toast("The server cannot be reached."); });
})();
