// Manager window: PIN, today's reconciliation, payments and refunds, day close, sync,
// settings (credentials are write-only), audit log.
"use strict";

(() => {
  const { invoke, listen, t, el, h, errorText } = window.Till;
  const STATES = ["created", "awaiting_customer", "authorized", "settled", "failed", "cancelled", "expired",
    "flagged", "refund_pending", "partially_refunded", "refunded"];
  let tab = "today";
  let pinSet = false;
  let firstPin = null; // first entry while choosing a PIN
  let selected = null; // payment id in the detail pane
  let info = null;

  function flash(message, kind) {
    const f = el("flash");
    f.textContent = message;
    f.dataset.kind = kind || "ok";
    f.hidden = false;
    clearTimeout(flash.timer);
    flash.timer = setTimeout(() => { f.hidden = true; }, 8000);
  }

  async function call(cmd, args) {
    try {
      return await invoke(cmd, args);
    } catch (e) {
      const msg = errorText(e);
      if (/locked/i.test(msg) && /PIN/.test(msg)) showPin();
      throw e;
    }
  }

  // ---------------------------------------------------------------- PIN
  async function showPin() {
    const s = await invoke("manager_pin_state");
    pinSet = s.set;
    if (s.unlocked) return showArea();
    document.body.dataset.view = "pin";
    el("pin").hidden = false;
    el("area").hidden = true;
    el("lock").hidden = true;
    el("pin-title").textContent = pinSet ? t("m_pin_enter") : (firstPin ? t("m_pin_again") : t("m_pin_new"));
    el("pin-input").value = "";
    el("pin-input").focus();
  }

  async function submitPin() {
    const pin = el("pin-input").value;
    el("pin-error").textContent = "";
    try {
      if (pinSet) {
        await invoke("manager_unlock", { pin });
      } else if (firstPin === null) {
        if (!/^[0-9]{4,8}$/.test(pin)) throw new Error("The PIN must be 4 to 8 digits.");
        firstPin = pin;
        return showPin();
      } else {
        if (pin !== firstPin) {
          firstPin = null;
          el("pin-error").textContent = t("m_pin_mismatch");
          return showPin();
        }
        firstPin = null;
        await invoke("manager_set_pin", { pin });
      }
      showArea();
    } catch (e) {
      el("pin-input").value = "";
      el("pin-error").textContent = errorText(e);
    }
  }

  function showArea() {
    document.body.dataset.view = "area";
    el("pin").hidden = true;
    el("area").hidden = false;
    el("lock").hidden = false;
    openTab("today"); // the manager area opens with today
  }

  // ---------------------------------------------------------------- tabs
  function openTab(name) {
    tab = name;
    document.querySelectorAll(".tabs button").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === name)));
    document.querySelectorAll(".tab").forEach((d) => { d.hidden = d.id !== `tab-${name}`; });
    document.body.dataset.tab = name;
    ({ today: loadToday, payments: loadPayments, day: loadDay, sync: loadSync, settings: loadSettings, audit: loadAudit }[name])()
      .catch((e) => flash(errorText(e), "error"));
  }

  // ---------------------------------------------------------------- today
  async function loadToday() {
    const day = el("today-day").value || null;
    const s = await call("manager_today", { day });
    if (!el("today-day").value) el("today-day").value = s.day;
    window.TillManagerToday.render(s, { t, el, h, call, flash, reload: loadToday, showPayment });
  }

  // ---------------------------------------------------------------- payments
  async function loadPayments() {
    const list = await call("manager_payments", {
      day: el("pay-day").value || null,
      provider: el("pay-provider").value || null,
      state: el("pay-state").value || null,
      search: el("pay-search").value || null,
    });
    const table = el("pay-list");
    table.replaceChildren(
      h("thead", {}, h("tr", {}, ...["m_time", "m_wallet", "m_amount", "m_state", "m_ref", "m_invoice"].map((k) => h("th", { text: t(k) })))),
      h("tbody", {}, ...list.map((p) => h("tr", {
        class: `state-${p.state}${p.id === selected ? " sel" : ""}`, "data-id": p.id, "data-state": p.state,
        onclick: () => showPayment(p.id),
      },
      h("td", { text: p.time }),
      h("td", { text: t(p.provider) }),
      h("td", { class: "num", text: p.amount_display }),
      h("td", { text: t(`st_${p.state}`) }),
      h("td", { text: p.reference || "" }),
      h("td", { class: "mono", text: p.invoice })))));
    if (selected) showPayment(selected);
  }

  async function showPayment(id) {
    if (tab !== "payments") {
      selected = id;
      return openTab("payments");
    }
    selected = id;
    document.querySelectorAll("#pay-list tr[data-id]").forEach((r) => r.classList.toggle("sel", r.dataset.id === id));
    const d = await call("manager_payment", { id });
    const p = d.payment;
    const box = el("pay-detail");
    box.hidden = false;
    const kv = (k, v) => (v ? h("tr", {}, h("th", { text: k }), h("td", { text: v })) : null);
    const refundable = Number(p.refundable) > 0;
    box.replaceChildren(...[
      h("h2", { text: `${t(p.provider)} · ${p.amount_display}` }),
      h("p", { class: `state-pill state-${p.state}`, id: "detail-state", "data-state": p.state, text: t(`st_${p.state}`) }),
      h("table", { class: "grid kv" },
        kv(t("m_invoice"), p.invoice), kv("trxID", p.trx_id), kv("paymentID", p.payment_id), kv("MD5", p.md5),
        kv("hash", p.hash), kv(t("m_refunded"), p.refunded_display), kv("⚠", p.flag), kv("✗", p.failure_reason),
        kv(t("m_time"), `${p.business_day} ${p.time}`)),
      d.refunds.length ? h("table", { class: "grid" }, ...d.refunds.map((r) => h("tr", {},
        h("td", { text: r.time }), h("td", { class: "num", text: r.amount_display }),
        h("td", { text: r.state }), h("td", { text: r.failure_reason || r.reason || "" })))) : null,
      refundable ? h("form", { class: "refund", id: "refund-form", onsubmit: (e) => { e.preventDefault(); refund(p); } },
        h("label", {}, h("span", { text: t("m_refund_amount") }),
          h("input", { id: "refund-amount", inputmode: "decimal", placeholder: p.refundable_display })),
        h("label", {}, h("span", { text: t("m_refund_reason") }), h("input", { id: "refund-reason" })),
        h("button", { type: "submit", class: "danger", id: "refund-submit", text: `${t("m_refund")} (${p.refundable_display})` })) : null,
      h("div", { class: "actions" }, h("button", { type: "button", id: "recheck", text: t("m_recheck"), onclick: () => recheck(p.id) })),
    ].filter(Boolean));
  }

  async function refund(p) {
    const amount = el("refund-amount").value.trim() || null;
    const reason = el("refund-reason").value.trim() || null;
    el("refund-submit").disabled = true;
    try {
      const d = await call("manager_refund", { id: p.id, amount, reason });
      const last = d.refunds[d.refunds.length - 1];
      flash(t("m_refund_done", { state: last ? `${last.amount_display} ${last.state}` : d.payment.state }));
      await loadPayments();
    } catch (e) {
      flash(errorText(e), "error");
      el("refund-submit").disabled = false;
    }
  }

  async function recheck(id) {
    try {
      const p = await call("manager_recheck", { id });
      flash(`${p.invoice}: ${t(`st_${p.state}`)}`);
      if (tab === "payments") await loadPayments();
      else openTab(tab);
    } catch (e) {
      flash(errorText(e), "error");
    }
  }

  // ---------------------------------------------------------------- day close
  async function loadDay() {
    return window.TillManagerDay.render({ t, el, h, call, flash, showPayment, day: () => el("today-day").value || null });
  }

  // ---------------------------------------------------------------- sync
  async function loadSync() {
    const st = await call("terminal_status");
    const s = st.sync;
    const table = el("sync-table");
    if (!s || !s.enabled) {
      table.replaceChildren(h("tr", {}, h("td", { text: t("m_sync_off") })));
      return;
    }
    const row = (k, v, id) => h("tr", {}, h("th", { text: k }), h("td", { id, text: v === null || v === undefined ? "—" : String(v) }));
    table.replaceChildren(
      row("Hub", s.url),
      row(t("m_sync_queue"), s.queue_length, "sync-queue"),
      row("Dead letters", s.dead_letters, "sync-dead"),
      row(t("m_sync_last"), s.last_acknowledged_at ? `#${s.last_acknowledged_sequence} · ${new Date(s.last_acknowledged_at).toLocaleString()}` : null),
      row(t("m_sync_error"), s.last_error),
    );
    el("sync-replay").disabled = s.dead_letters === 0;
  }

  async function sync(replayDead) {
    try {
      await call("manager_sync", { replayDead });
      await loadSync();
    } catch (e) {
      flash(errorText(e), "error");
    }
  }

  // ---------------------------------------------------------------- settings
  async function loadSettings() {
    const v = await call("manager_settings");
    const di = el("demo-info");
    di.hidden = !v.demo;
    if (v.demo) di.textContent = t("m_demo_info", { sandbox: v.demo.sandbox_url, hub: v.demo.hub_url });
    el("settings-form").replaceChildren(...v.settings.map((s) => h("label", {},
      h("span", { text: s.key }),
      h("input", { name: s.key, value: s.value, "data-initial": s.value, autocomplete: "off" }))));
    el("secrets").replaceChildren(...v.secrets.map((s) => h("label", { class: "secret" },
      h("span", { text: s.name }),
      h("input", { type: "password", "data-secret": s.name, placeholder: s.state, autocomplete: "off" }),
      h("button", { type: "button", text: t("m_store"), onclick: (e) => storeSecret(s.name, e.target.previousSibling) }))));
  }

  async function saveSettings() {
    const changes = [...el("settings-form").querySelectorAll("input")]
      .filter((i) => i.value !== i.dataset.initial)
      .map((i) => ({ key: i.name, value: i.value }));
    if (changes.length === 0) return flash(t("m_nothing_changed"));
    try {
      const changed = await call("manager_save_settings", { changes });
      flash(`${t("m_saved")}: ${changed.join(", ")}`);
      await loadSettings();
    } catch (e) {
      flash(errorText(e), "error");
    }
  }

  async function storeSecret(name, input) {
    try {
      await call("manager_set_secret", { name, value: input.value });
      input.value = "";
      flash(`${name}: ${t("m_stored")}`);
      await loadSettings();
    } catch (e) {
      flash(errorText(e), "error");
    }
  }

  async function changePin() {
    try {
      await call("manager_change_pin", { old: el("pin-old").value, new: el("pin-new").value });
      el("pin-old").value = "";
      el("pin-new").value = "";
      flash(t("m_pin_changed"));
    } catch (e) {
      flash(errorText(e), "error");
    }
  }

  // ---------------------------------------------------------------- audit
  async function loadAudit() {
    const entries = await call("manager_audit_log", { limit: 300 });
    el("audit").replaceChildren(
      h("thead", {}, h("tr", {}, ...["m_when", "m_who", "m_what", "m_target", "m_detail_col"].map((k) => h("th", { text: t(k) })))),
      h("tbody", {}, ...entries.map((a) => h("tr", {},
        h("td", { text: new Date(a.at).toLocaleString() }), h("td", { text: a.actor }), h("td", { text: a.action }),
        h("td", { class: "mono", text: a.target || "" }), h("td", { text: a.detail || "" })))));
  }

  // ---------------------------------------------------------------- wiring
  function applyLang() {
    window.Till.translateStatic();
    el("lang").textContent = t("language");
    if (info && info.demo) el("demo-note").textContent = t(info.demo_servers ? "demo_pill" : "demo_wallet_pill");
    const sel = el("pay-state");
    if (sel.options.length <= 1) for (const s of STATES) sel.append(h("option", { value: s, text: t(`st_${s}`) }));
    else [...sel.options].slice(1).forEach((o) => { o.textContent = t(`st_${o.value}`); });
  }

  document.querySelectorAll("[data-pin]").forEach((b) => b.addEventListener("click", () => {
    const i = el("pin-input");
    if (b.dataset.pin === "clear") i.value = "";
    else if (i.value.length < 8) i.value += b.dataset.pin;
    i.focus();
  }));
  el("pin-ok").addEventListener("click", submitPin);
  el("pin-input").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); submitPin(); } });
  el("lock").addEventListener("click", async () => { await invoke("manager_lock"); showPin(); });
  el("lang").addEventListener("click", () => {
    window.Till.setLang(window.Till.lang() === "bn" ? "en" : "bn");
    applyLang();
    if (!el("area").hidden) openTab(tab);
    else showPin();
  });
  document.querySelectorAll(".tabs button").forEach((b) => b.addEventListener("click", () => openTab(b.dataset.tab)));
  el("today-day").addEventListener("change", () => loadToday().catch((e) => flash(errorText(e), "error")));
  for (const id of ["pay-day", "pay-provider", "pay-state"]) el(id).addEventListener("change", () => loadPayments().catch(() => {}));
  let searchTimer = null;
  el("pay-search").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(() => loadPayments().catch(() => {}), 200); });
  el("sync-now").addEventListener("click", () => sync(false));
  el("sync-replay").addEventListener("click", () => sync(true));
  el("settings-save").addEventListener("click", saveSettings);
  el("pin-change").addEventListener("click", changePin);

  let refreshTimer = null;
  listen("till://payment", () => {
    if (el("area").hidden) return;
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      if (tab === "today" || tab === "payments" || tab === "sync") openTab(tab);
    }, 300);
  });
  listen("till://status", () => { if (!el("area").hidden && tab === "sync") loadSync().catch(() => {}); });

  window.Till.setLang(window.Till.lang());
  invoke("terminal_info").then((i) => {
    info = i;
    el("demo-note").hidden = !i.demo;
    applyLang();
  }).catch(() => applyLang());
  applyLang();
  showPin().catch((e) => { el("pin-error").textContent = errorText(e); });
})();
