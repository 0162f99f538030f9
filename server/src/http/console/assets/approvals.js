// Keeps the console's approval list live: every 2 s it fetches the list's JSON (same filters)
// and redraws the rows with text nodes only (no HTML is ever parsed from the answer, and the
// console's CSP allows no inline script, hence this file).
(function () {
  "use strict";

  var box = document.getElementById("approval-list");
  if (!box) {
    return;
  }
  var source = box.getAttribute("data-poll");

  function cell(row, text, href) {
    var td = document.createElement("td");
    if (href) {
      var a = document.createElement("a");
      a.setAttribute("href", href);
      a.textContent = text;
      td.appendChild(a);
    } else {
      td.textContent = text;
    }
    row.appendChild(td);
    return td;
  }

  function draw(requests) {
    var body = document.getElementById("approval-rows");
    var rows = document.createDocumentFragment();
    requests.forEach(function (r) {
      var row = document.createElement("tr");
      cell(row, String(r.uuid), "/console/approvals/" + encodeURIComponent(r.uuid));
      cell(row, String(r.app_id));
      cell(row, String(r.user_id), "/console/users/" + encodeURIComponent(r.user_id));
      cell(row, String(r.message));
      cell(row, String(r.state)).className = "state";
      cell(row, String(r.created));
      rows.appendChild(row);
    });
    body.replaceChildren(rows);
  }

  function poll() {
    fetch(source, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) {
        return answer.ok ? answer.json() : null;
      })
      .then(function (list) {
        if (list && Array.isArray(list.requests)) {
          draw(list.requests);
        }
      })
      .catch(function () {
        // A missed poll is retried on the next tick.
      })
      .then(function () {
        setTimeout(poll, 2000);
      });
  }

  setTimeout(poll, 2000);
})();
