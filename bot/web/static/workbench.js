// The topic editor's live preview: on input, the form goes to the preview endpoint (the bot's own renderer,
// server side) and each language's preview and word count are replaced. No inline script (CSP).
(function () {
  "use strict";
  var form = document.getElementById("topic-form");
  if (!form || !form.dataset.preview) { return; }
  var timer = null, pending = null, sequence = 0;
  function refresh() {
    var mine = ++sequence;
    var body = new URLSearchParams(new FormData(form));
    if (pending) { pending.abort(); }
    pending = new AbortController();
    fetch(form.dataset.preview, { method: "POST", body: body, credentials: "same-origin", signal: pending.signal,
                                  headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || mine !== sequence) { return; }
        Object.keys(data.languages).forEach(function (code) {
          var item = data.languages[code];
          var slot = document.getElementById("slot-" + item.key);
          if (!slot) { return; }
          var old = slot.querySelector(".tg-preview");
          var holder = document.createElement("div");
          holder.innerHTML = item.html;  // server-rendered and escaped (bot/web/preview.py)
          if (old) { old.replaceWith(holder.firstElementChild); } else { slot.appendChild(holder.firstElementChild); }
          var col = document.getElementById("col-" + item.key);
          if (col) { col.classList.toggle("has-missing", item.missing.length > 0); }
        });
        form.dataset.previewed = String(mine);
      })
      .catch(function () { /* aborted or offline: the next input tries again */ });
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
})();
