// The hotline wallboard: listens on /wallboard/ws and shows each snapshot it is sent.
// The token comes from the page's own address (/wallboard?token=...) and goes to the
// WebSocket as ?token=... . Waits and times in state count up between snapshots.
"use strict";

(function () {
  const token = new URLSearchParams(window.location.search).get("token") || "";
  const STALE_AFTER_MS = 5000; // no snapshot for this long: the figures are marked old
  const RETRY_MIN_MS = 1000;
  const RETRY_MAX_MS = 15000;
  const STATE_LABELS = {
    "available": "ready",
    "reserved": "ringing",
    "on-call": "on call",
    "wrap-up": "wrap-up",
    "paused": "paused",
    "logged-out": "logged out",
  };

  let receivedAt = 0; // performance.now() when the last snapshot came
  let timeZone; // the hotline's, from the snapshots; the browser's until the first one
  let retryMs = RETRY_MIN_MS;
  let refused = false;

  function byId(testid) {
    return document.querySelector('[data-testid="' + testid + '"]');
  }

  function setText(element, text) {
    if (element && element.textContent !== text) {
      element.textContent = text;
    }
  }

  // A figure, or a dash when there is none (its unit, if any, is hidden then).
  function show(testid, value) {
    const element = byId(testid);
    const none = value === null || value === undefined;
    setText(element, none ? "\u2014" : String(value));
    if (element) {
      element.classList.toggle("none", none);
    }
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) {
      return "\u2014";
    }
    const whole = Math.max(0, Math.floor(seconds));
    const h = Math.floor(whole / 3600);
    const m = Math.floor((whole % 3600) / 60);
    const s = String(whole % 60).padStart(2, "0");
    return h > 0 ? h + ":" + String(m).padStart(2, "0") + ":" + s : m + ":" + s;
  }

  function percent(value) {
    return value === null || value === undefined ? null : value.toFixed(1);
  }

  // A timer element shows data-base seconds plus the time since the snapshot came.
  function setTimer(element, seconds) {
    if (!element) {
      return;
    }
    if (seconds === null || seconds === undefined) {
      delete element.dataset.base;
      setText(element, "\u2014");
    } else {
      element.dataset.base = String(seconds);
      setText(element, duration(seconds));
    }
  }

  function tick() {
    const elapsed = receivedAt ? (performance.now() - receivedAt) / 1000 : 0;
    document.querySelectorAll('[data-kind="timer"]').forEach(function (element) {
      if (element.dataset.base !== undefined) {
        setText(element, duration(Number(element.dataset.base) + elapsed));
      }
    });
    const clock = { hour12: false };
    if (timeZone) {
      clock.timeZone = timeZone;
    }
    try {
      setText(byId("clock"), new Date().toLocaleTimeString("en-GB", clock));
    } catch (_error) { // a zone this browser does not know: its own time
      setText(byId("clock"), new Date().toLocaleTimeString("en-GB", { hour12: false }));
    }
    if (receivedAt) {
      const age = performance.now() - receivedAt;
      document.body.classList.toggle("stale", age > STALE_AFTER_MS);
      setText(byId("updated"), age < 2000 ? "just now" : Math.round(age / 1000) + " s ago");
    }
  }

  function cell(row, key, className) {
    const td = document.createElement("td");
    td.dataset.testid = key;
    if (className) {
      td.className = className;
    }
    row.appendChild(td);
    return td;
  }

  // Keeps one child per key in container, in the order given; make(key) builds a new one.
  function keyed(container, keys, make) {
    const existing = new Map();
    Array.from(container.children).forEach(function (child) {
      existing.set(child.dataset.key, child);
    });
    keys.forEach(function (key, index) {
      let child = existing.get(key);
      if (!child) {
        child = make(key);
        child.dataset.key = key;
      }
      existing.delete(key);
      if (container.children[index] !== child) {
        container.insertBefore(child, container.children[index] || null);
      }
    });
    existing.forEach(function (child) {
      child.remove();
    });
  }

  function queueRow(name) {
    const row = document.createElement("tr");
    const p = "queue-" + name + "-";
    cell(row, p + "name", "name");
    ["waiting", "longest-wait", "service-level", "answered", "abandoned",
      "ready", "busy", "wrap-up", "paused", "logged-in"].forEach(function (part) {
      const td = cell(row, p + part);
      if (part === "longest-wait") {
        td.dataset.kind = "timer";
      }
    });
    return row;
  }

  function renderQueues(queues) {
    const body = byId("queue-rows");
    keyed(body, queues.map(function (q) { return q.name; }), queueRow);
    queues.forEach(function (q) {
      const p = "queue-" + q.name + "-";
      const a = q.agents;
      show(p + "name", q.name);
      show(p + "waiting", q.waiting);
      setTimer(byId(p + "longest-wait"), q.longest_wait_s);
      show(p + "service-level", percent(q.service_level_pct));
      show(p + "answered", q.answered);
      show(p + "abandoned", q.abandoned);
      show(p + "ready", a["available"]);
      show(p + "busy", a["reserved"] + " / " + a["on-call"]);
      show(p + "wrap-up", a["wrap-up"]);
      show(p + "paused", a["paused"]);
      show(p + "logged-in", a["available"] + a["reserved"] + a["on-call"] + a["wrap-up"] + a["paused"]);
      const row = byId(p + "name").parentElement;
      row.classList.toggle("has-waiting", q.waiting > 0);
    });
  }

  function agentCard(id) {
    const card = document.createElement("div");
    card.className = "agent";
    const p = "agent-" + id + "-";
    [["id", "id"], ["name", "name"], ["state", "state"], ["time", "time"],
      ["reason", "reason"], ["queue", "queue"]].forEach(function (part) {
      const span = document.createElement("span");
      span.className = part[1];
      span.dataset.testid = p + part[0];
      if (part[0] === "time") {
        span.dataset.kind = "timer";
      }
      card.appendChild(span);
    });
    return card;
  }

  function renderAgents(agents) {
    const grid = byId("agent-rows");
    keyed(grid, agents.map(function (a) { return a.id; }), agentCard);
    agents.forEach(function (a) {
      const p = "agent-" + a.id + "-";
      const card = byId(p + "id").parentElement;
      card.className = "agent state-" + a.state;
      show(p + "id", a.id);
      show(p + "name", a.name);
      setText(byId(p + "state"), STATE_LABELS[a.state] || a.state);
      byId(p + "state").dataset.state = a.state;
      setTimer(byId(p + "time"), a.in_state_s);
      let reason = a.pause_reason || "";
      if (a.pending) {
        reason = (reason ? reason + ", " : "") + "then " + a.pending;
      }
      setText(byId(p + "reason"), reason);
      let call = a.queue || "";
      if (a.caller) {
        call = (call ? call + " \u00b7 " : "") + a.caller;
      }
      setText(byId(p + "queue"), call);
    });
    byId("agents-empty").hidden = agents.length > 0;
  }

  function exitRow(key) {
    const row = document.createElement("tr");
    cell(row, "exit-" + key + "-outcome");
    cell(row, "exit-" + key + "-node");
    cell(row, "exit-" + key + "-calls", "number");
    return row;
  }

  function renderExits(exits) {
    const body = byId("exit-rows");
    keyed(body, exits.map(function (_e, i) { return String(i + 1); }), exitRow);
    exits.forEach(function (e, i) {
      const p = "exit-" + (i + 1) + "-";
      show(p + "outcome", e.outcome);
      show(p + "node", e.node);
      show(p + "calls", e.calls);
    });
  }

  function render(snapshot) {
    const t = snapshot.totals;
    const a = t.agents;
    timeZone = snapshot.timezone;
    show("day", snapshot.day);
    show("timezone", snapshot.timezone);
    show("sl-definition", snapshot.service_level.definition);
    show("waiting-total", t.waiting);
    setTimer(byId("longest-wait"), t.longest_wait_s);
    show("service-level", percent(t.service_level_pct));
    show("answered-total", t.answered);
    show("abandoned-total", t.abandoned);
    show("agents-ready", a["available"]);
    show("agents-ringing", a["reserved"]);
    show("agents-on-call", a["on-call"]);
    show("agents-wrap-up", a["wrap-up"]);
    show("agents-paused", a["paused"]);
    show("agents-logged-in", snapshot.agents.length);
    show("ivr-in-menus", snapshot.ivr.in_menus);
    show("ivr-on-hotline", snapshot.ivr.on_hotline);
    show("ivr-calls-today", snapshot.ivr.calls_today);
    show("ivr-ended-today", snapshot.ivr.ended_today);
    renderQueues(snapshot.queues);
    renderAgents(snapshot.agents);
    renderExits(snapshot.ivr.top_exits);
    document.body.classList.remove("waiting-for-data");
  }

  function status(state, text) {
    const element = byId("connection");
    element.dataset.state = state;
    setText(element, text);
    document.body.dataset.connection = state;
  }

  function socketUrl() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + window.location.host + "/wallboard/ws?token=" + encodeURIComponent(token);
  }

  // A WebSocket that could not open does not say why: ask the JSON route, which answers
  // the same token with a status (401/403: the token is not accepted).
  function whyClosed() {
    const headers = token ? { "Authorization": "Bearer " + token } : {};
    return fetch("/api/v1/wallboard", { headers: headers, cache: "no-store" })
      .then(function (response) { return response.status; })
      .catch(function () { return 0; });
  }

  function retry() {
    const wait = refused ? RETRY_MAX_MS * 2 : retryMs;
    retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
    window.setTimeout(connect, wait);
  }

  function connect() {
    let opened = false;
    const socket = new WebSocket(socketUrl());
    socket.onopen = function () {
      opened = true;
      refused = false;
      retryMs = RETRY_MIN_MS;
      status("live", "live");
    };
    socket.onmessage = function (event) {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (_error) {
        return;
      }
      if (message.error) {
        status("error", message.error);
        return;
      }
      receivedAt = performance.now();
      status("live", "live");
      render(message);
      tick();
    };
    socket.onclose = function () {
      if (opened) {
        status("reconnecting", "connection lost: reconnecting");
        retry();
        return;
      }
      whyClosed().then(function (code) {
        refused = code === 401 || code === 403;
        if (refused) {
          status("refused", "access refused: open this page as /wallboard?token=<your token>");
        } else {
          status("reconnecting", "engine unreachable: retrying");
        }
        retry();
      });
    };
  }

  window.setInterval(tick, 500);
  tick();
  connect();
})();
