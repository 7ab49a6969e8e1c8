// Manager window: PIN, today's reconciliation, payments and refunds, day close, sync,
// settings (credentials are write-only), audit log.
"use strict";

(() => {
  const { invoke, listen, t, el, h, errorText } = window.Till;
  const STATES = ["created", "awaiting_customer", "authorized", "settled", "failed", "cancelled", "expired",
    "flagged", "refund_pending", "partially_refunded", "refunded"];
  let tab = "today";
  // The PIN screen: `pinState` from manager_pin_state; `pending` is a PIN being chosen:
  // {kind: "first" | "reset" | "change", first (typed once), code (reset), old (change)}.
  let pinState = { state: "set" };
  let pending = null;
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

  // A PIN error in the window's language (the commands give a code; English as fallback).
  function pinErrorText(e) {
    if (e && e.code) return t(`e_${e.code}`, { left: e.left, seconds: e.seconds });
    return errorText(e);
  }

  async function call(cmd, args) {
    try {
      return await invoke(cmd, args);
    } catch (e) {
      // The session locks itself (idle, or its absolute limit): back to the PIN.
      const s = await invoke("manager_pin_state").catch(() => null);
      if (s && (!s.unlocked || s.must_change)) showPin(t("m_session_ended"));
      throw e;
    }
  }

  // ---------------------------------------------------------------- PIN
  async function showPin(note) {
    const s = await invoke("manager_pin_state");
    pinState = s;
    if (s.unlocked && !s.must_change && !pending) return showArea();
    if (s.state === "not_set" && !(pending && pending.kind === "first")) pending = { kind: "first" };
    if (s.state === "needs_recovery" && !(pending && pending.kind === "reset")) pending = { kind: "reset" };
    if (s.state === "set" && pending && pending.kind === "first") pending = null;
    if (!note && s.locked_for_s > 0) note = t("e_pin_locked", { seconds: s.locked_for_s });
    renderPin(note);
  }

  function renderPin(note) {
    document.body.dataset.view = "pin";
    el("pin").hidden = false;
    el("recovery-show").hidden = true;
    el("area").hidden = true;
    el("lock").hidden = true;
    const p = pending;
    const askCode = !!(p && p.kind === "reset" && p.code === undefined);
    let title;
    if (askCode) title = pinState.damage ? t(`m_pin_${pinState.damage}`) : t("m_recovery_enter");
    else if (p && p.first === undefined) title = p.kind === "change" ? t("m_pin_must_change") : t("m_pin_new");
    else if (p) title = t("m_pin_again");
    else title = t("m_pin_enter");
    el("pin-title").textContent = title;
    el("pin-input").hidden = askCode;
    el("pinpad").hidden = askCode;
    el("recovery-input").hidden = !askCode;
    el("recovery-ok").hidden = !askCode;
    el("pin-forgot").hidden = !(pinState.state === "set" && !p);
    el("pin-back").hidden = !(pinState.state === "set" && p && p.kind === "reset");
    el("pin-error").textContent = note || "";
    el("pin-input").value = "";
    el(askCode ? "recovery-input" : "pin-input").focus();
  }

  async function submitPin() {
    const value = el("pin-input").value;
    el("pin-input").value = "";
    const p = pending;
    try {
      if (!p) return afterPin(await invoke("manager_unlock", { pin: value }), value);
      if (p.first === undefined) {
        if (!/^[0-9]{6}$/.test(value)) return renderPin(t("e_pin_shape"));
        p.first = value;
        return renderPin();
      }
      if (value !== p.first) {
        p.first = undefined;
        return renderPin(t("m_pin_mismatch"));
      }
      let r;
      if (p.kind === "first") r = await invoke("manager_set_pin", { pin: value });
      else if (p.kind === "reset") r = await invoke("manager_reset_pin", { code: p.code, pin: value });
      else r = await invoke("manager_change_pin", { old: p.old, new: value });
      pending = null;
      return afterPin(r);
    } catch (e) {
      // A wrong recovery code asks for the code again; a refused new PIN, for the PIN.
      if (p && p.kind === "reset") pending = { kind: "reset" };
      else if (p) p.first = undefined;
      if (e && e.code === "pin_already_set") pending = null;
      if (e && e.code === "pin_needs_recovery") pending = { kind: "reset" };
      await showPin(pinErrorText(e)).catch(() => renderPin(pinErrorText(e)));
    }
  }

  // After a right PIN: a recovery code to show once, a short PIN to replace, or the area.
  function afterPin(r, typed) {
    if (r.must_change) pending = { kind: "change", old: typed };
    if (r.recovery_code) return showRecoveryCode(r.recovery_code);
    if (pending) return renderPin();
    return showArea();
  }

  function showRecoveryCode(code) {
    document.body.dataset.view = "recovery";
    el("pin").hidden = true;
    el("area").hidden = true;
    el("recovery-show").hidden = false;
    el("recovery-code").textContent = code;
    el("recovery-done").focus();
  }

  function recoveryWritten() {
    el("recovery-code").textContent = "";
    el("recovery-show").hidden = true;
    if (pending) return renderPin();
    return showArea();
  }

  function submitRecoveryCode() {
    const code = el("recovery-input").value.trim();
    if (!code) return;
    el("recovery-input").value = "";
    pending = { kind: "reset", code };
    renderPin();
  }

  function showArea() {
    document.body.dataset.view = "area";
    el("pin").hidden = true;
    el("recovery-show").hidden = true;
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
    ({ today: loadToday, payments: loadPayments, day: loadDay, sync: loadSync, settings: loadSettings, pos: loadPos, audit: loadAudit }[name])()
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
        // The provider's references under its own names (trxID, MD5, …).
        kv(t("m_invoice"), p.invoice), ...p.references.map((r) => kv(r.name, r.value)),
        kv(t("m_refunded"), p.refunded_display), kv("⚠", p.flag), kv("✗", window.Till.reasonText(p.failure)),
        // The provider's own words, as it said them (often English).
        kv("…", p.failure_reason),
        kv(t("m_time"), `${p.business_day} ${p.time}`)),
      d.refunds.length ? h("table", { class: "grid" }, ...d.refunds.map((r) => h("tr", {},
        h("td", { text: r.time }), h("td", { class: "num", text: r.amount_display }),
        h("td", { text: r.state }), h("td", { text: r.failure_reason || r.reason || "" })))) : null,
      refundable ? h("form", { class: "refund", id: "refund-form", onsubmit: (e) => { e.preventDefault(); refund(p); } },
        h("label", {}, h("span", { text: t("m_refund_amount") }),
          h("input", { id: "refund-amount", inputmode: "decimal", placeholder: p.refundable_display })),
        h("label", {}, h("span", { text: t("m_refund_reason") }), h("input", { id: "refund-reason" })),
        // A wallet Till cannot refund through: the manager refunds where the
        // wallet allows it (its merchant portal) and records it here.
        p.refunds_by_api ? null : h("p", { class: "hint", id: "refund-elsewhere-note", text: t("m_refund_elsewhere_note", { wallet: t(p.provider) }) }),
        p.refunds_by_api ? null : h("label", {}, h("span", { text: t("m_refund_reference") }),
          h("input", { id: "refund-reference", required: true })),
        h("button", { type: "submit", class: "danger", id: "refund-submit",
          text: `${t(p.refunds_by_api ? "m_refund" : "m_refund_record")} (${p.refundable_display})` })) : null,
      h("div", { class: "actions" }, h("button", { type: "button", id: "recheck", text: t("m_recheck"), onclick: () => recheck(p.id) })),
    ].filter(Boolean));
  }

  async function refund(p) {
    const amount = el("refund-amount").value.trim() || null;
    const reason = el("refund-reason").value.trim() || null;
    const ref = el("refund-reference");
    const elsewhere = ref ? ref.value.trim() || null : null;
    el("refund-submit").disabled = true;
    try {
      const d = await call("manager_refund", { id: p.id, amount, reason, elsewhere });
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
    const value = (key) => (v.settings.find((s) => s.key === key) || {}).value;
    // One card per thing Till connects to: its environment, its credentials (write-only),
    // and Test connection. A credential belongs to the card its name starts with.
    el("secrets").replaceChildren(...CONNECT.map((c) => h("section", { class: "connect-card", "data-connect": c.target },
      h("h3", { text: t(`conn_${c.target}`) }),
      c.env ? h("label", {},
        h("span", { text: t("conn_environment") }),
        h("select", { "data-env": c.env, onchange: (e) => setEnvironment(c.env, e.target.value) },
          ...c.presets.map((p) => h("option", { value: p, text: t(`env_${p}`), selected: value(c.env) === p })))) : null,
      c.env ? null : ((url) => h("p", { class: url ? "conn-url" : "note", text: url || t("m_sync_off") }))((v.demo && v.demo.hub_url) || value("hub.url")),
      ...v.secrets.filter((s) => s.name.startsWith(`${c.target}.`)).map((s) => h("label", { class: "secret" },
        h("span", { text: s.name }),
        s.multiline
          ? h("textarea", { "data-secret": s.name, placeholder: `${s.state} — -----BEGIN …-----`, autocomplete: "off", spellcheck: "false", rows: 3 })
          : h("input", { type: "password", "data-secret": s.name, placeholder: s.state, autocomplete: "off" }),
        h("button", { type: "button", text: t("m_store"), onclick: (e) => storeSecret(s.name, e.target.previousSibling) }))),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "primary", "data-test": c.target, text: t("conn_test"), onclick: (e) => testConnection(c.target, e.target) })),
      h("p", { class: "conn-result", id: `conn-result-${c.target}`, role: "status", hidden: true }))));
  }

  // What the Connect section offers (configuration: the presets each one knows).
  const CONNECT = [
    { target: "bkash", env: "bkash.environment", presets: ["sandbox", "production", "custom"] },
    { target: "bakong", env: "bakong.environment", presets: ["sit", "production", "custom"] },
    { target: "nagad", env: "nagad.environment", presets: ["sandbox", "production", "custom"] },
    { target: "hub" },
  ];

  // A preset sets the URLs itself: the custom ones are removed from till.toml with it.
  async function setEnvironment(key, preset) {
    const section = key.split(".")[0];
    const changes = [{ key, value: preset }];
    if (preset !== "custom") {
      for (const k of [`${section}.base_url`, `${section}.checkout_origin`]) {
        if (el("settings-form").querySelector(`input[name="${k}"]`)) changes.push({ key: k, value: "" });
      }
    }
    await writeSettings(changes);
  }

  async function testConnection(target, button) {
    const out = el(`conn-result-${target}`);
    button.disabled = true;
    out.hidden = false;
    out.className = "conn-result";
    out.dataset.ok = "";
    out.textContent = t("conn_testing");
    try {
      const r = await call("manager_test_connection", { target });
      out.className = `conn-result ${r.ok ? (r.clock_skew_s ? "warn" : "ok") : "bad"}`;
      out.dataset.ok = String(r.ok);
      out.dataset.code = r.ok ? r.proof.code : r.problem.code;
      out.replaceChildren(...connectionWords(r).map((line, i) => h("div", { class: i ? "conn-more" : "conn-verdict", text: line })));
    } catch (e) {
      out.className = "conn-result bad";
      out.dataset.ok = "false";
      out.textContent = errorText(e);
    } finally {
      button.disabled = false;
    }
  }

  // A report in the reader's language: the verdict, then what to fix, then the details.
  function connectionWords(r) {
    const who = t(`conn_${r.target}`);
    const vars = Object.assign({ who, origin: r.origin || "", ms: r.elapsed_ms }, r.proof || {}, r.problem || {});
    if (r.problem && r.problem.code === "clock_skew") Object.assign(vars, skewVars(r.problem.seconds));
    const lines = [];
    if (r.ok) {
      lines.push(t("conn_ok", vars));
      lines.push(t(`proof_${r.proof.code}`, vars));
    } else {
      lines.push(t(r.origin ? "conn_failed_at" : "conn_failed", vars));
      lines.push(t(`problem_${r.problem.code}`, vars));
    }
    if (r.clock_skew_s && !(r.problem && r.problem.code === "clock_skew")) {
      lines.push(t("problem_clock_skew", skewVars(r.clock_skew_s)));
    }
    if (!r.ok && r.detail) lines.push(r.detail);
    return lines;
  }

  function skewVars(seconds) {
    const abs = Math.abs(seconds);
    return {
      amount: abs >= 120 ? t("conn_minutes", { n: Math.round(abs / 60) }) : t("conn_seconds", { n: abs }),
      side: t(seconds > 0 ? "conn_behind" : "conn_ahead"),
    };
  }

  // Writes `changes` to till.toml (Till restarts with them) and shows the screen anew.
  async function writeSettings(changes) {
    try {
      const changed = await call("manager_save_settings", { changes });
      flash(`${t("m_saved")}: ${changed.join(", ")}`);
      await loadSettings();
    } catch (e) {
      flash(errorText(e), "error");
    }
  }

  async function saveSettings() {
    const changes = [...el("settings-form").querySelectorAll("input")]
      .filter((i) => i.value !== i.dataset.initial)
      .map((i) => ({ key: i.name, value: i.value }));
    if (changes.length === 0) return flash(t("m_nothing_changed"));
    await writeSettings(changes);
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
    const next = el("pin-new").value;
    if (!/^[0-9]{6}$/.test(next)) return flash(t("e_pin_shape"), "error");
    try {
      const r = await call("manager_change_pin", { old: el("pin-old").value, new: next });
      el("pin-old").value = "";
      el("pin-new").value = "";
      flash(t("m_pin_changed"));
      if (r && r.recovery_code) showRecoveryCode(r.recovery_code);
    } catch (e) {
      flash(pinErrorText(e), "error");
    }
  }

  // ---------------------------------------------------------------- POS (local API)
  async function loadPos() {
    const v = await call("manager_pos");
    // A new key is shown once: gone when the tab is drawn again.
    el("pos-token-note").hidden = true;
    el("pos-token").hidden = true;
    el("pos-token").textContent = "";
    el("pos-state").textContent = v.enabled ? t("m_pos_on", { listen: v.listen }) : t("m_pos_off");
    const when = (at) => (at ? new Date(at).toLocaleString() : "");
    // Drawn again only when what they show changed: a payment event reloads this tab, and a
    // list replaced under the manager's pointer loses the click (the button it was on is gone).
    const unchanged = (node, data) => {
      const drawn = JSON.stringify([window.Till.lang(), data]);
      if (node.dataset.drawn === drawn) return true;
      node.dataset.drawn = drawn;
      return false;
    };
    if (!unchanged(el("pos-keys"), v.keys)) el("pos-keys").replaceChildren(
      h("thead", {}, h("tr", {}, ...["m_pos_name", "m_target", "m_when", ""].map((k) => h("th", { text: k ? t(k) : "" })))),
      h("tbody", {}, ...(v.keys.length ? v.keys.map((k) => h("tr", { "data-id": k.id, class: k.revoked_at ? "revoked" : "" },
        h("td", { text: k.name }), h("td", { class: "mono", text: `${k.id} …${k.hint}` }),
        h("td", { text: k.revoked_at ? `${t("m_pos_revoked")} ${when(k.revoked_at)}` : (k.last_used_at ? when(k.last_used_at) : t("m_pos_never")) }),
        h("td", {}, k.revoked_at ? null : h("button", { type: "button", text: t("m_pos_revoke"), onclick: () => posRevoke(k) }))))
        : [h("tr", {}, h("td", { colspan: 4, text: t("m_pos_none") }))])));
    if (!unchanged(el("pos-requests"), v.requests)) el("pos-requests").replaceChildren(
      h("thead", {}, h("tr", {}, ...["m_when", "m_pos_name", "m_amount", "m_target", "m_detail_col", ""].map((k) => h("th", { text: k ? t(k) : "" })))),
      h("tbody", {}, ...(v.requests.length ? v.requests.map((r) => h("tr", { "data-id": r.id, "data-state": r.state },
        h("td", { text: r.time }), h("td", { text: r.pos_name }), h("td", { text: r.amount_display }),
        h("td", { class: "mono", text: r.payment_id }), h("td", { text: r.reason || "" }),
        h("td", {}, r.state !== "pending" ? t(`rr_${r.state}`) : h("span", {},
          h("button", { type: "button", class: "primary pos-approve", text: t("m_pos_approve"), onclick: () => posDecide("manager_pos_approve", r) }),
          h("button", { type: "button", class: "pos-decline", text: t("m_pos_decline"), onclick: () => posDecide("manager_pos_decline", r) })))))
        : [h("tr", {}, h("td", { colspan: 6, text: t("m_pos_none") }))])));
  }

  async function posPair() {
    const name = el("pos-name").value.trim();
    try {
      const made = await call("manager_pos_pair", { name });
      el("pos-name").value = "";
      await loadPos();
      // The key exists only here now: shown once, never again.
      el("pos-token-note").textContent = t("m_pos_token", { name: made.key.name });
      el("pos-token").textContent = made.token;
      el("pos-token-note").hidden = false;
      el("pos-token").hidden = false;
    } catch (e) {
      flash(errorText(e), "error");
    }
  }

  async function posRevoke(k) {
    try {
      await call("manager_pos_revoke", { id: k.id });
      await loadPos();
    } catch (e) {
      flash(errorText(e), "error");
    }
  }

  async function posDecide(cmd, r) {
    try {
      await call(cmd, { id: r.id });
      await loadPos();
    } catch (e) {
      flash(errorText(e), "error");
      await loadPos().catch(() => {});
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
  el("recovery-ok").addEventListener("click", submitRecoveryCode);
  el("recovery-input").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); submitRecoveryCode(); } });
  el("recovery-done").addEventListener("click", recoveryWritten);
  el("pin-forgot").addEventListener("click", () => { pending = { kind: "reset" }; renderPin(); });
  el("pin-back").addEventListener("click", () => { pending = null; renderPin(); });
  el("pin-input").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); submitPin(); } });
  el("lock").addEventListener("click", async () => { await invoke("manager_lock"); pending = null; showPin(); });
  el("lang").addEventListener("click", () => {
    window.Till.setLang(window.Till.lang() === "bn" ? "en" : "bn");
    applyLang();
    if (!el("area").hidden) openTab(tab);
    else if (el("recovery-show").hidden) renderPin();
  });
  document.querySelectorAll(".tabs button").forEach((b) => b.addEventListener("click", () => openTab(b.dataset.tab)));
  el("today-day").addEventListener("change", () => loadToday().catch((e) => flash(errorText(e), "error")));
  for (const id of ["pay-day", "pay-provider", "pay-state"]) el(id).addEventListener("change", () => loadPayments().catch(() => {}));
  let searchTimer = null;
  el("pay-search").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(() => loadPayments().catch(() => {}), 200); });
  el("sync-now").addEventListener("click", () => sync(false));
  el("sync-replay").addEventListener("click", () => sync(true));
  el("settings-save").addEventListener("click", saveSettings);
  el("test-print").addEventListener("click", async () => {
    const out = el("test-print-result");
    el("test-print").disabled = true;
    out.textContent = t("conn_testing");
    try {
      await call("manager_test_print");
      out.textContent = t("print_done");
    } catch (e) {
      out.textContent = t("print_failed", { why: errorText(e) });
    } finally {
      el("test-print").disabled = false;
    }
  });
  el("pin-change").addEventListener("click", changePin);
  el("pos-pair").addEventListener("click", posPair);

  let refreshTimer = null;
  listen("till://payment", () => {
    if (el("area").hidden) return;
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      if (tab === "today" || tab === "payments" || tab === "sync" || tab === "pos") openTab(tab);
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
