// Cashier window: key an amount (keyboard or touch), pick a wallet, follow the payment live.
"use strict";

(() => {
  const { invoke, listen, CURRENCIES, t, el, h, countdown, groupDigits, errorText, reasonText } = window.Till;
  const MAX_DIGITS = 10;

  let value = ""; // what has been keyed, e.g. "12.5"
  let currency = "BDT";
  let info = null; // terminal_info
  let status = null; // terminal_status
  let current = null; // the payment being taken (PaymentView)
  let lastWallet = null;
  let timer = null;
  let statusState = "idle";
  let statusKey = null; // [key, vars] to re-render on language change

  // ---------------------------------------------------------------- status line
  function setStatus(state, key, vars) {
    statusState = state;
    statusKey = [key, vars];
    const s = el("status");
    s.dataset.state = state;
    s.textContent = statusText(key, vars);
  }

  // A reason travels as its code (`failure`), so a change of language says it anew.
  function statusText(key, vars) {
    const v = Object.assign({}, vars || {});
    if (v.failure !== undefined) v.reason = reasonText(v.failure) || t("r_other");
    return t(key, v);
  }

  // Every wallet the terminal knows, in its fixed order, each with its key
  // (F1…) and how the customer pays (`step`: code, page, wait). Nothing here
  // knows a wallet by name: what differs comes with the wallet.
  function wallets() {
    return (info && info.wallets) || [];
  }
  function wallet(provider) {
    return wallets().find((x) => x.provider === provider);
  }
  function walletTakes(provider, cur) {
    const w = wallet(provider);
    return !!w && w.configured && w.currencies.includes(cur);
  }
  function walletByKey(key) {
    const w = wallets().find((x) => x.key === key);
    return w ? w.provider : null;
  }
  // One button per wallet, before Cancel.
  function buildWallets() {
    const box = el("wallets");
    box.querySelectorAll(".wallet[data-provider]").forEach((b) => b.remove());
    for (const w of wallets()) {
      const b = h("button", { type: "button", id: `charge-${w.provider}`, class: `wallet ${w.provider}` },
        h("span", { class: "wallet-name", "data-t": w.provider, text: t(w.provider) }),
        h("span", { class: "hint", text: w.key }));
      b.dataset.provider = w.provider;
      b.addEventListener("click", () => charge(w.provider));
      box.insertBefore(b, el("cancel"));
    }
  }
  function online(provider) {
    const p = status && status.providers.find((x) => x.provider === provider);
    return !p || p.online;
  }

  // ---------------------------------------------------------------- amount
  function render() {
    const amount = el("amount");
    amount.dataset.value = value;
    amount.dataset.currency = currency;
    const c = CURRENCIES[currency] || { symbol: currency, decimals: 2 };
    el("amount-symbol").textContent = c.symbol;
    el("amount-digits").textContent = value === "" ? "0" : groupDigits(value);
    el("key-dot").disabled = c.decimals === 0;
    document.querySelectorAll(".cur").forEach((b) => {
      const on = b.dataset.currency === currency;
      b.classList.toggle("on", on);
      b.setAttribute("aria-checked", String(on));
    });
    document.querySelectorAll(".wallet[data-provider]").forEach((b) => {
      const p = b.dataset.provider;
      const w = wallet(p);
      const configured = !!w && w.configured;
      const takes = walletTakes(p, currency);
      b.disabled = !configured || !takes;
      b.classList.toggle("selected", p === lastWallet && takes);
      const hint = b.querySelector(".hint");
      const key = w ? w.key : "";
      if (!configured) hint.textContent = t("not_configured");
      else if (!takes) hint.textContent = t("currency_not_taken", { currency });
      else if (!online(p)) hint.textContent = `${key} · ${t("wallet_offline")}`;
      else hint.textContent = key;
    });
  }

  function key(k) {
    if (current && isOpen(current)) return; // the amount on the display is being paid
    const decimals = (CURRENCIES[currency] || { decimals: 2 }).decimals;
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
    if (current || statusState !== "idle") {
      // A new sale starts: the last one's result leaves the status line.
      current = null;
      stopTimer();
      el("demo-pay").hidden = true;
      showPrint(null);
      setStatus("idle", "ready");
    }
    render();
  }

  function setCurrency(c) {
    if (!CURRENCIES[c] || c === currency) return;
    currency = c;
    if (CURRENCIES[c].decimals === 0 && value.includes(".")) value = value.split(".")[0];
    render();
  }

  function currencies() {
    const set = new Set();
    for (const w of wallets()) for (const c of w.currencies) set.add(c);
    return ["BDT", "KHR", "USD"].filter((c) => set.has(c));
  }

  function renderCurrencies() {
    const box = el("currencies");
    box.replaceChildren(...currencies().map((c, i) =>
      h("button", { type: "button", class: "cur", role: "radio", "data-currency": c, title: `Ctrl+${i + 1}`,
        onclick: () => setCurrency(c) }, `${CURRENCIES[c].symbol} ${c}`)));
  }

  // ---------------------------------------------------------------- payments
  function isOpen(p) {
    return ["created", "awaiting_customer", "authorized"].includes(p.state);
  }

  function pickWallet() {
    if (lastWallet && walletTakes(lastWallet, currency)) return lastWallet;
    // Enter: a wallet that needs nothing of the cashier first (a code on the
    // display), then a page wallet, the demo last.
    const rank = { code: 0, page: 1, wait: 2 };
    const order = wallets().filter((w) => w.configured)
      .sort((a, b) => (rank[a.step] ?? 3) - (rank[b.step] ?? 3));
    const w = order.find((x) => walletTakes(x.provider, currency));
    return w ? w.provider : null;
  }

  // Payment events heard while a charge's answer is on its way (see charge()).
  const early = new Map();
  let charging = false;

  async function charge(provider) {
    if (current && isOpen(current)) {
      setStatus("waiting", "busy");
      return;
    }
    if (value === "" || Number(value) === 0) {
      setStatus("failed", "enter_amount");
      return;
    }
    provider = provider || pickWallet();
    if (!provider || !walletTakes(provider, currency)) {
      setStatus("failed", "not_configured");
      return;
    }
    lastWallet = provider;
    const amount = el("amount");
    amount.dataset.chargedAt = String(Date.now());
    setStatus("working", "starting", { wallet: t(provider) });
    charging = true;
    try {
      const r = await invoke("charge", { provider, amount: value, currency });
      // A wallet may have settled (and said so) before this answer came: an event that
      // ended the payment beats the answer's open state (a payment never opens again).
      const news = early.get(r.payment.id);
      current = news && isOpen(r.payment) && !isOpen(news) ? news : r.payment;
      amount.dataset.paymentId = current.id;
      amount.dataset.codeReference = r.code_reference || "";
      showPayment(current);
      scheduleRecent();
    } catch (e) {
      current = null;
      el("status").dataset.state = "failed";
      el("status").textContent = errorText(e);
      statusState = "failed";
      statusKey = null;
    } finally {
      charging = false;
      early.clear();
    }
    render();
  }

  // A paid payment's receipt: the Print button and how its last print went
  // (printed / failed: why / not asked), from the engine's print record.
  const PAID = ["settled", "refund_pending", "partially_refunded", "refunded"];
  function showPrint(p) {
    const paid = !!p && PAID.includes(p.state);
    el("print-receipt").hidden = !paid;
    el("print-state").hidden = !paid;
    if (!paid) return;
    const r = p.print;
    el("print-state").textContent = !r ? t("print_not_asked")
      : r.printed ? t("print_done") : t("print_failed", { why: reasonText(r.reason) });
  }

  function showPayment(p) {
    stopTimer();
    // A charge the shop's POS started: say which POS and its order.
    el("origin").hidden = !p.origin;
    el("origin").textContent = p.origin ? t("from_pos", { pos: p.origin.pos_name, reference: p.origin.reference }) : "";
    // Demo mode: the sandbox's bank app can pay a code shown on the display.
    el("demo-pay").hidden = !(info && info.demo && p.step === "code" && p.state === "awaiting_customer");
    showPrint(p);
    const amount = p.amount_display;
    // Money arrived for a payment the till had ended (paid_after_cancel, …).
    const lateMoney = p.flag && ["cancelled", "failed", "expired"].includes(p.state);
    switch (lateMoney ? "flagged" : p.state) {
      case "created":
        setStatus("working", "starting", { wallet: t(p.provider) });
        break;
      case "awaiting_customer":
        if (p.step === "code") {
          const tick = () => {
            const left = (p.expires_ms || 0) - Date.now();
            if (left <= 0) {
              setStatus("working", "verifying", { wallet: t(p.provider) });
              stopTimer();
              return;
            }
            setStatus("waiting", p.offline ? "waiting_khqr_offline" : "waiting_khqr", { left: countdown(left), amount, wallet: t(p.provider) });
          };
          tick();
          timer = setInterval(tick, 250);
        } else if (p.step === "page") {
          setStatus("waiting", "waiting_page", { wallet: t(p.provider) });
        } else {
          setStatus("waiting", "waiting_demo");
        }
        break;
      case "authorized":
        // Approved on the wallet's page: the provider's word is awaited.
        setStatus("working", "verifying_approved", { wallet: t(p.provider) });
        break;
      case "settled":
      case "refund_pending":
      case "partially_refunded":
      case "refunded":
        setStatus("paid", p.reference ? "paid_ref" : "paid", { amount, ref: p.reference });
        value = "";
        break;
      case "expired":
        setStatus("expired", "expired");
        break;
      case "cancelled":
        setStatus("cancelled", "cancelled");
        break;
      case "flagged":
        setStatus("failed", "flagged", { failure: p.failure });
        break;
      default:
        // Said from the engine's reason code, in the cashier's language.
        setStatus("failed", p.failure ? "declined" : "declined_plain", { failure: p.failure });
    }
    el("status").dataset.paymentState = p.state;
    el("status").dataset.paymentId = p.id;
    render();
  }

  function stopTimer() {
    if (timer) clearInterval(timer);
    timer = null;
  }

  async function cancel() {
    stopTimer();
    if (current && isOpen(current)) {
      try {
        const p = await invoke("cancel", { id: current.id });
        if (p) {
          current = p;
          showPayment(p);
        }
      } catch (e) {
        el("status").textContent = errorText(e);
        el("status").dataset.state = "failed";
      }
      return;
    }
    await invoke("cancel", { id: null }).catch(() => {});
    current = null;
    value = "";
    el("demo-pay").hidden = true;
    showPrint(null);
    setStatus("idle", "ready");
    render();
  }

  // ---------------------------------------------------------------- recent
  let searchTimer = null;
  // A charge brings its answer and two payment events within a few milliseconds, as the
  // customer display draws the code in this same web process: the list is read once, a
  // moment later, instead of three times at once.
  let recentTimer = null;
  function scheduleRecent() {
    if (recentTimer) return;
    recentTimer = setTimeout(() => { recentTimer = null; refreshRecent(); }, 150);
  }
  async function refreshRecent() {
    const search = el("search").value;
    let list = [];
    try {
      list = await invoke("recent", { search, limit: 12 });
    } catch (_) {
      return;
    }
    const ol = el("recent-list");
    if (list.length === 0) {
      ol.replaceChildren(h("li", { class: "empty", text: t("none_yet") }));
      return;
    }
    ol.replaceChildren(...list.map((p) => h("li", { class: `row state-${p.state}`, "data-id": p.id },
      h("span", { class: "time", text: p.time }),
      h("span", { class: `tag ${p.provider}`, text: t(p.provider) }),
      h("span", { class: "amt", text: p.amount_display }),
      h("span", { class: "st", text: t(`st_${p.state}`) }),
      h("span", { class: "ref", text: p.origin ? `${p.origin.pos_name} #${p.origin.reference}` : (p.reference || p.invoice) }))));
  }

  // ---------------------------------------------------------------- banner
  function renderBanner() {
    const b = el("banner");
    const lines = [];
    let kind = "warn";
    if (status && status.error) {
      lines.push(t("engine_error", { message: status.error }));
      kind = "error";
    } else if (status) {
      for (const p of status.providers) {
        if (p.enabled && !p.online) {
          const w = wallet(p.provider);
          lines.push(t("offline_banner", { wallet: t(p.provider), what: w && w.offline_display ? t("offline_khqr_ok") : t("offline_other") }));
        }
      }
      const s = status.sync;
      if (s && s.enabled) {
        if (s.endpoint_gone) {
          lines.push(t("gone_banner"));
          kind = "error";
        }
        if (s.queue_length > 0 && isBehind(s)) {
          lines.push(s.queue_length === 1 ? t("unsynced_banner_one") : t("unsynced_banner", { n: s.queue_length }));
        }
        if (s.dead_letters > 0) lines.push(t("dead_banner", { n: s.dead_letters }));
      }
    }
    b.hidden = lines.length === 0;
    b.dataset.kind = kind;
    b.textContent = lines.join(" · ");
    b.dataset.unsynced = status && status.sync ? String(status.sync.queue_length) : "0";
  }

  // Behind: something waits and the last try failed, or it has waited for more than a minute.
  function isBehind(s) {
    if (s.last_error) return true;
    if (!s.oldest_unsynced_at) return false;
    return Date.now() - Date.parse(s.oldest_unsynced_at) > 60000;
  }

  // ---------------------------------------------------------------- wiring
  function applyLang() {
    window.Till.translateStatic();
    el("lang").textContent = t("language");
    // The keys of the wallets that are on, each as its button says it.
    el("keys-hint").textContent = t("keys_hint", {
      wallets: wallets().filter((w) => w.configured).map((w) => `${w.key} ${t(w.provider)}`).join(" · "),
    });
    if (info && info.demo) el("demo-note").textContent = t(info.demo_servers ? "demo_pill" : "demo_wallet_pill");
    if (statusKey) setStatus(statusState, statusKey[0], statusKey[1]);
    renderBanner();
    render();
    refreshRecent();
  }

  document.addEventListener("keydown", (e) => {
    // The PIN dialog's keys are its own (Escape closes it, natively).
    if (el("close-dialog").open) return;
    if (e.target === el("search")) {
      if (e.key === "Escape") { el("search").value = ""; el("amount").focus(); refreshRecent(); e.preventDefault(); }
      return;
    }
    if (e.ctrlKey && /^[1-9]$/.test(e.key)) {
      const c = currencies()[Number(e.key) - 1];
      if (c) setCurrency(c);
    } else if (walletByKey(e.key) || (e.altKey && /^[1-9]$/.test(e.key) && walletByKey(`F${e.key}`))) {
      charge(walletByKey(e.key) || walletByKey(`F${e.key}`));
    } else if (e.key === "F9") {
      invoke("open_manager").catch(() => {});
    } else if (e.key === "Enter") {
      charge(null);
    } else if (e.key === "Escape") {
      cancel();
    } else if (!e.ctrlKey && !e.altKey && (/^[0-9.]$/.test(e.key) || e.key === "Backspace" || e.key === ",")) {
      key(e.key === "," ? "." : e.key);
    } else {
      return;
    }
    e.preventDefault();
  });

  document.querySelectorAll(".keypad button").forEach((b) =>
    b.addEventListener("click", () => key(b.dataset.key)));
  el("cancel").addEventListener("click", cancel);
  el("open-manager").addEventListener("click", () => invoke("open_manager").catch(() => {}));
  el("lang").addEventListener("click", () => {
    window.Till.setLang(window.Till.lang() === "bn" ? "en" : "bn");
    applyLang();
  });
  el("demo-pay").addEventListener("click", () => {
    if (current) invoke("demo_pay", { id: current.id }).catch((e) => { el("status").textContent = errorText(e); });
  });
  el("print-receipt").addEventListener("click", async () => {
    if (!current) return;
    const id = current.id;
    el("print-receipt").disabled = true;
    try {
      await invoke("print_receipt", { id });
    } catch (e) {
      el("print-state").hidden = false;
      el("print-state").textContent = t("print_failed", { why: errorText(e) });
    } finally {
      el("print-receipt").disabled = false;
    }
    // The record is the engine's: read the payment again.
    invoke("payment", { id }).then((p) => { if (current && current.id === id) { current = p; showPrint(p); } }).catch(() => {});
  });
  el("search").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(refreshRecent, 150);
  });

  listen("till://payment", (e) => {
    const p = e.payload;
    if (charging) early.set(p.id, p);
    if (current && p.id === current.id) {
      current = p;
      showPayment(p);
    } else if (p.origin && isOpen(p) && !(current && isOpen(current))) {
      // The POS started a charge: it is the cashier's current one (Esc cancels it),
      // its amount and wallet shown as if keyed.
      current = p;
      value = p.amount;
      if (CURRENCIES[p.currency]) currency = p.currency;
      lastWallet = p.provider;
      showPayment(p);
    } else if (p.flag && /^paid_after_/.test(p.flag) && !(current && isOpen(current))) {
      // A customer paid a code the till had given up: say so now, not at day close.
      current = p;
      showPayment(p);
    }
    scheduleRecent();
  });
  listen("till://status", (e) => {
    status = e.payload;
    renderBanner();
    render();
  });
  // The shell decides which sound and that it plays once (src-tauri/src/sound.rs);
  // the window plays it. Each one heard is written down for the tests (not by ear):
  // data-sounds lists the last 20 "cue:payment" in order.
  //
  // The players are made once the window is ready, not as the script loads: the first media
  // element starts WebKit's GStreamer (in a new home, a scan of every plugin), and it held the
  // window's first request to the shell back by ~200 ms (issue 17's cold start).
  const SOUND_FILES = { paid: "sounds/paid.wav", declined: "sounds/declined.wav" };
  let sounds = null;
  function loadSounds() {
    if (sounds) return sounds;
    sounds = {};
    for (const [cue, file] of Object.entries(SOUND_FILES)) {
      sounds[cue] = new Audio(file);
      sounds[cue].preload = "auto";
    }
    return sounds;
  }
  listen("till://sound", (e) => {
    const { cue, volume, payment_id: id } = e.payload;
    const a = loadSounds()[cue];
    if (!a) return;
    const heard = document.body.dataset.sounds ? document.body.dataset.sounds.split(" ") : [];
    document.body.dataset.sounds = [...heard, `${cue}:${id}`].slice(-20).join(" ");
    a.volume = Math.max(0, Math.min(1, volume));
    a.currentTime = 0;
    // A PC without a sound device refuses to play; the payment is not the worse for it.
    a.play().catch(() => {});
  });
  listen("till://notice", (e) => {
    el("status").textContent = String(e.payload);
    el("status").dataset.state = "failed";
  });

  // At a kiosk the shell refuses to close this window and asks here for the manager PIN.
  listen("till://close-requested", () => {
    const d = el("close-dialog");
    if (d.open) return;
    el("close-pin").value = "";
    el("close-error").textContent = "";
    d.showModal();
    el("close-pin").focus();
  });
  el("close-keep").addEventListener("click", () => el("close-dialog").close());
  el("close-dialog").addEventListener("close", () => el("amount").focus());
  el("close-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    el("close-confirm").disabled = true;
    try {
      await invoke("close_till", { pin: el("close-pin").value });
    } catch (err) {
      el("close-error").textContent = errorText(err);
      el("close-pin").value = "";
      el("close-pin").focus();
    } finally {
      el("close-confirm").disabled = false;
    }
  });

  async function start() {
    // User Timing marks (`till:*`): the benchmark reads where a cold start's time goes.
    performance.mark("till:start");
    window.Till.setLang(window.Till.lang());
    // The engine opens while this page loads; the first answer waits for it. Should that
    // take a while (a keyring to unlock), say so rather than show an empty screen.
    const opening = setTimeout(() => setStatus("working", "opening_till"), 1000);
    try {
      status = await invoke("terminal_status");
    } catch (_) { /* shown by the banner once it arrives */ }
    clearTimeout(opening);
    performance.mark("till:status");
    try {
      info = await invoke("terminal_info");
      performance.mark("till:info");
      el("shop-name").textContent = window.Till.lang() === "bn" && info.shop_name_bn ? info.shop_name_bn : info.shop_name;
      el("demo-note").hidden = !info.demo;
      buildWallets();
      renderCurrencies();
      currency = info.default_currency;
      if (!currencies().includes(currency)) currency = currencies()[0] || "BDT";
    } catch (e) {
      status = status || { providers: [], sync: null };
      status.error = status.error || errorText(e);
    }
    setStatus("idle", "ready");
    applyLang();
    el("amount").focus();
    // For the benchmark and tests: when the window became usable.
    document.body.dataset.readyAt = String(Date.now());
    performance.mark("till:ready");
    // After the first frame with the window usable (see loadSounds).
    setTimeout(loadSounds, 500);
  }
  start();
  // Keep "sync behind" honest even when no event arrives.
  setInterval(async () => {
    try {
      status = await invoke("terminal_status");
      renderBanner();
    } catch (_) { /* engine down: banner already says so */ }
  }, 15000);
})();
