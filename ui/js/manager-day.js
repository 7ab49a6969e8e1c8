// Manager › Day close: X-report → resolve each disagreement → close (Z-report) → CSV / PDF.
"use strict";

window.TillManagerDay = (() => {
  let report = null; // the last X- or Z-report shown
  let ui = null;


  function side(label, v) {
    if (!v) return null;
    const amount = v.amount ? ` ${v.amount.display}` : "";
    return ui.h("div", { class: "side" }, ui.h("b", { text: `${label}: ` }), `${v.state}${amount}${v.detail ? ` — ${v.detail}` : ""}`);
  }

  function disagreementRow(d, status) {
    const { h, t } = ui;
    const st = status.find((s) => s.id === d.id) || {};
    const last = st.last_resolution;
    const closed = report.kind === "z";
    const note = h("input", { class: "ack-note", placeholder: t("d_note_ph"), "data-for": d.id });
    const buttons = closed ? [] : d.actions.map((a) => {
      if (a === "refund") {
        return d.references.payment_id
          ? h("button", { type: "button", text: t("m_refund"), onclick: () => ui.showPayment(d.references.payment_id) })
          : null;
      }
      const label = { recheck: t("m_recheck"), resync: t("m_send_now"), acknowledge: t("d_ack") }[a] || a;
      return h("button", { type: "button", class: `act-${a}`, "data-action": a, text: label, onclick: () => resolve(d, a, note.value) });
    });
    return h("li", { class: `disagreement${st.acknowledged ? " acknowledged" : ""}`, "data-id": d.id, "data-kind": d.kind },
      h("div", { class: "d-head" },
        h("span", { class: "d-kind", text: t(`k_${d.kind}`) }),
        h("span", { class: "mono", text: d.references.invoice || d.references.provider_refs.transaction || d.references.provider_refs.lookup || "" }),
        st.acknowledged ? h("span", { class: "d-ok", text: t("d_acknowledged") }) : null),
      h("p", { class: "d-why", text: d.explanation }),
      side(t("d_here"), d.local), side(t("d_provider"), d.provider_view), side(t("d_office"), d.hub),
      last ? h("p", { class: "d-last", text: `${last.action} by ${last.by}: ${last.outcome || last.note || ""}` }) : null,
      closed || !d.actions.includes("acknowledge") ? null : note,
      h("div", { class: "actions" }, ...buttons));
  }

  async function resolve(d, action, note) {
    try {
      const r = await ui.call("manager_resolve", { day: report.day, id: d.id, action, note: note || null });
      ui.flash(`${action}: ${r.outcome || r.note || "recorded"}`);
      await runX();
    } catch (e) {
      ui.flash(window.Till.errorText(e), "error");
    }
  }

  function render() {
    const { h, el } = ui;
    const r = report;
    const s = r.summary;
    const rec = r.reconciliation;
    const closed = r.kind === "z";
    const totals = s.totals.map((c) => h("tr", { "data-currency": c.currency },
      h("td", { text: c.currency }), h("td", { class: "num", text: c.settled.display }),
      h("td", { class: "num", text: c.refunded.display }), h("td", { class: "num big-num", text: c.net.display })));
    const provs = rec.providers.map((p) => h("tr", {},
      h("td", { text: ui.t(p.provider) }), h("td", { text: p.status.replace(/_/g, " ") }),
      h("td", { text: ui.t("d_agree", { a: p.agreed, c: p.checked }) }), h("td", { text: p.message || "" })));
    const hub = rec.hub;
    const list = rec.disagreements.map((d) => disagreementRow(d, r.status));
    el("tab-day").replaceChildren(...[
      h("div", { class: "today-head" },
        h("h1", { id: "report-title", "data-kind": r.kind, text: `${closed ? ui.t("d_z_title") : ui.t("d_x_title")} · ${r.day} · ${r.shop_name} · ${r.terminal_id}` }),
        h("div", { class: "actions" },
          h("button", { type: "button", id: "run-x", text: ui.t("d_run_x"), onclick: runX }),
          h("button", { type: "button", id: "export-csv", text: ui.t("d_csv"), onclick: () => exportAs("csv") }),
          h("button", { type: "button", id: "export-pdf", text: ui.t("d_pdf"), onclick: () => exportAs("pdf") }))),
      closed ? h("p", { class: "note", id: "closed-note", text: ui.t("d_closed_note", { by: r.closed_by, at: new Date(r.closed_at).toLocaleString(), sha: r.sha256.slice(0, 16) }) }) : null,
      h("table", { class: "grid", id: "report-totals" },
        h("thead", {}, h("tr", {}, ...["", ui.t("m_taken"), ui.t("m_refunded"), ui.t("m_net")].map((x) => h("th", { text: x })))),
        h("tbody", {}, ...totals)),
      h("h2", { text: ui.t("d_providers") }),
      h("table", { class: "grid" }, h("tbody", {}, ...provs)),
      h("h2", { text: ui.t("d_office_hub") }),
      h("p", { id: "hub-line", text: ui.t("d_hub_line", { status: hub.status.replace(/_/g, " "), ack: hub.acknowledged, waiting: hub.unacknowledged }) +
        (hub.totals_match === null ? "" : hub.totals_match ? ui.t("d_totals_match") : ui.t("d_totals_differ")) + (hub.message ? ` · ${hub.message}` : "") }),
      h("h2", { text: ui.t("d_disagreements", { n: rec.disagreements.length, open: r.unresolved.length }) }),
      list.length ? h("ul", { class: "disagreements", id: "disagreements" }, ...list) : h("p", { class: "ok-line", id: "no-disagreements", text: ui.t("d_all_agree") }),
      r.resolutions.length ? h("details", {}, h("summary", { text: ui.t("d_resolutions", { n: r.resolutions.length }) }),
        h("ul", {}, ...r.resolutions.map((x) => h("li", { text: `${new Date(x.at).toLocaleTimeString()} ${x.by} ${x.action} ${x.disagreement_id}: ${x.outcome || x.note || ""}` })))) : null,
      closed ? null : h("div", { class: "actions close-row" },
        h("button", { type: "button", id: "close-day", class: "primary", disabled: r.unresolved.length > 0,
          text: r.unresolved.length ? ui.t("d_close_blocked", { n: r.unresolved.length }) : ui.t("d_close"), onclick: closeDay })),
      h("p", { id: "export-path", class: "mono" }),
    ].filter(Boolean));
  }

  async function runX() {
    const day = ui.day();
    report = await ui.call("manager_x_report", { day });
    render();
  }

  async function closeDay() {
    try {
      const z = await ui.call("manager_close_day", { day: report.day });
      report = Object.assign({}, z.report, { closed_by: z.closed_by, closed_at: z.closed_at, sha256: z.sha256 });
      render();
      ui.flash(ui.t("d_closed_flash", { day: report.day }));
    } catch (e) {
      ui.flash(window.Till.errorText(e), "error");
    }
  }

  async function exportAs(format) {
    try {
      const path = await ui.call("manager_export", { day: report.day, format });
      ui.el("export-path").textContent = path;
      ui.flash(ui.t("d_saved", { path }));
    } catch (e) {
      ui.flash(window.Till.errorText(e), "error");
    }
  }

  // Opens on the stored Z-report when the day is closed, else runs an X-report.
  async function open(context) {
    ui = context;
    const z = await ui.call("manager_z_report", { day: ui.day() });
    if (z) {
      report = Object.assign({}, z.report, { closed_by: z.closed_by, closed_at: z.closed_at, sha256: z.sha256 });
      render();
    } else {
      await runX();
    }
  }

  return { render: open };
})();
