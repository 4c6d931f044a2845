// The console works without this file; it adds copy buttons and the outbox's live updates.
"use strict";

document.addEventListener("click", (event) => {
  const button = event.target.closest("button.copy");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  field.select();
  navigator.clipboard.writeText(field.value).then(
    () => { button.textContent = "Copied"; },
    () => { button.textContent = "Press Ctrl+C"; },
  );
});

// a page answering a post (a new key's secret) puts the page's own address in the history,
// so a reload fetches it again rather than posting the form twice
const answered = document.querySelector("[data-replace-url]");
if (answered) history.replaceState(null, "", answered.dataset.replaceUrl);

const OUTBOX_EVERY_MS = 2000;

function followOutbox(box) {
  const state = document.getElementById("live-state");
  const refresh = async () => {
    try {
      const answer = await fetch(box.dataset.rows, {credentials: "same-origin", cache: "no-store"});
      if (!answer.ok || answer.redirected) {
        state.textContent = "Live updates stopped: reload the page.";
        return;
      }
      box.innerHTML = await answer.text();
      state.textContent = "Updating live.";
    } catch (error) {
      state.textContent = "Offline: retrying.";
    }
    setTimeout(refresh, OUTBOX_EVERY_MS);
  };
  setTimeout(refresh, OUTBOX_EVERY_MS);
  state.textContent = "Updating live.";
}

const outbox = document.getElementById("outbox");
if (outbox) followOutbox(outbox);
