// The console's only script. Pages work without it; it adds what needs a browser:
// - on the push sign-in page (an element with data-poll), asking every two seconds whether
//   the phone has answered, then sending the "continue" form on approval.
"use strict";

function pollSignIn(box) {
  const url = box.getAttribute("data-poll");
  const form = document.getElementById(box.getAttribute("data-form"));
  const status = box.querySelector("[data-status]");
  const ask = async () => {
    let state = "pending";
    try {
      const answer = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      state = answer.ok ? (await answer.json()).status : "expired";
    } catch (e) {
      state = "pending";
    }
    if (state === "approved") {
      status.textContent = "Approved. Signing in…";
      form.submit();
      return;
    }
    if (state === "denied" || state === "expired") {
      status.textContent = state === "denied"
        ? "The sign-in was denied on the phone."
        : "The sign-in request expired. Sign in again.";
      return;
    }
    window.setTimeout(ask, 2000);
  };
  window.setTimeout(ask, 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-poll]").forEach(pollSignIn);
});
