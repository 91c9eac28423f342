/*
 * The Konversation web chat page.
 *
 * The visitor id lives in localStorage, so a reload (or the widget on another page of the same
 * site) carries on the same conversation; the history is read back from the server each time
 * the live connection opens. Live events come over a WebSocket, or over server-sent events
 * (with messages POSTed) where a WebSocket cannot be opened.
 *
 * Everything a message carries is put on the page as text (textContent) or as a checked
 * http(s) address, never as HTML.
 */
(function () {
  "use strict";

  var uid = document.body.getAttribute("data-uid");
  var storageKey = "konversation.webchat." + uid;
  var list = document.querySelector(".kv-messages");
  var quickReplies = document.querySelector(".kv-quick-replies");
  var form = document.querySelector(".kv-composer");
  var input = document.querySelector(".kv-input");
  var statusLine = document.querySelector(".kv-status");

  var PING_MS = 25000;
  var MAX_BACKOFF_MS = 15000;
  // After this many WebSockets that never opened, the page uses server-sent events instead.
  var SOCKET_TRIES = 2;

  var memoryVisitor = null;
  var visitor = null;
  var socket = null;
  var events = null;
  var useEvents = !("WebSocket" in window);
  var socketFailures = 0;
  var retries = 0;
  var reconnectTimer = null;
  var pingTimer = null;
  var pending = {};
  var resending = false;
  // The visitor's messages on the page that no history has shown yet, by their id.
  var unstored = {};
  // Live events that arrive while the history is being read back, shown after it.
  var buffered = null;

  // The visitor

  function storedVisitor() {
    try {
      return window.localStorage.getItem(storageKey);
    } catch (e) {
      return memoryVisitor;
    }
  }

  function keepVisitor(id) {
    memoryVisitor = id;
    try {
      window.localStorage.setItem(storageKey, id);
    } catch (e) {
      /* storage is blocked: the visitor lasts as long as the page */
    }
  }

  function url(path, query) {
    var address = new URL(encodeURIComponent(uid) + path, window.location.href);
    Object.keys(query || {}).forEach(function (key) {
      address.searchParams.set(key, query[key]);
    });
    return address;
  }

  function request(method, path, query, body) {
    var options = { method: method, headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url(path, query).toString(), options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.message || "HTTP " + response.status);
          error.status = response.status;
          throw error;
        }
        return data;
      });
    });
  }

  function newVisitor() {
    return request("POST", "/visitors").then(function (answer) {
      visitor = answer.data.visitor;
      keepVisitor(visitor);
      return [];
    });
  }

  function readHistory() {
    return request("GET", "/history", { visitor: visitor }).then(function (answer) {
      return answer.data;
    });
  }

  // The stored id may be one this channel no longer knows: then the visitor starts afresh.
  function startConversation() {
    visitor = storedVisitor();
    var history = visitor ? readHistory() : newVisitor();
    return history.catch(function (error) {
      if (error.status === 404) {
        return newVisitor();
      }
      throw error;
    }).then(showHistory);
  }

  // Showing messages

  function clear(element) {
    while (element.firstChild) {
      element.removeChild(element.firstChild);
    }
  }

  function make(tag, className, text) {
    var element = document.createElement(tag);
    if (className) {
      element.className = className;
    }
    if (text !== undefined && text !== null) {
      element.textContent = String(text);
    }
    return element;
  }

  function safeUrl(address, protocols) {
    if (typeof address !== "string") {
      return null;
    }
    try {
      var parsed = new URL(address, window.location.href);
      return (protocols || ["http:", "https:"]).indexOf(parsed.protocol) >= 0 ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  function link(address, text) {
    var anchor = make("a", "kv-link", text);
    anchor.href = address;
    anchor.target = "_blank";
    anchor.rel = "noopener noreferrer";
    return anchor;
  }

  function buttonElement(button) {
    if (button.type === "url") {
      var address = safeUrl(button.url);
      if (!address) {
        return null;
      }
      var anchor = link(address, button.title);
      anchor.className = "kv-button";
      return anchor;
    }
    if (button.type === "phone") {
      var phone = make("a", "kv-button", button.title);
      phone.href = "tel:" + String(button.phone).replace(/[^0-9+]/g, "");
      return phone;
    }
    var pressable = make("button", "kv-button", button.title);
    pressable.type = "button";
    pressable.addEventListener("click", function () {
      say({ payload: button.payload, title: button.title });
    });
    return pressable;
  }

  function buttonsElement(buttons) {
    var group = make("div", "kv-buttons");
    (buttons || []).forEach(function (button) {
      var element = buttonElement(button);
      if (element) {
        group.appendChild(element);
      }
    });
    return group.childNodes.length ? group : null;
  }

  function append(parent, child) {
    if (child) {
      parent.appendChild(child);
    }
  }

  function mediaElement(message) {
    var address = safeUrl(message.url);
    var label = message.caption || "";
    if (!address) {
      return make("p", "kv-text", label || "(unavailable " + message.type + ")");
    }
    var box = make("div", "kv-media");
    if (message.type === "image") {
      var image = make("img", "kv-image");
      image.src = address;
      image.alt = label || "Image";
      image.loading = "lazy";
      box.appendChild(image);
    } else if (message.type === "audio" || message.type === "video") {
      var player = make(message.type, "kv-player");
      player.controls = true;
      player.preload = "metadata";
      player.src = address;
      box.appendChild(player);
      box.appendChild(link(address, "Open " + message.type));
    } else {
      box.appendChild(link(address, label || decodeURIComponent(address.split("/").pop()) || "File"));
      return box;
    }
    if (label) {
      box.appendChild(make("p", "kv-caption", label));
    }
    return box;
  }

  function cardsElement(message) {
    var row = make("div", "kv-cards");
    (message.cards || []).forEach(function (card) {
      var item = make("div", "kv-card");
      var image = safeUrl(card.image_url);
      if (image) {
        var picture = make("img", "kv-card-image");
        picture.src = image;
        picture.alt = card.title || "";
        picture.loading = "lazy";
        item.appendChild(picture);
      }
      item.appendChild(make("p", "kv-card-title", card.title));
      if (card.subtitle) {
        item.appendChild(make("p", "kv-card-subtitle", card.subtitle));
      }
      append(item, buttonsElement(card.buttons));
      row.appendChild(item);
    });
    return row;
  }

  function bodyOf(message) {
    if (message.type === "cards") {
      return cardsElement(message);
    }
    if (message.type === "text" || !message.type) {
      var text = make("div", "kv-bubble");
      text.appendChild(make("p", "kv-text", message.text || ""));
      append(text, buttonsElement(message.buttons));
      return text;
    }
    var media = make("div", "kv-bubble");
    media.appendChild(mediaElement(message));
    append(media, buttonsElement(message.buttons));
    return media;
  }

  function entryElement(entry) {
    var direction = entry.direction || "out";
    var item = make("li", "kv-message kv-" + direction);
    item.setAttribute("data-direction", direction);
    if (direction === "in") {
      var bubble = make("div", "kv-bubble");
      bubble.appendChild(make("p", "kv-text", entry.message.text || ""));
      item.appendChild(bubble);
    } else {
      item.appendChild(bodyOf(entry.message || {}));
    }
    return item;
  }

  function showQuickReplies(replies) {
    clear(quickReplies);
    (replies || []).forEach(function (reply) {
      var button = make("button", "kv-quick-reply", reply.title);
      button.type = "button";
      button.addEventListener("click", function () {
        say({ payload: reply.payload, title: reply.title });
      });
      quickReplies.appendChild(button);
    });
  }

  function scrollDown() {
    list.scrollTop = list.scrollHeight;
  }

  function showEntry(entry) {
    list.appendChild(entryElement(entry));
    if ((entry.direction || "out") !== "in") {
      showQuickReplies(entry.message && entry.message.quick_replies);
    }
    scrollDown();
  }

  // The history replaces what is shown; the visitor's messages it does not hold yet (on their
  // way, or not sent) stay at the end.
  function showHistory(entries) {
    var stored = {};
    entries.forEach(function (entry) {
      if (entry.said_id) {
        stored[entry.said_id] = true;
      }
    });
    clear(list);
    showQuickReplies([]);
    entries.forEach(showEntry);
    Object.keys(unstored).forEach(function (id) {
      if (stored[id]) {
        delete unstored[id];
      } else {
        list.appendChild(unstored[id]);
      }
    });
    scrollDown();
    return entries;
  }

  function sameMessage(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
  }

  // Re-reads the history once the live connection listens, so nothing sent meanwhile is lost.
  function refreshHistory() {
    buffered = [];
    return readHistory().then(function (entries) {
      var late = buffered;
      buffered = null;
      showHistory(entries);
      // A message may have been delivered live while it was also being read back.
      var tail = entries.slice(-late.length || entries.length);
      late.forEach(function (event) {
        var index = tail.findIndex(function (entry) {
          return entry.direction !== "in" && sameMessage(entry.message, event.message);
        });
        if (index >= 0) {
          tail.splice(index, 1);
        } else {
          showEntry(event);
        }
      });
    }).catch(function () {
      var late = buffered || [];
      buffered = null;
      late.forEach(showEntry);
    });
  }

  function onEvent(event) {
    if (!event || event.type !== "message") {
      return onAnswer(event);
    }
    if (buffered) {
      buffered.push(event);
    } else {
      showEntry(event);
    }
  }

  // Saying something
  //
  // Each message carries an id the page makes, so sending it again (after a lost connection,
  // or from the Retry button) is taken once by the server. Until the server confirms it, a
  // message stays in `pending`; one sent over a socket that closed is sent again on reconnect.

  function messageId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (byte) {
      return ("0" + byte.toString(16)).slice(-2);
    }).join("");
  }

  function say(said) {
    var shown = said.payload ? said.title || said.text || "" : said.text;
    var element = entryElement({ direction: "in", message: { type: "text", text: shown } });
    list.appendChild(element);
    showQuickReplies([]);
    scrollDown();
    var id = messageId();
    pending[id] = { said: said, element: element, failed: false };
    unstored[id] = element;
    transmit(id);
  }

  function transmit(id) {
    var said = pending[id].said;
    if (socket && socket.readyState === WebSocket.OPEN) {
      var message = { type: "message", id: id, ref: id };
      Object.keys(said).forEach(function (key) {
        message[key] = said[key];
      });
      socket.send(JSON.stringify(message));
      return;
    }
    var body = { visitor: visitor, id: id };
    Object.keys(said).forEach(function (key) {
      body[key] = said[key];
    });
    request("POST", "/messages", {}, body).then(function () {
      confirmed(id);
    }, function (error) {
      markFailed(id, error.message);
    });
  }

  function unconfirmed() {
    return Object.keys(pending).filter(function (id) {
      return !pending[id].failed;
    });
  }

  function confirmed(id) {
    delete pending[id];
    settleResend();
  }

  // Once what was sent again is confirmed, the history shows it in its place.
  function settleResend() {
    if (resending && unconfirmed().length === 0) {
      resending = false;
      refreshHistory();
    }
  }

  function onAnswer(answer) {
    if (!answer || typeof answer.ref !== "string" || !pending[answer.ref]) {
      return;
    }
    if (answer.type === "accepted") {
      confirmed(answer.ref);
    } else if (answer.type === "error") {
      markFailed(answer.ref, answer.message);
      settleResend();
    }
  }

  function markFailed(id, reason) {
    var sent = pending[id];
    if (!sent || sent.failed) {
      return;
    }
    sent.failed = true;
    sent.element.classList.add("kv-failed");
    var retry = make("button", "kv-retry", "Not sent. Retry");
    retry.type = "button";
    retry.title = reason || "The message was not sent";
    retry.addEventListener("click", function () {
      sent.failed = false;
      sent.element.classList.remove("kv-failed");
      sent.element.removeChild(retry);
      transmit(id);
    });
    sent.element.appendChild(retry);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim() || !visitor) {
      return;
    }
    input.value = "";
    say({ text: text });
  });

  // Staying connected

  function setStatus(text) {
    statusLine.textContent = text;
  }

  function scheduleReconnect() {
    if (reconnectTimer) {
      return;
    }
    var wait = Math.min(MAX_BACKOFF_MS, 500 * Math.pow(2, retries));
    retries += 1;
    setStatus("Reconnecting…");
    reconnectTimer = window.setTimeout(function () {
      reconnectTimer = null;
      connect();
    }, wait);
  }

  function connected() {
    retries = 0;
    setStatus("");
    var lost = unconfirmed();
    if (lost.length) {
      resending = true;
      lost.forEach(transmit);
    } else {
      refreshHistory();
    }
  }

  function connectSocket() {
    var address = url("/ws", { visitor: visitor });
    address.protocol = address.protocol === "https:" ? "wss:" : "ws:";
    var opened = false;
    socket = new WebSocket(address.toString());
    socket.onopen = function () {
      opened = true;
      socketFailures = 0;
      pingTimer = window.setInterval(function () {
        if (socket && socket.readyState === WebSocket.OPEN) {
          socket.send(JSON.stringify({ type: "ping" }));
        }
      }, PING_MS);
      connected();
    };
    socket.onmessage = function (message) {
      try {
        onEvent(JSON.parse(message.data));
      } catch (e) {
        /* not ours to show */
      }
    };
    socket.onclose = function () {
      window.clearInterval(pingTimer);
      socket = null;
      if (!opened) {
        socketFailures += 1;
        useEvents = socketFailures >= SOCKET_TRIES;
      }
      scheduleReconnect();
    };
  }

  function connectEvents() {
    events = new EventSource(url("/events", { visitor: visitor }).toString());
    events.onopen = connected;
    events.onmessage = function (message) {
      try {
        onEvent(JSON.parse(message.data));
      } catch (e) {
        /* not ours to show */
      }
    };
    events.onerror = function () {
      // The browser reconnects by itself unless the server refused the stream for good.
      if (events.readyState === EventSource.CLOSED) {
        events = null;
        scheduleReconnect();
      } else {
        setStatus("Reconnecting…");
      }
    };
  }

  function connect() {
    if (useEvents) {
      connectEvents();
    } else {
      connectSocket();
    }
  }

  function start() {
    startConversation().then(connect, function () {
      setStatus("The chat is not available right now.");
      window.setTimeout(start, Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, retries++)));
    });
  }

  start();
})();
