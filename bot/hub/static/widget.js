/* Support chat widget. Embed with one tag:
 *   <script src="http://HOST:8000/widget.js" defer></script>
 * Optional: data-title="Chat with us", data-open="true".
 * Every piece of text from the network is rendered with textContent / text nodes. */
(function () {
  "use strict";
  if (window.__sbWidgetLoaded) return;
  window.__sbWidgetLoaded = true;

  var script = document.currentScript || (function () {
    var tags = document.querySelectorAll('script[src*="widget.js"]');
    return tags[tags.length - 1] || null;
  })();
  var base = new URL(script && script.src ? script.src : location.href).origin;
  var title = (script && script.getAttribute("data-title")) || "Chat with us";
  var startOpen = !!script && script.getAttribute("data-open") === "true";
  var KEY_SESSION = "sb_session_id", KEY_OUTBOX = "sb_outbox";
  var KINDS = ["customer", "bot", "agent", "system"];

  function load(key, fallback) {
    try { var v = localStorage.getItem(key); return v === null ? fallback : JSON.parse(v); } catch (e) { return fallback; }
  }
  function save(key, value) {
    try {
      if (value === null) localStorage.removeItem(key); else localStorage.setItem(key, JSON.stringify(value));
    } catch (e) { /* storage disabled: the chat still works for this page */ }
  }
  function uuid() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === "function") { try { return c.randomUUID(); } catch (e) { /* insecure context */ } }
    var b = new Uint8Array(16), i;
    if (c && c.getRandomValues) c.getRandomValues(b); else for (i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function el(tag, props, kids) {
    var n = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
      if (k === "text") n.textContent = props[k];
      else if (k === "className") n.className = props[k];
      else n.setAttribute(k, props[k]);
    });
    (kids || []).forEach(function (c) { if (c) n.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return n;
  }
  // Plain text with http(s) URLs turned into links; nothing is ever parsed as HTML.
  function appendRichText(node, text) {
    var re = /\bhttps?:\/\/[^\s<>"']+/gi, last = 0, m;
    while ((m = re.exec(text))) {
      var url = m[0].replace(/[.,;:!?)\]}]+$/, "");
      node.appendChild(document.createTextNode(text.slice(last, m.index)));
      if (/^https?:\/\/./i.test(url)) {
        node.appendChild(el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: url }));
      } else {
        node.appendChild(document.createTextNode(url));
      }
      last = m.index + url.length;
      re.lastIndex = last;
    }
    node.appendChild(document.createTextNode(text.slice(last)));
  }
  function safeImageSrc(att) {
    if (!att || att.type !== "image" || !att.payload) return null;
    try {
      var u = new URL(String(att.payload.src || ""), base);
      return /^https?:$/.test(u.protocol) ? u.href : null;
    } catch (e) { return null; }
  }

  var css = [
    "#sb-root,#sb-root *{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;line-height:1.4;letter-spacing:normal}",
    "#sb-root [hidden]{display:none!important}",
    "#sb-root .sb-sr{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "#sb-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:58px;height:58px;border-radius:50%;border:0;margin:0;padding:0;background:#0b5cad;color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center}",
    "#sb-launcher:hover{background:#094a8c}#sb-launcher:focus-visible{outline:3px solid #f5b400;outline-offset:2px}",
    "#sb-launcher svg{width:28px;height:28px;fill:currentColor}",
    "#sb-unread{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;border-radius:10px;background:#d93025;color:#fff;font-size:12px;font-weight:700;line-height:20px;text-align:center}",
    "#sb-panel{position:fixed;right:20px;bottom:90px;z-index:2147483000;width:370px;max-width:calc(100vw - 24px);height:540px;max-height:calc(100vh - 110px);display:flex;flex-direction:column;background:#fff;color:#1f2328;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);overflow:hidden;font-size:14px}",
    "#sb-root .sb-header{display:flex;align-items:center;gap:8px;padding:12px 14px;background:#0b5cad;color:#fff}",
    "#sb-root .sb-title{flex:1;font-weight:600;font-size:15px;margin:0}",
    "#sb-root .sb-conn{font-size:12px;opacity:.9}",
    "#sb-root .sb-close{background:transparent;border:0;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:2px 6px;margin:0;border-radius:4px}",
    "#sb-root .sb-close:focus-visible{outline:2px solid #fff}",
    "#sb-messages{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f6f7f9}",
    "#sb-root .sb-msg{display:flex;flex-direction:column;max-width:85%;align-self:flex-start}",
    "#sb-root .sb-bubble{padding:8px 12px;border-radius:14px;white-space:pre-wrap;word-wrap:break-word;overflow-wrap:anywhere}",
    "#sb-root .sb-from-bot .sb-bubble{background:#fff;border:1px solid #dfe3e8;border-bottom-left-radius:4px}",
    "#sb-root .sb-from-customer{align-self:flex-end;align-items:flex-end}",
    "#sb-root .sb-from-customer .sb-bubble{background:#0b5cad;color:#fff;border-bottom-right-radius:4px}",
    "#sb-root .sb-from-agent .sb-bubble{background:#e6f4ea;border:1px solid #a8d5b5;border-bottom-left-radius:4px}",
    "#sb-root .sb-from-system{align-self:center;max-width:95%;text-align:center}",
    "#sb-root .sb-from-system .sb-bubble{background:transparent;color:#57606a;font-size:12.5px;font-style:italic;padding:2px 8px}",
    "#sb-root .sb-label{font-size:12px;color:#1e7b3c;font-weight:600;margin:0 0 2px 4px}",
    "#sb-root .sb-bubble a{color:inherit;text-decoration:underline}",
    "#sb-root .sb-image{max-width:100%;border-radius:10px;margin-top:4px}",
    "#sb-root .sb-pending .sb-bubble{opacity:.6}",
    "#sb-root .sb-failed .sb-bubble{background:#fce8e6;color:#a50e0e}",
    "#sb-root .sb-note{font-size:11.5px;color:#8a4b00;margin-top:2px}",
    "#sb-root .sb-failed .sb-note{color:#a50e0e}",
    "#sb-root .sb-replies{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}",
    "#sb-root .sb-quick-reply{border:1px solid #0b5cad;background:#fff;color:#0b5cad;border-radius:16px;padding:5px 12px;margin:0;font-size:13px;cursor:pointer}",
    "#sb-root .sb-quick-reply:hover:not(:disabled){background:#e8f0fa}",
    "#sb-root .sb-quick-reply:disabled{opacity:.5;cursor:default}",
    "#sb-typing{display:flex;gap:4px;padding:0 12px 8px 16px;background:#f6f7f9}",
    "#sb-root .sb-dot{width:7px;height:7px;border-radius:50%;background:#8c959f;animation:sb-blink 1.2s infinite both}",
    "#sb-root .sb-dot:nth-child(2){animation-delay:.2s}#sb-root .sb-dot:nth-child(3){animation-delay:.4s}",
    "@keyframes sb-blink{0%,80%,100%{opacity:.25}40%{opacity:1}}",
    "@media (prefers-reduced-motion:reduce){#sb-root .sb-dot{animation:none}}",
    "#sb-root .sb-form{display:flex;gap:8px;padding:10px;border-top:1px solid #dfe3e8;background:#fff;margin:0}",
    "#sb-input{flex:1;min-width:0;border:1px solid #c4cad1;border-radius:8px;padding:9px 10px;font-size:14px;margin:0;color:#1f2328;background:#fff}",
    "#sb-input:focus{outline:2px solid #0b5cad;outline-offset:-1px}",
    "#sb-send{border:0;border-radius:8px;background:#0b5cad;color:#fff;padding:0 16px;font-size:14px;font-weight:600;cursor:pointer;margin:0}",
    "#sb-send:hover{background:#094a8c}#sb-send:focus-visible{outline:3px solid #f5b400}",
    "@media (max-width:480px){#sb-panel{right:0;bottom:0;width:100vw;max-width:100vw;height:100%;max-height:100%;border-radius:0}#sb-root.sb-open #sb-launcher{display:none}}"
  ].join("\n");

  // ---- DOM ----
  var root = el("div", { id: "sb-root" });
  var launcher = el("button", { id: "sb-launcher", type: "button", "aria-controls": "sb-panel", "aria-expanded": "false", "aria-label": "Open chat: " + title });
  var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  svg.setAttribute("viewBox", "0 0 24 24"); svg.setAttribute("aria-hidden", "true");
  path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z");
  svg.appendChild(path);
  var unreadBadge = el("span", { id: "sb-unread", hidden: "" });
  launcher.appendChild(svg); launcher.appendChild(unreadBadge);
  var conn = el("span", { className: "sb-conn", role: "status" });
  var closeBtn = el("button", { type: "button", className: "sb-close", "aria-label": "Close chat", text: "\u00d7" });
  var list = el("div", { id: "sb-messages", role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-label": "Conversation" });
  var typing = el("div", { id: "sb-typing", hidden: "", role: "status", "aria-label": "Support is typing" },
    [el("span", { className: "sb-dot" }), el("span", { className: "sb-dot" }), el("span", { className: "sb-dot" })]);
  var input = el("input", { id: "sb-input", type: "text", autocomplete: "off", maxlength: "2000", placeholder: "Type your message\u2026" });
  var sendBtn = el("button", { id: "sb-send", type: "submit", text: "Send" });
  var form = el("form", { className: "sb-form" }, [el("label", { className: "sb-sr", "for": "sb-input", text: "Your message" }), input, sendBtn]);
  var panel = el("div", { id: "sb-panel", role: "dialog", "aria-label": title, hidden: "" }, [
    el("div", { className: "sb-header" }, [el("h2", { className: "sb-title", text: title }), conn, closeBtn]),
    list, typing, form
  ]);
  root.appendChild(panel); root.appendChild(launcher);

  // ---- state ----
  var socket = null, sessionId = load(KEY_SESSION, null), ready = false;
  var outbox = load(KEY_OUTBOX, []);
  if (!Array.isArray(outbox)) outbox = [];
  var rows = {}, inflight = {}, seen = {}, retryTimer = null, unread = 0, lastFrom = null;
  var historyPending = false, historyTimer = null, windowMsgs = [];
  var remoteTyping = false, remoteTimer = null, expecting = false, expectTimer = null;

  function scrollDown() { list.scrollTop = list.scrollHeight; }
  function setOpen(open, focus) {
    panel.hidden = !open;
    root.classList.toggle("sb-open", open);
    launcher.setAttribute("aria-expanded", String(open));
    launcher.setAttribute("aria-label", (open ? "Close chat: " : "Open chat: ") + title);
    if (open) { unread = 0; unreadBadge.hidden = true; scrollDown(); if (focus) input.focus(); }
  }

  // m: {from, text, quick_replies, agent_name, attachment, id}; returns the row or null when empty.
  function addMessage(m, interactive) {
    var who = KINDS.indexOf(m.from) >= 0 ? m.from : "bot";
    var row = el("div", { className: "sb-msg sb-from-" + who });
    if (m.id !== undefined && m.id !== null) row.setAttribute("data-id", String(m.id));
    if (who === "agent") row.appendChild(el("div", { className: "sb-label", text: (m.agent_name || "Support") + " (support agent)" }));
    if (m.text) {
      var bubble = el("div", { className: "sb-bubble" });
      if (who === "customer") bubble.textContent = String(m.text); else appendRichText(bubble, String(m.text));
      row.appendChild(bubble);
    }
    var src = safeImageSrc(m.attachment);
    if (src) row.appendChild(el("img", { className: "sb-image", src: src, alt: "Image", loading: "lazy" }));
    var replies = Array.isArray(m.quick_replies) ? m.quick_replies : [];
    if (replies.length && who !== "customer") {
      var group = el("div", { className: "sb-replies", role: "group", "aria-label": "Suggested replies" });
      replies.forEach(function (q) {
        var label = String(q.title || q.payload || ""), payload = String(q.payload || q.title || "");
        var b = el("button", { type: "button", className: "sb-quick-reply", text: label });
        if (!interactive) b.disabled = true;
        b.addEventListener("click", function () { send(payload, label); });
        group.appendChild(b);
      });
      row.appendChild(group);
    }
    if (!row.childNodes.length) return null;
    list.appendChild(row);
    if (who !== "customer") lastFrom = who;
    scrollDown();
    return row;
  }
  function normalise(h) {
    return { from: h.from, text: h.text, quick_replies: h.quick_replies, agent_name: h.agent_name, attachment: h.attachment, id: h.id };
  }

  // ---- typing indicator: the hub's `typing` events, or our own guess right after the customer sends ----
  function showTyping() { typing.hidden = !(remoteTyping || expecting); if (!typing.hidden) scrollDown(); }
  function stopExpecting() { expecting = false; clearTimeout(expectTimer); showTyping(); }
  function expectReply() {
    if (lastFrom === "agent" || lastFrom === "system") return; // with a person (or waiting for one) nothing is guessed
    expecting = true; clearTimeout(expectTimer);
    expectTimer = setTimeout(stopExpecting, 15000);
    showTyping();
  }

  // ---- outgoing messages: kept in localStorage until the hub acknowledges them ----
  function saveOutbox() { save(KEY_OUTBOX, outbox.length ? outbox : null); }
  function setNote(id, text, cls) {
    var row = rows[id]; if (!row) return;
    var note = row.querySelector(".sb-note");
    if (!note) { note = el("div", { className: "sb-note" }); row.appendChild(note); }
    note.textContent = text;
    if (cls) row.classList.add(cls);
  }
  function markRetrying(id) { if (rows[id] && rows[id].classList.contains("sb-pending")) setNote(id, "Not sent, retrying\u2026"); }
  function renderPending(item) {
    var row = addMessage({ from: "customer", text: item.display });
    if (!row) return;
    row.classList.add("sb-pending");
    row.setAttribute("data-message-id", item.message_id);
    rows[item.message_id] = row;
    if (!ready) markRetrying(item.message_id);
    else setTimeout(function () { markRetrying(item.message_id); }, 2500);
  }
  function settle(id, error) {
    outbox = outbox.filter(function (o) { return o.message_id !== id; });
    saveOutbox();
    var row = rows[id]; if (!row) return;
    row.classList.remove("sb-pending");
    var note = row.querySelector(".sb-note");
    if (error) { setNote(id, "Not sent: " + error, "sb-failed"); stopExpecting(); }
    else if (note) row.removeChild(note);
    delete rows[id];
  }
  function scheduleRetry() {
    if (retryTimer) return;
    retryTimer = setTimeout(function () { retryTimer = null; flush(); }, 4000);
  }
  function deliver(item) {
    var id = item.message_id;
    if (!socket || !ready || historyPending) return Promise.resolve(false);
    if (inflight[id]) return inflight[id];
    var p = new Promise(function (resolve) {
      socket.timeout(10000).emit("user_uttered", { message: item.message, session_id: sessionId, message_id: id }, function (err, res) {
        if (inflight[id] === p) delete inflight[id];
        if (err) { markRetrying(id); scheduleRetry(); return resolve(false); }
        if (res && res.ok === false) {
          if (/session/i.test(String(res.error || ""))) { // the hub forgot us: start a new session, keep the message
            ready = false; sessionId = null; save(KEY_SESSION, null);
            socket.emit("session_request", { session_id: null });
            return resolve(false);
          }
          settle(id, String(res.error || "rejected"));
          return resolve(true);
        }
        settle(id, null);
        resolve(true);
      });
    });
    inflight[id] = p;
    return p;
  }
  function flush() { return Promise.all(outbox.map(deliver)); }
  function send(message, display) {
    message = String(message || "").trim();
    if (!message) return;
    var item = { message_id: uuid(), message: message, display: String(display || message) };
    outbox.push(item); saveOutbox();
    Array.prototype.forEach.call(list.querySelectorAll(".sb-quick-reply"), function (b) { b.disabled = true; });
    renderPending(item);
    expectReply();
    deliver(item);
  }

  // ---- history: asked for after every (re)connection, once pending messages are stored ----
  function requestHistory() {
    if (!socket || !ready) return;
    historyPending = true; windowMsgs = [];
    socket.emit("history_request", { session_id: sessionId });
    clearTimeout(historyTimer);
    historyTimer = setTimeout(finishHistory, 5000); // hubs without history still work
  }
  function finishHistory() { clearTimeout(historyTimer); historyPending = false; windowMsgs = []; flush(); }
  function renderHistory(data) {
    var msgs = data && Array.isArray(data.messages) ? data.messages : [];
    list.textContent = ""; rows = {}; seen = {}; lastFrom = null;
    msgs.forEach(function (h, i) {
      if (h.id !== undefined && h.id !== null) seen[h.id] = true;
      addMessage(normalise(h), i === msgs.length - 1);
    });
    windowMsgs.forEach(function (m) {
      if (m.id === undefined || m.id === null || !seen[m.id]) { if (m.id != null) seen[m.id] = true; addMessage(m, true); }
    });
    outbox.forEach(renderPending);
    finishHistory();
  }

  // ---- socket ----
  function connect(io) {
    socket = io(base, { path: "/socket.io" });
    socket.on("connect", function () {
      ready = false; conn.textContent = "";
      socket.emit("session_request", { session_id: sessionId });
    });
    socket.on("disconnect", function () {
      ready = false; historyPending = false; inflight = {}; conn.textContent = "Reconnecting\u2026";
      Object.keys(rows).forEach(markRetrying);
    });
    socket.on("connect_error", function () { conn.textContent = "Can\u2019t reach support, retrying\u2026"; });
    socket.on("session_confirm", function (d) {
      var id = d && typeof d === "object" ? d.session_id : d;
      if (!id) return;
      sessionId = String(id); save(KEY_SESSION, sessionId); ready = true;
      flush().then(requestHistory);
    });
    socket.on("history", renderHistory);
    socket.on("bot_uttered", function (d) {
      d = d || {};
      var md = d.metadata || {};
      if (md.error) return; // a refused message: its ack already marked the bubble "Not sent"
      var m = { from: md.from || "bot", text: d.text, quick_replies: d.quick_replies || d.buttons, agent_name: md.agent_name, attachment: d.attachment, id: md.message_id };
      var hasId = m.id !== undefined && m.id !== null;
      if (hasId && seen[m.id]) return;
      if (hasId) seen[m.id] = true;
      if (historyPending) windowMsgs.push(m);
      if (!addMessage(m, true)) return;
      remoteTyping = false; stopExpecting();
      if (panel.hidden) { unread += 1; unreadBadge.textContent = String(unread); unreadBadge.hidden = false; }
    });
    socket.on("typing", function (d) {
      remoteTyping = !!(d && d.active);
      clearTimeout(remoteTimer);
      if (remoteTyping) remoteTimer = setTimeout(function () { remoteTyping = false; showTyping(); }, 30000);
      showTyping();
    });
    socket.on("error", function (d) { if (window.console) console.warn("support chat:", d && d.error); });
  }
  function withIo(cb) {
    if (typeof window.io === "function") return cb(window.io);
    var s = document.createElement("script");
    var amd = window.define && window.define.amd ? window.define : null;
    if (amd) window.define = undefined; // make the UMD bundle set window.io on AMD pages too
    s.src = base + "/static/vendor/socket.io.min.js";
    s.async = true;
    s.onload = function () {
      if (amd) window.define = amd;
      if (typeof window.io === "function") cb(window.io); else conn.textContent = "Chat unavailable";
    };
    s.onerror = function () { if (amd) window.define = amd; conn.textContent = "Chat is unavailable right now"; };
    (document.head || document.documentElement).appendChild(s);
  }

  // ---- wiring ----
  function start() {
    var style = el("style", { id: "sb-style" });
    style.textContent = css;
    (document.head || document.documentElement).appendChild(style);
    document.body.appendChild(root);
    launcher.addEventListener("click", function () { setOpen(panel.hidden, true); });
    closeBtn.addEventListener("click", function () { setOpen(false); launcher.focus(); });
    panel.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { setOpen(false); launcher.focus(); }
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var text = input.value;
      if (!text.trim()) return;
      input.value = "";
      send(text);
    });
    outbox.forEach(renderPending);
    if (startOpen) setOpen(true, false);
    withIo(connect);
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
