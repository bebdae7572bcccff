// Regia console: the one script. It only follows the live event stream (Server-Sent
// Events) and adds lines with textContent, never innerHTML: event fields are data. The
// server words each event in the reader's language; the page's filters apply to new
// lines as they did to the first ones.
"use strict";
(function () {
  const list = document.getElementById("events");
  if (!list || !window.EventSource) return;
  const state = document.getElementById("stream-state");
  const empty = document.getElementById("no-events");
  const want = { objective: list.dataset.objective, kind: list.dataset.kind, institution: list.dataset.institution };
  const KEPT = 200;
  const source = new EventSource(list.dataset.stream);
  function wanted(event) {
    if (want.objective && event.objective_id !== want.objective) return false;
    if (want.kind && event.kind !== want.kind) return false;
    if (want.institution && event.institutions.indexOf(want.institution) < 0) return false;
    return true;
  }
  source.onopen = function () { state.textContent = state.dataset.live; state.classList.add("on"); };
  source.onerror = function () { state.textContent = state.dataset.off; state.classList.remove("on"); };
  source.addEventListener("envelope", function (message) {
    const event = JSON.parse(message.data);
    if (!wanted(event)) return;
    const item = document.createElement("li");
    item.className = "fresh";
    item.dataset.kind = event.kind;
    item.dataset.type = event.type;
    item.dataset.objective = event.objective_id;
    const time = document.createElement("time");
    time.textContent = event.occurred_at.slice(0, 19).replace("T", " ");
    const text = document.createElement("span");
    text.className = "ev-text";
    text.textContent = " " + event.text;
    item.appendChild(time);
    item.appendChild(text);
    list.insertBefore(item, list.firstChild);
    while (list.children.length > KEPT) list.removeChild(list.lastChild);
    if (empty) empty.hidden = true;
  });
  window.addEventListener("beforeunload", function () { source.close(); });
})();
