/* Agent console: sign in, queue, live conversation, customer panel, notes.
 * Every piece of data is rendered with textContent / text nodes, never as HTML. */
(function () {
  "use strict";

  var KINDS = ["customer", "bot", "agent", "system"];
  var PRIORITY_LABELS = { 1: "Urgent", 2: "High", 3: "Normal" };
  var STATUS_LABELS = { bot: "With the bot", pending: "Waiting for an agent", assigned: "Assigned", resolved: "Resolved" };
  var state = {
    me: null, socket: null, everConnected: false,
    queue: [], queueAt: 0, mine: [],
    selected: null, conv: null, msgIds: {}, loadToken: 0,
    // Messages and notes shown live (socket events, own sends) in the selected conversation.
    // A transcript load whose request read the database before they existed must not drop them.
    liveMsgs: {}, liveNotes: {},
    customer: null, canned: [], drafts: {}, unread: {}
  };
  var typingState = { active: false, lastSent: 0, convId: null, idle: null };

  function $(id) { return document.getElementById(id); }
  function el(tag, props, kids) {
    var n = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
      var v = props[k];
      if (v === undefined || v === null || v === false) return;
      if (k === "text") n.textContent = String(v);
      else if (k === "className") n.className = v;
      else n.setAttribute(k, v === true ? "" : String(v));
    });
    (kids || []).forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      n.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
    });
    return n;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function sameId(a, b) { return a !== null && a !== undefined && b !== null && b !== undefined && String(a) === String(b); }
  function enc(id) { return encodeURIComponent(String(id)); }

  // ---- formatting ----
  function humanize(s) {
    if (!s) return "";
    s = String(s).replace(/_/g, " ");
    return s.charAt(0).toUpperCase() + s.slice(1);
  }
  function parseDate(iso) { var t = Date.parse(iso); return isNaN(t) ? null : new Date(t); }
  function fmtTime(iso) {
    var d = parseDate(iso); if (!d) return "";
    var sameDay = d.toDateString() === new Date().toDateString();
    var time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    return sameDay ? time : d.toLocaleDateString([], { month: "short", day: "numeric" }) + " " + time;
  }
  function fmtDate(iso) {
    var d = parseDate(iso);
    return d ? d.toLocaleDateString([], { year: "numeric", month: "short", day: "numeric" }) : String(iso || "");
  }
  function fmtDuration(secs) {
    secs = Math.max(0, Math.floor(secs));
    if (secs < 60) return secs + "s";
    var m = Math.floor(secs / 60);
    if (m < 60) return m + "m";
    var h = Math.floor(m / 60);
    if (h < 24) return h + "h " + ("0" + (m % 60)).slice(-2) + "m";
    return Math.floor(h / 24) + "d " + (h % 24) + "h";
  }
  function fmtMoney(amount, currency) {
    var n = Number(amount);
    if (amount === null || amount === undefined || isNaN(n)) return String(amount === undefined ? "" : amount);
    try { return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "USD" }).format(n); }
    catch (e) { return n.toFixed(2) + (currency ? " " + currency : ""); }
  }
  function priorityBadge(p) {
    var n = Number(p) || 3;
    return el("span", { className: "badge prio prio-" + Math.min(Math.max(n, 1), 3), title: "Priority " + n, text: "P" + n + " " + (PRIORITY_LABELS[n] || "") });
  }
  function statusBadge(status) {
    return el("span", { className: "badge status status-" + String(status || "unknown"), text: STATUS_LABELS[status] || humanize(status) });
  }

  // ---- flash messages and connection state ----
  var flashTimer = null;
  function flash(text, kind) {
    var f = $("flash");
    f.textContent = text;
    f.className = "flash flash-" + (kind || "error");
    f.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(function () { f.hidden = true; }, kind === "ok" ? 4000 : 10000);
  }
  function fail(err) {
    if (err && err.status === 401) return; // the sign-in form is already showing
    flash(err && err.message ? err.message : "Something went wrong.", "error");
  }
  function setConn(text) { $("conn-status").textContent = text; }

  // ---- HTTP API ----
  function api(method, path, body) {
    var opts = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (method !== "GET") {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body === undefined ? {} : body);
    }
    return fetch(path, opts).then(function (res) {
      return res.text().then(function (raw) {
        var data = null;
        try { data = raw ? JSON.parse(raw) : null; } catch (e) { data = null; }
        if (res.ok) return data;
        var err = new Error((data && data.error) || ("Request failed (" + res.status + ")"));
        err.status = res.status;
        if (res.status === 401 && path !== "/api/auth/login") signedOut();
        throw err;
      });
    }, function () {
      var err = new Error("Cannot reach the server. Check your connection.");
      err.status = 0;
      throw err;
    });
  }

  // ---- sign in / out ----
  function showLogin() {
    $("app").hidden = true;
    $("login-view").hidden = false;
    $("login-email").focus();
  }
  function signedOut() {
    stopTyping();
    if (state.socket) { state.socket.disconnect(); state.socket = null; }
    state.me = null; state.selected = null; state.conv = null; state.everConnected = false;
    showLogin();
  }
  function startApp(agent) {
    state.me = agent;
    $("login-view").hidden = true;
    $("login-error").hidden = true;
    $("app").hidden = false;
    renderMe();
    connectSocket();
    loadQueue(); loadMine(); loadCanned();
    var m = /^#c=(.+)$/.exec(location.hash);
    if (m) select(decodeURIComponent(m[1]));
  }
  function renderMe() {
    $("agent-name").textContent = state.me.name || state.me.email || "";
    var presence = state.me.presence === "online" || state.me.presence === "away" ? state.me.presence : "offline";
    $("presence").value = presence;
  }

  // ---- live updates ----
  function connectSocket() {
    if (state.socket) return;
    if (typeof window.io !== "function") { setConn("Live updates unavailable"); return; }
    var s = window.io("/console", { path: "/socket.io", withCredentials: true });
    state.socket = s;
    s.on("connect", function () {
      setConn("");
      if (state.everConnected) refreshAll(); // catch up on what happened while disconnected
      state.everConnected = true;
    });
    s.on("disconnect", function () { if (state.socket === s) setConn("Reconnecting\u2026"); });
    s.on("connect_error", function () {
      setConn("Live updates unavailable, retrying\u2026");
      api("GET", "/api/me").then(function () {
        // A refused connection is not retried by socket.io itself.
        setTimeout(function () { if (state.socket === s && !s.active) s.connect(); }, 3000);
      }).catch(function () { /* 401 shows the sign-in form */ });
    });
    s.on("resync", refreshAll); // the hub lost Redis for a while: live updates were missed
    s.on("queue", function (d) { renderQueue(d && d.queue); });
    s.on("message", function (d) {
      if (!d || !d.message) return;
      if (sameId(d.conversation_id, state.selected)) appendMessage(d.message, true);
      else if (state.mine.some(function (c) { return sameId(convId(c), d.conversation_id); })) {
        state.unread[String(d.conversation_id)] = true;
        renderMine(state.mine);
      }
    });
    s.on("conversation", function (d) {
      var c = d && d.conversation;
      if (!c) return;
      if (sameId(c.id, state.selected)) {
        var reload = state.conv && state.conv.status !== c.status;
        state.conv = c;
        renderHead();
        if (reload) loadConversation(c.id, true);
      }
      scheduleMine();
    });
    s.on("presence", function (d) { renderPresence(d && d.agents); });
    s.on("note", function (d) { // a colleague's note (ours arrive here too: appendNote skips those shown)
      if (!d || !d.note || !sameId(d.conversation_id, state.selected)) return;
      if (d.note.id !== undefined && d.note.id !== null) state.liveNotes[String(d.note.id)] = d.note;
      appendNote(d.note);
    });
  }
  function refreshAll() {
    loadQueue(); loadMine();
    if (state.selected) loadConversation(state.selected, true);
  }
  function renderPresence(agents) {
    if (!Array.isArray(agents)) return;
    var online = agents.filter(function (a) { return a.presence === "online"; });
    var box = $("agents-online");
    box.textContent = online.length + " agent" + (online.length === 1 ? "" : "s") + " online";
    box.title = online.map(function (a) { return a.name; }).join(", ");
    agents.forEach(function (a) {
      if (state.me && sameId(a.id, state.me.id) && a.presence) { state.me.presence = a.presence; renderMe(); }
    });
  }

  // ---- queue ----
  function loadQueue() {
    return api("GET", "/api/queue").then(function (d) { renderQueue(d && d.queue); }).catch(fail);
  }
  function waitingBase(q) {
    if (typeof q.waiting_seconds === "number") return q.waiting_seconds;
    var d = parseDate(q.requested_at);
    return d ? (Date.now() - d.getTime()) / 1000 : 0;
  }
  function renderQueue(items) {
    items = Array.isArray(items) ? items : [];
    state.queue = items; state.queueAt = Date.now();
    var ul = $("queue");
    clear(ul);
    items.forEach(function (q) {
      var id = q.conversation_id;
      var who = q.customer && q.customer.name
        ? el("span", { className: "who", text: q.customer.name + (q.customer.account_number ? " \u00b7 " + q.customer.account_number : "") })
        : el("span", { className: "who unverified", text: "unverified" });
      var btn = el("button", { type: "button", className: "item-btn" }, [
        el("div", { className: "item-top" }, [
          priorityBadge(q.priority),
          el("span", { className: "reason", text: humanize(q.reason) || "Handoff" }),
          el("span", { className: "wait", "data-base": String(waitingBase(q)), title: "Waiting time" })
        ]),
        el("div", { className: "item-mid" }, [
          el("span", { className: "badge channel channel-" + String(q.channel || ""), text: q.channel || "web" }),
          q.status && q.status !== "pending" ? statusBadge(q.status) : null,
          who
        ]),
        q.preview ? el("div", { className: "preview", text: q.preview }) : null
      ]);
      btn.addEventListener("click", function () { select(id); });
      var li = el("li", { className: "queue-item" + (sameId(id, state.selected) ? " selected" : ""), "data-conversation-id": id }, [btn]);
      ul.appendChild(li);
    });
    $("queue-count").textContent = String(items.length);
    $("queue-empty").hidden = items.length > 0;
    updateWaits();
  }
  function updateWaits() {
    var elapsed = (Date.now() - state.queueAt) / 1000;
    Array.prototype.forEach.call(document.querySelectorAll("#queue .wait"), function (w) {
      var secs = Number(w.getAttribute("data-base")) + elapsed;
      w.textContent = fmtDuration(secs);
      w.classList.toggle("long", secs >= 300);
    });
  }

  // ---- my conversations ----
  function convId(c) { return c.id !== undefined ? c.id : c.conversation_id; }
  var mineTimer = null;
  function scheduleMine() { clearTimeout(mineTimer); mineTimer = setTimeout(loadMine, 300); }
  function loadMine() {
    return api("GET", "/api/conversations?status=assigned&mine=true")
      .then(function (d) { renderMine(d && d.conversations); }).catch(fail);
  }
  function renderMine(items) {
    items = Array.isArray(items) ? items : [];
    state.mine = items;
    var ul = $("mine");
    clear(ul);
    items.forEach(function (c) {
      var id = convId(c);
      var cust = c.customer;
      var reason = c.reason || (c.handoff && c.handoff.reason);
      var btn = el("button", { type: "button", className: "item-btn" }, [
        el("div", { className: "item-top" }, [
          c.priority !== undefined ? priorityBadge(c.priority) : null,
          el("span", { className: "reason", text: cust && cust.name ? cust.name : "Unverified customer" }),
          state.unread[String(id)] ? el("span", { className: "unread-dot", title: "New messages", text: "new" }) : null
        ]),
        el("div", { className: "item-mid" }, [
          el("span", { className: "badge channel channel-" + String(c.channel || ""), text: c.channel || "web" }),
          reason ? el("span", { className: "muted", text: humanize(reason) }) : null,
          el("span", { className: "muted", text: fmtTime(c.updated_at || c.created_at) })
        ]),
        c.preview ? el("div", { className: "preview", text: c.preview }) : null
      ]);
      btn.addEventListener("click", function () { select(id); });
      ul.appendChild(el("li", { className: "mine-item" + (sameId(id, state.selected) ? " selected" : ""), "data-conversation-id": id }, [btn]));
    });
    $("mine-count").textContent = String(items.length);
    $("mine-empty").hidden = items.length > 0;
  }
  function markSelected() {
    Array.prototype.forEach.call(document.querySelectorAll(".queue-item, .mine-item"), function (li) {
      li.classList.toggle("selected", sameId(li.getAttribute("data-conversation-id"), state.selected));
    });
  }

  // ---- the selected conversation ----
  function select(id) {
    if (id === null || id === undefined) return;
    if (!sameId(id, state.selected)) {
      state.liveMsgs = {}; state.liveNotes = {};
      stopTyping();
      if (state.selected) state.drafts[state.selected] = $("reply").value;
      $("reply").value = state.drafts[String(id)] || "";
    }
    state.selected = String(id);
    delete state.unread[state.selected];
    if (history.replaceState) history.replaceState(null, "", "#c=" + enc(id));
    markSelected();
    renderMine(state.mine);
    return loadConversation(id, false);
  }
  function loadConversation(id, keepScroll) {
    var token = ++state.loadToken;
    var conv = api("GET", "/api/conversations/" + enc(id));
    var cust = api("GET", "/api/conversations/" + enc(id) + "/customer").catch(function (e) {
      if (e.status === 401) throw e;
      return { customer: null, failed: e };
    });
    return Promise.all([conv, cust]).then(function (r) {
      if (token !== state.loadToken) return;
      renderConversation(r[0] || {}, keepScroll);
      renderCustomer(r[1] && r[1].customer, r[1] && r[1].failed);
    }).catch(function (err) {
      if (token !== state.loadToken) return;
      if (err.status === 404) {
        state.selected = null; state.conv = null;
        $("conv-view").hidden = true; $("conv-empty").hidden = false;
        renderCustomer(undefined);
      }
      fail(err);
    });
  }
  function renderConversation(data, keepScroll) {
    var t = $("transcript");
    var atBottom = t.scrollHeight - t.scrollTop - t.clientHeight < 40;
    state.conv = data.conversation || null;
    state.handoff = data.handoff || null;
    $("conv-empty").hidden = true;
    $("conv-view").hidden = false;
    renderHead();
    renderSummary(data.handoff, data.conversation);
    clear(t);
    state.msgIds = {};
    withLive(data.messages, state.liveMsgs).forEach(function (m) { appendMessage(m, false); });
    if (!keepScroll || atBottom) t.scrollTop = t.scrollHeight;
    renderNotes(withLive(data.notes, state.liveNotes));
  }
  function assignedToMe(c) {
    return !!(c && c.status === "assigned" && c.assigned_agent && state.me && sameId(c.assigned_agent.id, state.me.id));
  }
  function renderHead() {
    var c = state.conv;
    if (!c) return;
    var cust = c.customer;
    $("conv-title").textContent = cust && cust.name ? cust.name : "Unverified customer";
    var meta = $("conv-meta");
    clear(meta);
    meta.appendChild(statusBadge(c.status));
    meta.appendChild(el("span", { className: "badge channel channel-" + String(c.channel || ""), text: c.channel || "web" }));
    if (c.assigned_agent) meta.appendChild(el("span", { text: "Agent: " + (c.assigned_agent.name || "") }));
    if (c.created_at) meta.appendChild(el("span", { text: "Started " + fmtTime(c.created_at) }));
    var csat = c.csat && typeof c.csat === "object" ? c.csat.rating : c.csat;
    if (csat !== undefined && csat !== null) meta.appendChild(el("span", { className: "badge csat", text: "Rating " + csat + "/5" }));
    var mine = assignedToMe(c);
    $("take").hidden = c.status !== "pending";
    $("handback").hidden = !mine;
    $("resolve").hidden = !(mine || c.status === "pending");
    $("reply").disabled = !mine;
    $("send-reply").disabled = !mine;
    $("canned").disabled = !mine;
    var hint = "";
    if (c.status === "pending") hint = "Take the conversation to reply.";
    else if (c.status === "assigned" && !mine) hint = "Assigned to " + (c.assigned_agent ? c.assigned_agent.name : "another agent") + ".";
    else if (c.status === "bot") hint = "The bot is handling this conversation.";
    else if (c.status === "resolved") hint = "This conversation is resolved.";
    $("reply-hint").textContent = hint;
    if (!mine) stopTyping();
  }
  function renderSummary(h, c) {
    var box = $("handoff-summary");
    if (!h) { box.hidden = true; return; }
    box.hidden = false;
    var s = h.summary || {};
    if (typeof s === "string") { try { s = JSON.parse(s); } catch (e) { s = {}; } }
    $("summary-reason").textContent = (humanize(h.reason) || "Unknown") + (s.detail ? " \u2014 " + s.detail : "");
    var prio = $("summary-priority");
    clear(prio);
    prio.appendChild(priorityBadge(h.priority));
    $("summary-requested").textContent = fmtTime(h.requested_at) + (h.taken_at ? " (taken " + fmtTime(h.taken_at) + ")" : "");
    var acct = s.account || (c && c.customer) || null;
    var ident = $("summary-identity");
    clear(ident);
    var known = c && c.customer;
    if ((s.verified || (known && known.verified)) && acct) {
      ident.appendChild(el("span", { className: "verified", text: "Verified: " + (acct.name || "") + (acct.account_number ? " \u00b7 " + acct.account_number : "") }));
    } else if (known && acct) {
      // Matched by the email address on file or by our own records: not proof of who wrote.
      ident.appendChild(el("span", { className: "unverified", text: (known.known_by === "email_address" ? "Email address on file: " : "Account: ") + (acct.name || "") + (acct.account_number ? " \u00b7 " + acct.account_number : "") + " (not verified)" }));
    } else {
      ident.appendChild(el("span", { className: "unverified", text: "Not verified" }));
    }
    var trail = $("sentiment-trail");
    clear(trail);
    var items = Array.isArray(s.sentiment_trail) ? s.sentiment_trail : [];
    if (!items.length) trail.appendChild(el("li", { className: "muted", text: "No scored messages." }));
    items.forEach(function (t) {
      var label = t.sentiment || "unknown";
      trail.appendChild(el("li", { className: "sentiment-" + label }, [
        el("span", { className: "badge sentiment", text: label + (typeof t.negative === "number" ? " " + Math.round(t.negative * 100) + "%" : ""), title: "Negative score" }),
        el("span", { className: "trail-text", text: t.text || "" })
      ]));
    });
  }
  function senderName(m, from) {
    if (from === "customer") return state.conv && state.conv.customer && state.conv.customer.name ? state.conv.customer.name : "Customer";
    if (from === "agent") return (m.agent_name || "Agent") + " (agent)";
    return from === "bot" ? "Bot" : "System";
  }
  // Loaded items plus the live ones the load did not include yet, in id order.
  function withLive(loaded, live) {
    var items = Array.isArray(loaded) ? loaded.slice() : [], have = {};
    items.forEach(function (x) { if (x && x.id !== undefined && x.id !== null) have[String(x.id)] = true; });
    Object.keys(live).forEach(function (k) { if (!have[k]) items.push(live[k]); });
    return items.map(function (x, i) { return { x: x, i: i }; }).sort(function (a, b) {
      var d = Number(a.x && a.x.id) - Number(b.x && b.x.id);
      return isNaN(d) || d === 0 ? a.i - b.i : d;
    }).map(function (p) { return p.x; });
  }
  function appendMessage(m, live) {
    if (!m) return;
    if (live && m.id !== undefined && m.id !== null) state.liveMsgs[String(m.id)] = m;
    if (m.id !== undefined && m.id !== null) {
      if (state.msgIds[String(m.id)]) return;
      state.msgIds[String(m.id)] = true;
    }
    var t = $("transcript");
    var atBottom = t.scrollHeight - t.scrollTop - t.clientHeight < 40;
    var from = KINDS.indexOf(m.from) >= 0 ? m.from : "bot";
    var node = el("div", { className: "msg from-" + from, "data-id": m.id, title: m.delivery ? "Delivery: " + m.delivery : null }, [
      el("div", { className: "msg-head" }, [
        el("span", { className: "who", text: senderName(m, from) }),
        el("span", { className: "time", text: fmtTime(m.at) })
      ]),
      el("div", { className: "msg-text", text: m.text || "" })
    ]);
    if (Array.isArray(m.quick_replies) && m.quick_replies.length) {
      node.appendChild(el("div", { className: "msg-buttons" }, m.quick_replies.map(function (q) {
        return el("span", { className: "chip", text: q.title || q.payload || "" });
      })));
    }
    if (m.delivery === "waiting_for_bot") node.appendChild(el("div", { className: "delivery", text: "Not answered yet: the bot is unreachable" }));
    t.appendChild(node);
    if (!live || atBottom || from === "agent") t.scrollTop = t.scrollHeight;
  }
  function renderNotes(notes) {
    var ul = $("notes");
    clear(ul);
    notes.forEach(appendNote);
  }
  function appendNote(n) {
    if (!n) return;
    var shown = Array.prototype.some.call($("notes").children, function (li) { return sameId(li.getAttribute("data-id"), n.id); });
    if (shown) return;
    $("notes").appendChild(el("li", { className: "note", "data-id": n.id }, [
      el("div", { className: "note-head" }, [
        el("span", { className: "private-tag", text: "private" }),
        el("span", { className: "who", text: n.agent_name || "" }),
        el("span", { className: "time", text: fmtTime(n.at) })
      ]),
      el("div", { className: "note-text", text: n.text || "" })
    ]));
  }

  // ---- customer panel ----
  function renderCustomer(cu, failed) {
    var p = $("customer-panel");
    clear(p);
    p.appendChild(el("h2", { text: "Customer" }));
    if (cu === undefined) { p.appendChild(el("p", { className: "muted", text: "No conversation selected." })); return; }
    if (!cu) {
      p.appendChild(el("p", { className: "not-verified", text: failed ? "Customer details could not be loaded." : "Customer not verified" }));
      if (!failed) p.appendChild(el("p", { className: "muted small", text: "Ask for the account number or email plus the ZIP code or the card's last four digits before discussing the account." }));
      return;
    }
    p.appendChild(el("div", { className: "cust-name", text: cu.name || "" }));
    var facts = el("dl", { className: "facts" });
    [["Account", cu.account_number], ["Email", cu.email], ["Dunning stage", cu.dunning_stage ? humanize(cu.dunning_stage) : "None"]].forEach(function (f) {
      facts.appendChild(el("dt", { text: f[0] }));
      facts.appendChild(el("dd", { text: f[1] || "\u2014" }));
    });
    p.appendChild(facts);
    var flags = el("div", { className: "flags" });
    if (cu.active_promise) flags.appendChild(el("span", { className: "badge info", text: "Promised to pay by " + fmtDate(cu.active_promise.date) }));
    if (cu.last_reminder) flags.appendChild(el("span", { className: "badge", text: "Last reminder: " + humanize(cu.last_reminder.stage) + (cu.last_reminder.invoice ? " (" + cu.last_reminder.invoice + ")" : "") + (cu.last_reminder.sent_at ? ", " + fmtDate(cu.last_reminder.sent_at) : "") }));
    if (cu.reminders_opt_out) flags.appendChild(el("span", { className: "badge warn", text: "Opted out of email reminders" }));
    if (cu.email_undeliverable) flags.appendChild(el("span", { className: "badge warn", text: "Email address bounced" }));
    if (flags.childNodes.length) p.appendChild(flags);

    p.appendChild(el("h3", { text: "Invoices" }));
    var invoices = Array.isArray(cu.invoices) ? cu.invoices : [];
    if (!invoices.length) p.appendChild(el("p", { className: "muted small", text: "No invoices." }));
    else {
      var tbody = el("tbody");
      invoices.forEach(function (inv) {
        var days = Number(inv.days_overdue);
        var owed = inv.amount_due === undefined || Number(inv.amount_due) > 0;
        var overdue = owed && !isNaN(days) && days > 0 && inv.status !== "paid";
        tbody.appendChild(el("tr", { className: overdue ? "overdue" : "" }, [
          el("td", { text: inv.number || inv.invoice_number || "", title: inv.description || null }),
          el("td", { className: "num", text: fmtMoney(inv.amount_due, inv.currency) }),
          el("td", { text: overdue ? days + " days overdue" : (inv.due_on ? "due " + fmtDate(inv.due_on) : humanize(inv.status)) }),
          el("td", { text: humanize(inv.status) })
        ]));
      });
      p.appendChild(el("table", { className: "invoices" }, [
        el("thead", {}, [el("tr", {}, [el("th", { text: "Invoice" }), el("th", { className: "num", text: "Due" }), el("th", { text: "When" }), el("th", { text: "Status" })])]),
        tbody
      ]));
    }

    p.appendChild(el("h3", { text: "Card on file" }));
    var card = cu.card;
    if (!card) p.appendChild(el("p", { className: "muted small", text: "No card on file." }));
    else {
      var expiry = "", flag = null;
      if (card.exp_month && card.exp_year) {
        expiry = ("0" + card.exp_month).slice(-2) + "/" + card.exp_year;
        var now = new Date(), months = (Number(card.exp_year) - now.getFullYear()) * 12 + (Number(card.exp_month) - (now.getMonth() + 1));
        if (months < 0) flag = el("span", { className: "badge warn", text: "expired" });
        else if (months <= 1) flag = el("span", { className: "badge warn", text: "expires soon" });
      } else if (card.expires) expiry = String(card.expires);
      p.appendChild(el("p", { className: "card-line" }, [
        humanize(card.brand || "card") + " \u2022\u2022\u2022\u2022 " + (card.last4 || "") + (expiry ? "  exp. " + expiry + " " : " "), flag
      ]));
    }

    p.appendChild(el("h3", { text: "Recent conversations" }));
    var recent = Array.isArray(cu.recent_conversations) ? cu.recent_conversations : [];
    if (!recent.length) p.appendChild(el("p", { className: "muted small", text: "None." }));
    else {
      var ul = el("ul", { className: "recent" });
      recent.forEach(function (r) {
        var id = convId(r);
        var label = [fmtDate(r.created_at || r.updated_at), r.channel, STATUS_LABELS[r.status] || humanize(r.status), r.reason ? humanize(r.reason) : ""]
          .filter(Boolean).join(" \u00b7 ");
        var item = sameId(id, state.selected) ? el("span", { text: label + " (this one)" }) : el("button", { type: "button", className: "link", text: label });
        if (item.tagName === "BUTTON") item.addEventListener("click", function () { select(id); });
        ul.appendChild(el("li", {}, [item]));
      });
      p.appendChild(ul);
    }
  }

  // ---- typing relayed to the customer ----
  function emitTyping(active) {
    if (state.socket && state.socket.connected && typingState.convId) {
      state.socket.emit("typing", { conversation_id: typingState.convId, active: active });
    }
  }
  function onReplyInput() {
    if (!assignedToMe(state.conv)) return;
    if (!$("reply").value.trim()) { stopTyping(); return; }
    var now = Date.now();
    if (!typingState.active || now - typingState.lastSent > 3000 || !sameId(typingState.convId, state.selected)) {
      if (typingState.active && !sameId(typingState.convId, state.selected)) stopTyping();
      typingState.convId = state.selected;
      typingState.active = true;
      typingState.lastSent = now;
      emitTyping(true);
    }
    clearTimeout(typingState.idle);
    typingState.idle = setTimeout(stopTyping, 4000);
  }
  function stopTyping() {
    clearTimeout(typingState.idle);
    if (typingState.active) emitTyping(false);
    typingState.active = false;
  }

  // ---- canned replies ----
  function loadCanned() {
    return api("GET", "/api/canned-replies").then(function (d) {
      state.canned = (d && d.canned_replies) || [];
      var sel = $("canned");
      while (sel.options.length > 1) sel.remove(1);
      state.canned.forEach(function (c) { sel.appendChild(el("option", { value: String(c.id), text: c.title })); });
    }).catch(fail);
  }
  function fillPlaceholders(text) {
    var cust = state.conv && state.conv.customer;
    var name = cust && cust.name ? cust.name : "";
    var values = { name: name, customer_name: name, first_name: name.split(" ")[0], agent_name: state.me ? state.me.name : "", agent: state.me ? state.me.name : "" };
    return String(text).replace(/\{(\w+)\}/g, function (all, key) { return values[key] ? values[key] : all; });
  }
  function insertCanned() {
    var sel = $("canned");
    var c = state.canned.filter(function (x) { return String(x.id) === sel.value; })[0];
    sel.value = "";
    if (!c) return;
    var box = $("reply"), text = fillPlaceholders(c.text || "");
    var start = box.selectionStart || 0, end = box.selectionEnd || 0;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.focus();
    box.selectionStart = box.selectionEnd = start + text.length;
    onReplyInput();
  }

  // ---- actions ----
  function withButton(btn, promise) {
    btn.disabled = true;
    return promise.then(function (v) { btn.disabled = false; return v; }, function (e) { btn.disabled = false; throw e; });
  }
  function conversationAction(action, okText) {
    var id = state.selected;
    if (!id) return;
    var btn = $(action === "take" ? "take" : action);
    withButton(btn, api("POST", "/api/conversations/" + enc(id) + "/" + action)).then(function (d) {
      if (d && d.conversation && sameId(d.conversation.id, state.selected)) { state.conv = d.conversation; renderHead(); }
      flash(okText, "ok");
      if (action === "take") $("reply").focus();
    }).catch(fail).then(function () {
      if (sameId(id, state.selected)) loadConversation(id, true);
      loadMine(); loadQueue();
    });
  }
  function sendReply(e) {
    if (e) e.preventDefault();
    var box = $("reply"), text = box.value.trim(), id = state.selected;
    if (!text || !id || !assignedToMe(state.conv)) return;
    withButton($("send-reply"), api("POST", "/api/conversations/" + enc(id) + "/messages", { text: text })).then(function (d) {
      if (box.value.trim() === text) box.value = "";
      delete state.drafts[id];
      stopTyping();
      if (d && d.message && sameId(id, state.selected)) appendMessage(d.message, true);
      $("send-reply").disabled = !assignedToMe(state.conv);
    }).catch(fail);
  }
  function addNote(e) {
    e.preventDefault();
    var box = $("note-text"), text = box.value.trim(), id = state.selected;
    if (!text || !id) return;
    withButton($("add-note"), api("POST", "/api/conversations/" + enc(id) + "/notes", { text: text })).then(function (d) {
      box.value = "";
      if (d && d.note && sameId(id, state.selected)) {
        if (d.note.id !== undefined && d.note.id !== null) state.liveNotes[String(d.note.id)] = d.note;
        appendNote(d.note);
      }
    }).catch(fail);
  }

  // ---- wiring ----
  function init() {
    $("login-form").addEventListener("submit", function (e) {
      e.preventDefault();
      var errBox = $("login-error");
      errBox.hidden = true;
      var email = $("login-email").value.trim(), password = $("login-password").value;
      if (!email || !password) { errBox.textContent = "Enter your email and password."; errBox.hidden = false; return; }
      withButton($("login-submit"), api("POST", "/api/auth/login", { email: email, password: password })).then(function (d) {
        $("login-password").value = "";
        startApp(d.agent);
      }).catch(function (err) {
        errBox.textContent = err.status === 401 ? (err.message || "Wrong email or password.") : err.message;
        errBox.hidden = false;
      });
    });
    $("logout").addEventListener("click", function () {
      stopTyping();
      api("POST", "/api/auth/logout").catch(function () { /* signed out either way */ }).then(function () {
        signedOut();
        $("login-email").value = "";
        clear($("transcript")); clear($("notes"));
        $("conv-view").hidden = true; $("conv-empty").hidden = false;
        renderCustomer(undefined);
        if (history.replaceState) history.replaceState(null, "", location.pathname);
      });
    });
    $("presence").addEventListener("change", function () {
      var sel = $("presence"), wanted = sel.value;
      api("PUT", "/api/me/presence", { presence: wanted }).then(function (d) {
        if (d && d.agent) state.me = d.agent;
        renderMe();
      }).catch(function (err) { renderMe(); fail(err); });
    });
    $("take").addEventListener("click", function () { conversationAction("take", "You took this conversation."); });
    $("handback").addEventListener("click", function () { conversationAction("handback", "Handed back to the bot."); });
    $("resolve").addEventListener("click", function () { conversationAction("resolve", "Resolved. The customer is asked for a rating."); });
    $("reply-form").addEventListener("submit", sendReply);
    $("reply").addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) sendReply(e);
    });
    $("reply").addEventListener("input", onReplyInput);
    $("reply").addEventListener("blur", stopTyping);
    $("canned").addEventListener("change", insertCanned);
    $("note-form").addEventListener("submit", addNote);
    $("flash").addEventListener("click", function () { $("flash").hidden = true; });
    window.addEventListener("hashchange", function () {
      var m = /^#c=(.+)$/.exec(location.hash);
      if (m && state.me && !sameId(decodeURIComponent(m[1]), state.selected)) select(decodeURIComponent(m[1]));
    });
    setInterval(updateWaits, 5000);

    api("GET", "/api/me").then(function (d) {
      if (d && d.agent) startApp(d.agent); else showLogin();
    }).catch(function (err) {
      if (err.status !== 401) { showLogin(); fail(err); }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
