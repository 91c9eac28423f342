/*
 * The Konversation web chat widget: paste
 *   <script src="https://<server>/webchat/<uid>/widget.js" async></script>
 * into a site to show a chat bubble that opens the bot's chat page in a panel.
 *
 * It sets styles through the DOM (no stylesheet), so a site's Content-Security-Policy needs to
 * allow only this script and frames from the chat server.
 */
(function () {
  "use strict";

  function ownScript() {
    if (document.currentScript && document.currentScript.src) {
      return document.currentScript;
    }
    var scripts = document.querySelectorAll("script[src]");
    for (var i = scripts.length - 1; i >= 0; i -= 1) {
      if (/\/webchat\/[^/]+\/widget\.js(?:[?#].*)?$/.test(scripts[i].src)) {
        return scripts[i];
      }
    }
    return null;
  }

  var script = ownScript();
  if (!script) {
    return;
  }
  var page = script.src.replace(/\/widget\.js(?:[?#].*)?$/, "");
  var shown = (window.__konversationWebchat = window.__konversationWebchat || {});
  if (shown[page]) {
    return;
  }
  shown[page] = true;

  function styled(tag, styles) {
    var element = document.createElement(tag);
    Object.keys(styles).forEach(function (name) {
      element.style[name] = styles[name];
    });
    return element;
  }

  function build() {
    var host = styled("div", {
      position: "fixed",
      right: "20px",
      bottom: "20px",
      zIndex: "2147483000",
      display: "flex",
      flexDirection: "column",
      alignItems: "flex-end",
      gap: "12px",
    });
    host.className = "konversation-webchat";

    var panel = styled("div", {
      display: "none",
      width: "min(380px, calc(100vw - 40px))",
      height: "min(600px, calc(100vh - 110px))",
      overflow: "hidden",
      background: "#fff",
      borderRadius: "14px",
      boxShadow: "0 8px 28px rgba(0, 0, 0, 0.25)",
    });
    panel.id = "konversation-webchat-panel-" + Math.random().toString(36).slice(2);

    var bubble = styled("button", {
      width: "56px",
      height: "56px",
      padding: "0",
      color: "#fff",
      fontSize: "26px",
      lineHeight: "56px",
      cursor: "pointer",
      background: "#3b5bdb",
      border: "0",
      borderRadius: "50%",
      boxShadow: "0 4px 14px rgba(0, 0, 0, 0.25)",
    });
    bubble.type = "button";
    bubble.textContent = "\u{1F4AC}";
    bubble.setAttribute("aria-label", "Open chat");
    bubble.setAttribute("aria-expanded", "false");
    bubble.setAttribute("aria-controls", panel.id);

    var frame = null;
    bubble.addEventListener("click", function () {
      var open = panel.style.display === "none";
      if (open && !frame) {
        // The page loads on first open only, so a site's visitors who never chat cost nothing.
        frame = styled("iframe", { width: "100%", height: "100%", border: "0" });
        frame.title = "Chat";
        frame.src = page;
        panel.appendChild(frame);
      }
      panel.style.display = open ? "block" : "none";
      bubble.textContent = open ? "\u00D7" : "\u{1F4AC}";
      bubble.setAttribute("aria-label", open ? "Close chat" : "Open chat");
      bubble.setAttribute("aria-expanded", open ? "true" : "false");
    });

    host.appendChild(panel);
    host.appendChild(bubble);
    document.body.appendChild(host);
  }

  if (document.body) {
    build();
  } else {
    document.addEventListener("DOMContentLoaded", build);
  }
})();
