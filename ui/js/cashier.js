// Cashier window: key an amount (keyboard or touch), charge, cancel.
"use strict";

(() => {
  const { invoke, CURRENCIES, groupDigits, countdown, el, text } = window.Till;
  const t = text.en;
  const MAX_DIGITS = 10;

  let value = ""; // what has been keyed, e.g. "12.5"
  let currency = "KHR";
  let shown = null; // the KHQR on the customer display, if any
  let timer = null;

  function setStatus(state, message) {
    const s = el("status");
    s.dataset.state = state;
    s.textContent = message;
  }

  function render() {
    const amount = el("amount");
    amount.dataset.value = value;
    amount.dataset.currency = currency;
    el("amount-symbol").textContent = CURRENCIES[currency].symbol;
    el("amount-digits").textContent = value === "" ? "0" : groupDigits(value);
    el("key-dot").disabled = CURRENCIES[currency].decimals === 0;
    document.querySelectorAll(".cur").forEach((b) => {
      const on = b.dataset.currency === currency;
      b.classList.toggle("on", on);
      b.setAttribute("aria-checked", String(on));
    });
  }

  function key(k) {
    const decimals = CURRENCIES[currency].decimals;
    if (k === "Backspace") {
      value = value.slice(0, -1);
    } else if (k === ".") {
      if (decimals > 0 && !value.includes(".")) value = (value || "0") + ".";
    } else if (/^[0-9]$/.test(k)) {
      const [int, frac] = value.split(".");
      if (frac !== undefined) {
        if (frac.length < decimals) value += k;
      } else if (int.replace(/^0+/, "").length < MAX_DIGITS) {
        value = value === "0" ? k : value + k;
      }
    }
    render();
  }

  function setCurrency(c) {
    if (!CURRENCIES[c] || c === currency) return;
    currency = c;
    if (CURRENCIES[c].decimals === 0 && value.includes(".")) value = value.split(".")[0];
    render();
  }

  function stopTimer() {
    if (timer) clearInterval(timer);
    timer = null;
  }

  function tick() {
    if (!shown) return;
    const left = shown.expires_ms - Date.now();
    if (left <= 0) {
      stopTimer();
      shown = null;
      setStatus("expired", t.qr_expired);
      invoke("clear_customer").catch(() => {});
      return;
    }
    setStatus("waiting", `${t.showing_qr} ${shown.amount_display} · ${t.expires_in} ${countdown(left)}`);
  }

  async function chargeKhqr() {
    setStatus("working", "Making the QR code…");
    try {
      shown = await invoke("show_khqr", { amount: value, currency });
      el("amount").dataset.md5 = shown.md5;
      stopTimer();
      tick();
      timer = setInterval(tick, 250);
    } catch (e) {
      shown = null;
      setStatus("failed", (e && e.message) || String(e));
    }
  }

  async function cancel() {
    stopTimer();
    const had = shown !== null;
    shown = null;
    value = "";
    render();
    await invoke("clear_customer").catch(() => {});
    setStatus(had ? "cancelled" : "idle", had ? t.cleared : t.ready);
  }

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey && (e.key === "1" || e.key === "2")) {
      setCurrency(e.key === "1" ? "KHR" : "USD");
    } else if (e.key === "Enter") {
      chargeKhqr();
    } else if (e.key === "Escape") {
      cancel();
    } else if (e.key === "F2") {
      chargeKhqr();
    } else if (/^[0-9.]$/.test(e.key) || e.key === "Backspace" || e.key === ",") {
      key(e.key === "," ? "." : e.key);
    } else {
      return;
    }
    e.preventDefault();
  });

  document.querySelectorAll(".keypad button").forEach((b) =>
    b.addEventListener("click", () => key(b.dataset.key)));
  document.querySelectorAll(".cur").forEach((b) =>
    b.addEventListener("click", () => setCurrency(b.dataset.currency)));
  el("charge-khqr").addEventListener("click", chargeKhqr);
  el("cancel").addEventListener("click", cancel);

  invoke("terminal_info").then((info) => {
    el("shop-name").textContent = info.shop_name;
    if (info.config_source === "built-in demo profile") {
      const note = el("demo-note");
      note.textContent = t.demo_note;
      note.hidden = false;
    }
    setCurrency(info.default_currency);
  }).catch(() => {});

  el("keys-hint").textContent = t.keys_hint;
  setStatus("idle", t.ready);
  render();
  el("amount").focus();
})();
