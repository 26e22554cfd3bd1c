// SafeSafar staff console: polls for new cases and new messages, inserts canned replies. No framework.
(function () {
  "use strict";

  // polls on every page, in a hidden tab too (every third tick there: browsers slow hidden timers anyway)
  function poll(element, onData, urlAttribute) {
    var url = element.getAttribute(urlAttribute || "data-poll");
    var seconds = parseFloat(element.getAttribute("data-poll-seconds") || "4");
    var busy = false, skipped = 0;
    function tick() {
      if (busy) { return; }
      if (document.hidden && skipped < 2) { skipped += 1; return; }
      skipped = 0;
      busy = true;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
        .then(function (response) {
          if (response.status === 401) { window.location.href = "/login?next=" + encodeURIComponent(window.location.pathname); return null; }
          return response.ok ? response.json() : null;
        })
        .then(function (data) { if (data) { onData(data); } })
        .catch(function () { /* offline for a moment: try again at the next tick */ })
        .then(function () { busy = false; });
    }
    window.setInterval(tick, seconds * 1000);
    return tick;
  }

  // -- the pulse: a title count, a sound and a browser notification for new cases, on every page ----------
  var SEEN_KEY = "safesafar:seen-case";
  function storageGet(key) { try { return window.localStorage.getItem(key); } catch (e) { return null; } }
  function storageSet(key, value) { try { window.localStorage.setItem(key, value); } catch (e) { /* private mode */ } }
  function storageDel(key) { try { window.localStorage.removeItem(key); } catch (e) { /* private mode */ } }

  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    try {
      var audio = new Context(), osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.15;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + 0.35);
    } catch (e) { /* no audio device */ }
  }

  function notify(body, title, caseId) {
    if (!("Notification" in window) || Notification.permission !== "granted") { return; }
    try {
      var n = new Notification(title, { body: body, tag: "safesafar-case-" + caseId });
      n.onclick = function () { window.focus(); window.location.href = "/cases/" + caseId; };
    } catch (e) { /* some browsers only allow notifications from a service worker */ }
  }

  function pulse(body) {
    var base = document.title;
    var banner = document.getElementById("pulse-banner");
    poll(body, function (data) {
      document.title = (data.unassigned > 0 ? "(" + data.unassigned + ") " : "") + base;
      var newest = data.ids.length ? Math.max.apply(null, data.ids) : 0;
      var seen = parseInt(storageGet(SEEN_KEY) || "-1", 10);
      if (seen < 0) { storageSet(SEEN_KEY, String(newest)); return; }  // the first poll ever: nothing is new
      var fresh = data.ids.filter(function (id) { return id > seen; });
      if (newest > seen) { storageSet(SEEN_KEY, String(newest)); }
      if (!fresh.length) { return; }
      var urgent = fresh.filter(function (id) { return data.urgent.indexOf(id) >= 0; });
      var first = urgent.length ? urgent[0] : fresh[0];
      var title = body.getAttribute(urgent.length ? "data-new-urgent" : "data-new-case");
      if (banner) {
        banner.innerHTML = "";
        var link = document.createElement("a");
        link.href = "/cases/" + first;
        link.textContent = title + " #" + first + (fresh.length > 1 ? " (+" + (fresh.length - 1) + ")" : "");
        banner.appendChild(link);
        banner.classList.toggle("urgent", urgent.length > 0);
        banner.hidden = false;
      }
      if (body.getAttribute("data-sound") === "1") { beep(); }
      if (body.getAttribute("data-notify") === "1") { notify("#" + first, title, first); }
    }, "data-pulse")();
  }

  function settings() {
    var box = document.getElementById("pref-notify");
    if (!box) { return; }
    var state = document.getElementById("notify-state");
    function show() {
      if (state && "Notification" in window && Notification.permission === "denied" && box.checked) {
        state.textContent = state.getAttribute("data-denied"); state.hidden = false;
      }
    }
    box.addEventListener("change", function () {  // asked on the person's click, as browsers require
      if (box.checked && "Notification" in window && Notification.permission === "default") {
        Notification.requestPermission().then(show);
      }
    });
    show();
  }

  // the queue: new rows are highlighted; while the pointer is over the table the rows do not move
  // (a Claim button never jumps under the cursor): the update waits until the pointer leaves
  function queue(table) {
    var body = document.getElementById("queue-rows");
    var hovering = false, pending = null;
    function ids() {
      return Array.prototype.map.call(body.querySelectorAll("tr[data-case]"), function (tr) { return tr.getAttribute("data-case"); });
    }
    function apply(html) {
      var before = ids();
      body.innerHTML = html;
      body.setAttribute("data-html", html);
      body.querySelectorAll("tr[data-case]").forEach(function (tr) {
        if (before.indexOf(tr.getAttribute("data-case")) < 0) { tr.classList.add("is-new"); }
      });
      table.classList.remove("has-pending");
    }
    table.addEventListener("mouseenter", function () { hovering = true; });
    table.addEventListener("mouseleave", function () {
      hovering = false;
      if (pending !== null) { apply(pending); pending = null; }
    });
    poll(table, function (data) {
      if (body && body.getAttribute("data-html") !== data.html) {
        if (hovering) { pending = data.html; table.classList.add("has-pending"); }
        else { apply(data.html); }
      }
      Object.keys(data.counts).forEach(function (name) {
        document.querySelectorAll('[data-count="' + name + '"]').forEach(function (el) { el.textContent = data.counts[name]; });
      });
      var box = document.querySelector('[data-count-box="overdue"]');
      if (box) { box.classList.toggle("overdue", data.counts.overdue > 0); }
    });
  }

  function transcript(list) {
    poll(list, function (data) {
      // a new message, or a reply's delivery state changed (pending -> sent or failed)
      if (String(data.last_message) !== list.getAttribute("data-last-message") || list.getAttribute("data-html") !== data.html) {
        list.innerHTML = data.html;
        list.setAttribute("data-html", data.html);
        list.setAttribute("data-last-message", String(data.last_message));
      }
      if (String(data.version) !== list.getAttribute("data-version")) {
        ["case-changed", "case-changed-reply"].forEach(function (id) {
          var notice = document.getElementById(id);
          if (notice) { notice.hidden = false; }
        });
      }
    });
  }

  function canned() {
    document.querySelectorAll("[data-insert]").forEach(function (button) {
      button.addEventListener("click", function () {
        var box = document.getElementById("reply-text");
        if (!box) { return; }
        var text = button.getAttribute("data-insert");
        var start = box.selectionStart || 0, end = box.selectionEnd || 0;
        if (box.value && start === 0 && end === 0) { start = end = box.value.length; }
        var before = box.value.slice(0, start), after = box.value.slice(end);
        var glue = before && !/\s$/.test(before) ? " " : "";
        box.value = before + glue + text + after;
        box.focus();
      });
    });
  }

  // replying: Ctrl+Enter sends; the draft is kept per case in this browser until it is sent; a warning
  // before leaving with an unsent draft; after sending, the page comes back where it was
  function reply(form) {
    var box = document.getElementById("reply-text");
    var key = "safesafar:" + form.getAttribute("data-draft-key");
    var state = document.getElementById("draft-state");
    var sending = false;
    var saved = storageGet(key);
    if (saved && !box.value) { box.value = saved; }
    if (box.value && state) { state.hidden = false; }
    box.addEventListener("input", function () {
      if (box.value.trim()) { storageSet(key, box.value); } else { storageDel(key); }
      if (state) { state.hidden = !box.value.trim(); }
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        if (box.value.trim()) { form.requestSubmit ? form.requestSubmit() : form.submit(); }
      }
    });
    form.addEventListener("submit", function () {
      sending = true;
      storageSet("safesafar:scroll:" + window.location.pathname, String(window.scrollY));
    });
    window.addEventListener("beforeunload", function (event) {
      if (!sending && box.value.trim() && box.value !== box.defaultValue) {
        event.preventDefault();
        event.returnValue = "";
        return "";
      }
    });
    if (/[?&]done=replied/.test(window.location.search)) { storageDel(key); box.value = ""; if (state) { state.hidden = true; } }
  }

  function restoreScroll() {
    var key = "safesafar:scroll:" + window.location.pathname;
    var y = storageGet(key);
    if (y !== null && /[?&]done=/.test(window.location.search)) { window.scrollTo(0, parseInt(y, 10) || 0); }
    storageDel(key);
  }

  // resolving: confirm when the user wrote last (the bot's own answers do not count), as the transcript
  // shows it now (it may have changed since the page was loaded)
  function unansweredConfirm() {
    var form = document.getElementById("resolve-form");
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      var said = document.querySelectorAll("#transcript li.msg.in, #transcript li.msg.staff");
      var last = said.length ? said[said.length - 1] : null;
      if (last && last.classList.contains("in") && !window.confirm(form.getAttribute("data-confirm-unanswered"))) {
        event.preventDefault();
      }
    });
  }

  // resolving: the closing message follows the chosen outcome until the person edits it
  function closingSuggestions() {
    var box = document.getElementById("closing-text");
    var form = document.getElementById("resolve-form");
    if (!box || !form) { return; }
    var suggestions = {};
    try { suggestions = JSON.parse(box.getAttribute("data-suggestions") || "{}"); } catch (e) { return; }
    var suggested = "";
    box.addEventListener("input", function () { box.setAttribute("data-edited", "1"); });
    form.querySelectorAll("input[name=outcome]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        if (!radio.checked) { return; }
        // replaced while it is empty or still the last suggestion: a person's own words are never overwritten
        if (box.value === "" || box.value === suggested || !box.hasAttribute("data-edited")) {
          suggested = suggestions[radio.value] || "";
          box.value = suggested;
          box.removeAttribute("data-edited");
        }
      });
    });
  }

  function confirmForms() {
    document.querySelectorAll("button[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (document.body.hasAttribute("data-pulse")) { pulse(document.body); }
    settings();
    confirmForms();
    unansweredConfirm();
    closingSuggestions();
    restoreScroll();
    var replyForm = document.getElementById("reply-form");
    if (replyForm) { reply(replyForm); }
    var table = document.querySelector("table.queue[data-poll]");
    if (table) { queue(table); }
    var list = document.querySelector("ol.transcript[data-poll]");
    if (list) { transcript(list); }
    canned();
  });
})();
