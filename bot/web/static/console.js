// SafeSafar staff console: polls for new cases and new messages, inserts canned replies. No framework.
(function () {
  "use strict";

  function poll(element, onData) {
    var url = element.getAttribute("data-poll");
    var seconds = parseFloat(element.getAttribute("data-poll-seconds") || "4");
    var busy = false;
    function tick() {
      if (busy || document.hidden) { return; }
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
  }

  function queue(table) {
    poll(table, function (data) {
      var body = document.getElementById("queue-rows");
      if (body && body.getAttribute("data-html") !== data.html) {
        body.innerHTML = data.html;
        body.setAttribute("data-html", data.html);
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
      if (String(data.last_message) !== list.getAttribute("data-last-message")) {
        list.innerHTML = data.html;
        list.setAttribute("data-last-message", String(data.last_message));
      }
      if (String(data.version) !== list.getAttribute("data-version")) {
        var notice = document.getElementById("case-changed");
        if (notice) { notice.hidden = false; }
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

  document.addEventListener("DOMContentLoaded", function () {
    var table = document.querySelector("table.queue[data-poll]");
    if (table) { queue(table); }
    var list = document.querySelector("ol.transcript[data-poll]");
    if (list) { transcript(list); }
    canned();
  });
})();
