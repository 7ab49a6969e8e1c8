// Helpers shared by the windows: IPC access and formatting. No framework, no build step.
"use strict";

window.Till = (() => {
  const tauri = window.__TAURI__;
  const invoke = (cmd, args) => tauri.core.invoke(cmd, args);
  const listen = (event, handler) => tauri.event.listen(event, handler);

  const CURRENCIES = {
    KHR: { symbol: "៛", decimals: 0 },
    USD: { symbol: "$", decimals: 2 },
  };

  // Format what the cashier has keyed so far ("1250.5" → "1,250.5"), keeping what was typed.
  function groupDigits(text) {
    const [int, frac] = text.split(".");
    const grouped = (int || "0").replace(/^0+(?=\d)/, "").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return frac === undefined ? grouped : `${grouped}.${frac}`;
  }

  function countdown(ms) {
    const s = Math.max(0, Math.ceil(ms / 1000));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  function el(id) {
    return document.getElementById(id);
  }

  return { invoke, listen, CURRENCIES, groupDigits, countdown, el, text: window.TillText };
})();
