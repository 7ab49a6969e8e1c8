// Till office: the little the pages need a script for (each works without it).
// - forms with data-confirm ask before they are sent (retire a key, disable a terminal);
// - a button with data-copy="ID" copies that element's text (a key shown once).
"use strict";

document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  try {
    await navigator.clipboard.writeText(source.textContent.trim());
    button.dataset.copied = "1";
    button.textContent = "✓ " + button.textContent.replace(/^✓ /, "");
  } catch (_) {
    // No clipboard (plain http, old browser): select the text for a manual copy.
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
});
