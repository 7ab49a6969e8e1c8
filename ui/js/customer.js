// Customer display: idle shop name, or the KHQR to scan with a countdown.
// It only shows things; everything it knows comes from the terminal.
"use strict";

(() => {
  const { invoke, listen, countdown, el, text } = window.Till;
  let current = null;
  let timer = null;

  function show(screen) {
    document.body.dataset.screen = screen;
    for (const id of ["idle", "khqr", "expired"]) el(id).hidden = id !== screen;
  }

  function idle() {
    if (timer) clearInterval(timer);
    timer = null;
    current = null;
    const qr = el("qr");
    qr.replaceChildren();
    qr.dataset.khqr = "";
    qr.dataset.md5 = "";
    show("idle");
  }

  function tick() {
    if (!current) return;
    const left = current.expires_ms - Date.now();
    if (left <= 0) {
      clearInterval(timer);
      timer = null;
      show("expired");
      setTimeout(() => { if (document.body.dataset.screen === "expired") idle(); }, 5000);
      return;
    }
    const c = countdown(left);
    el("countdown").textContent = `${text.en.scan_within} ${c} · ${text.km.scan_within} ${c}`;
    el("countdown").classList.toggle("urgent", left < 30000);
  }

  function khqr(state) {
    current = state;
    el("khqr-amount").textContent = state.amount_display;
    const qr = el("qr");
    // The SVG comes from our own khqr crate (no script in it); parse it as SVG, not HTML.
    const doc = new DOMParser().parseFromString(state.svg, "image/svg+xml");
    qr.replaceChildren(document.importNode(doc.documentElement, true));
    qr.dataset.khqr = state.qr;
    qr.dataset.md5 = state.md5;
    qr.dataset.amount = state.amount;
    qr.dataset.currency = state.currency;
    show("khqr");
    if (timer) clearInterval(timer);
    tick();
    timer = setInterval(tick, 250);
  }

  function apply(state) {
    if (state && state.screen === "khqr") khqr(state);
    else idle();
  }

  el("welcome-en").textContent = text.en.welcome;
  el("welcome-km").textContent = text.km.welcome;
  el("scan-en").textContent = text.en.scan_to_pay;
  el("scan-km").textContent = text.km.scan_to_pay;
  el("expired-en").textContent = text.en.expired;
  el("expired-km").textContent = text.km.expired;

  invoke("terminal_info").then((info) => {
    el("idle-shop").textContent = info.shop_name;
    el("idle-shop-km").textContent = info.shop_name_km || "";
    el("khqr-shop").textContent = info.shop_name;
  }).catch(() => {});

  listen("display://changed", (e) => apply(e.payload));
  invoke("customer_state").then(apply).catch(() => idle());
})();
