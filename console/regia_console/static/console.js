// Regia console: the one script. It only follows the live event stream (Server-Sent
// Events) and adds rows with textContent, never innerHTML: event fields are data.
"use strict";
(function () {
  const table = document.getElementById("events");
  if (!table || !window.EventSource) return;
  const body = table.tBodies[0];
  const state = document.getElementById("stream-state");
  const empty = document.getElementById("no-events");
  const KEPT = 200;
  const source = new EventSource(table.dataset.stream);
  source.onopen = function () { state.textContent = state.dataset.live; state.classList.add("on"); };
  source.onerror = function () { state.textContent = state.dataset.off; state.classList.remove("on"); };
  source.addEventListener("envelope", function (message) {
    const event = JSON.parse(message.data);
    const row = document.createElement("tr");
    row.className = "fresh";
    for (const text of [event.occurred_at.slice(0, 19).replace("T", " "), event.type, event.key, event.producer, event.topic]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.appendChild(cell);
    }
    body.insertBefore(row, body.firstChild);
    while (body.rows.length > KEPT) body.deleteRow(body.rows.length - 1);
    if (empty) empty.hidden = true;
  });
  window.addEventListener("beforeunload", function () { source.close(); });
})();
