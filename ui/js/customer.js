// Customer display: idle shop name, the KHQR to scan with a countdown, the wallet while the
// customer is on the bKash page, then a large result. It only shows things; everything it
// knows comes from the terminal (display://changed), and it can change nothing.
"use strict";

(() => {
  const { invoke, listen, countdown, el, fill, TEXT } = window.Till;
  const C = TEXT.customer;
  let current = null;
  let timer = null;
  let info = null;

  // English plus the wallet's language: Khmer for KHQR, Bangla for bKash (and demo).
  function altLang(provider) {
    return provider === "bakong" ? "km" : "bn";
  }
  function both(enId, altId, key, provider, vars) {
    const alt = altLang(provider);
    el(enId).textContent = fill(C.en[key], vars);
    const a = el(altId);
    a.textContent = fill(C[alt][key], vars);
    a.className = `${a.className.replace(/\b(km|bn)\b/g, "").trim()} ${alt}`.trim();
    a.lang = alt;
  }

  function show(screen) {
    document.body.dataset.screen = screen;
    for (const id of ["idle", "khqr", "wallet", "result"]) el(id).hidden = id !== screen;
  }

  function stop() {
    if (timer) clearInterval(timer);
    timer = null;
  }

  function idle() {
    stop();
    current = null;
    const qr = el("qr");
    qr.replaceChildren();
    qr.dataset.khqr = "";
    qr.dataset.md5 = "";
    show("idle");
  }

  function khqr(s) {
    current = s;
    el("khqr-amount").textContent = s.amount_display;
    const qr = el("qr");
    if (qr.dataset.md5 !== s.md5) {
      // The SVG comes from our own khqr crate (no script in it); parse it as SVG, not HTML.
      const doc = new DOMParser().parseFromString(s.svg, "image/svg+xml");
      qr.replaceChildren(document.importNode(doc.documentElement, true));
    }
    qr.dataset.khqr = s.qr;
    qr.dataset.md5 = s.md5;
    qr.dataset.amount = s.amount;
    qr.dataset.currency = s.currency;
    // For the benchmark: when the code was first painted.
    if (qr.dataset.shownFor !== s.md5) {
      qr.dataset.shownFor = s.md5;
      requestAnimationFrame(() => { qr.dataset.shownAt = String(Date.now()); });
    }
    both("scan-en", "scan-km", "scan_to_pay", "bakong");
    const note = el("offline-note");
    note.hidden = !s.offline;
    note.textContent = `${C.en.offline_note} · ${C.km.offline_note}`;
    show("khqr");
    stop();
    const tick = () => {
      const left = s.expires_ms - Date.now();
      const c = countdown(left);
      el("countdown").textContent = `${fill(C.en.scan_within, { left: c })} · ${fill(C.km.scan_within, { left: c })}`;
      el("countdown").classList.toggle("urgent", left < 30000);
      if (left <= 0) stop(); // the result screen comes from the terminal
    };
    tick();
    timer = setInterval(tick, 250);
  }

  function wallet(s) {
    stop();
    current = s;
    const band = el("wallet-band");
    band.dataset.provider = s.provider;
    el("wallet-name").textContent = s.provider === "bkash" ? "bKash · বিকাশ" : "Demo wallet · ডেমো";
    el("wallet-amount").textContent = s.amount_display;
    both("due-en", "due-alt", "amount_due", s.provider);
    both("wallet-en", "wallet-alt", s.provider === "bkash" ? "bkash_page" : "demo_paying", s.provider);
    show("wallet");
  }

  function result(s) {
    stop();
    current = s;
    const ok = s.outcome === "paid";
    const r = el("result");
    r.dataset.outcome = s.outcome;
    el("result-mark").textContent = ok ? "✓" : s.outcome === "flagged" ? "!" : "✗";
    both("result-en", "result-alt", s.outcome, s.provider);
    el("result-amount").textContent = s.amount_display;
    el("result-ref").textContent = s.reference ? `Ref ${s.reference} · ${s.time}` : s.time;
    show("result");
    const wait = Math.max(0, s.until_ms - Date.now());
    timer = setTimeout(() => { if (current === s) idle(); }, wait);
  }

  function apply(s) {
    if (!s || s.screen === "idle") idle();
    else if (s.screen === "khqr") khqr(s);
    else if (s.screen === "wallet") wallet(s);
    else if (s.screen === "result") result(s);
    else idle();
  }

  el("welcome-en").textContent = C.en.welcome;
  el("welcome-km").textContent = C.km.welcome;
  el("welcome-bn").textContent = C.bn.welcome;

  invoke("terminal_info").then((i) => {
    info = i;
    el("idle-shop").textContent = info.shop_name;
    const alt = [info.shop_name_bn, info.shop_name_km].filter(Boolean);
    el("idle-shop-alt").textContent = alt.join(" · ");
    el("khqr-shop").textContent = info.shop_name;
  }).catch(() => {});

  listen("display://changed", (e) => apply(e.payload));
  invoke("customer_state").then(apply).catch(() => idle());
})();
