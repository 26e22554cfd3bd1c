// The learning inbox's keyboard flow (bot/web/templates/learning.html): j/k move, 1-4 pick a suggestion,
// s another intent, o out of scope, n needs a new topic, i ignore, Enter confirms (saved in the
// background; the next group is selected). Without JavaScript the buttons submit the form.
(function () {
  "use strict";
  var list = document.getElementById("learning-list");
  if (!list) { return; }
  var rows = function () { return Array.prototype.slice.call(list.querySelectorAll("li.lrn:not(.done)")); };
  var current = null;

  function select(row) {
    if (current) { current.classList.remove("current"); }
    current = row || null;
    if (current) {
      current.classList.add("current");
      current.focus({ preventScroll: true });
      current.scrollIntoView({ block: "nearest" });
    }
  }
  function move(step) {
    var all = rows();
    if (!all.length) { select(null); return; }
    var at = all.indexOf(current);
    select(all[Math.max(0, Math.min(all.length - 1, at < 0 ? 0 : at + step))]);
  }
  function setPending(row, pick, label) {
    row.setAttribute("data-pick", pick);
    row.querySelector(".pending").textContent = "→ " + label;
  }
  function send(row) {
    var pick = row.getAttribute("data-pick");
    if (!pick) { return; }
    var form = row.querySelector("form");
    var data = new FormData(form);
    data.append("pick", pick);
    var before = rows(), at = before.indexOf(row);
    row.classList.add("done");
    var after = rows();
    select(after.length ? after[Math.min(at, after.length - 1)] : null);
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin",
                         headers: { "Accept": "application/json" } })
      .then(function (response) { if (!response.ok) { throw new Error(String(response.status)); } })
      .catch(function () {
        row.classList.remove("done");
        row.querySelector(".pending").textContent = list.getAttribute("data-error");
      });
  }

  list.addEventListener("click", function (event) {
    var row = event.target.closest("li.lrn");
    if (row && row !== current) { select(row); }
  });
  list.addEventListener("change", function (event) {
    if (event.target.classList.contains("other") && event.target.value) {
      var row = event.target.closest("li.lrn");
      setPending(row, "label:" + event.target.value, event.target.value);
      row.focus();
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var tag = (event.target.tagName || "").toLowerCase();
    var typing = tag === "input" || tag === "textarea" || tag === "select";
    if (typing) {
      if (event.key === "Escape") { event.target.blur(); if (current) { current.focus(); } }
      if (event.key === "Enter" && tag === "input" && current && current.getAttribute("data-pick")) {
        event.preventDefault(); send(current);
      }
      return;
    }
    if (!current) { move(0); if (!current) { return; } }
    var key = event.key;
    if (key === "j" || key === "ArrowDown") { event.preventDefault(); move(1); }
    else if (key === "k" || key === "ArrowUp") { event.preventDefault(); move(-1); }
    else if (key >= "1" && key <= "4") {
      var ranking = (current.getAttribute("data-ranking") || "").split(" ").filter(Boolean);
      var intent = ranking[parseInt(key, 10) - 1];
      if (intent) { event.preventDefault(); setPending(current, "label:" + intent, intent); }
    }
    else if (key === "o" || key === "n" || key === "i") {
      var button = current.querySelector('button[data-key="' + key + '"]');
      event.preventDefault();
      setPending(current, button.value, button.textContent.replace(/^\s*\S+\s*/, ""));
    }
    else if (key === "s") { event.preventDefault(); current.querySelector("select.other").focus(); }
    else if (key === "Enter") { event.preventDefault(); send(current); }
  });
  move(0);
})();
