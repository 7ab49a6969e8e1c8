// Manager › Today: the day's numbers from the core's DaySummary, problems first.
"use strict";

window.TillManagerToday = (() => {
  const SVG = "http://www.w3.org/2000/svg";

  function svg(tag, attrs, ...children) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const c of children) if (c) e.append(c);
    return e;
  }

  // Bars of payments per hour, in business-day order (from the cutoff hour round the clock).
  function chart(hourly, cutoff, t) {
    const startHour = Number((cutoff || "00:00").split(":")[0]) || 0;
    const order = Array.from({ length: 24 }, (_, i) => (startHour + i) % 24);
    const counts = order.map((hr) => hourly.reduce((n, c) => n + ((c.hours.find((b) => b.hour === hr) || {}).count || 0), 0));
    const max = Math.max(1, ...counts);
    const W = 960, H = 180, pad = 24, bw = (W - pad * 2) / 24;
    const g = svg("svg", { viewBox: `0 0 ${W} ${H + 30}`, role: "img", "aria-label": t("m_per_hour"), class: "chart" });
    order.forEach((hr, i) => {
      const c = counts[i];
      const bh = Math.round((c / max) * (H - 24));
      const x = pad + i * bw;
      const bar = svg("rect", { x: x + 3, y: H - bh, width: bw - 6, height: Math.max(bh, c ? 2 : 0), class: "bar", "data-hour": hr, "data-count": c });
      const title = svg("title");
      title.textContent = `${String(hr).padStart(2, "0")}:00 — ${c}`;
      bar.append(title);
      g.append(bar);
      if (c) {
        const label = svg("text", { x: x + bw / 2, y: H - bh - 4, "text-anchor": "middle", class: "bar-n" });
        label.textContent = String(c);
        g.append(label);
      }
      const hl = svg("text", { x: x + bw / 2, y: H + 20, "text-anchor": "middle", class: "bar-h" });
      hl.textContent = String(hr).padStart(2, "0");
      g.append(hl);
    });
    return g;
  }

  function render(s, ui) {
    const { t, el, h, call, flash, reload, showPayment } = ui;
    el("today-title").textContent = `${t("m_today")} · ${s.day} · ${s.timezone} · ${s.cutoff}` +
      (s.closed ? ` · ✓ ${s.closed.closed_by} ${new Date(s.closed.closed_at).toLocaleString()}` : "");

    // Problems first, each with what resolves it.
    const problems = [];
    const act = (label, fn, id) => h("button", { type: "button", id, text: label, onclick: async () => {
      try { await fn(); await reload(); } catch (e) { flash(window.Till.errorText(e), "error"); }
    } });
    for (const r of s.task_restarts || []) {
      problems.push(h("li", { class: "problem bad", "data-kind": "task", "data-task": r.task },
        h("span", { text: t("m_task_restarted", { task: t(`task_${r.task}`), n: r.restarts,
          time: new Date(r.at).toLocaleTimeString(), panic: r.last_panic }) })));
    }
    if (s.sync.unsynced > 0) {
      problems.push(h("li", { class: "problem", "data-kind": "unsynced" },
        h("span", { text: t("m_unsynced", { n: s.sync.unsynced }) }),
        act(t("m_send_now"), () => call("manager_sync", { replayDead: false }), "today-send")));
    }
    if (s.sync.dead_letters > 0) {
      problems.push(h("li", { class: "problem bad", "data-kind": "dead" },
        h("span", { text: t("m_dead", { n: s.sync.dead_letters }) }),
        act(t("m_replay"), () => call("manager_sync", { replayDead: true }), "today-replay")));
    }
    for (const p of s.flagged) {
      problems.push(h("li", { class: "problem bad", "data-kind": "flagged", "data-id": p.id },
        h("span", { text: `${t("m_flagged")}: ${p.local_time} ${t(p.provider)} ${p.amount.display} — ${p.flag || p.reason || ""}` }),
        act(t("m_recheck"), () => call("manager_recheck", { id: p.id })),
        h("button", { type: "button", text: "→", onclick: () => showPayment(p.id) })));
    }
    for (const p of s.open) {
      problems.push(h("li", { class: "problem", "data-kind": "open", "data-id": p.id },
        h("span", { text: `${t("m_open")}: ${p.local_time} ${t(p.provider)} ${p.amount.display} (${t(`st_${p.state}`)})` }),
        act(t("m_recheck"), () => call("manager_recheck", { id: p.id }))));
    }
    el("problems").replaceChildren(
      h("h2", { text: t("m_problems") }),
      problems.length ? h("ul", {}, ...problems) : h("p", { class: "ok-line", text: `✓ ${t("m_no_problems")}` }));

    // Big numbers: per currency, then per wallet.
    const card = (title, w, cls) => h("div", { class: `card ${cls || ""}`, "data-currency": w.currency },
      h("div", { class: "card-title", text: title }),
      h("div", { class: "big", text: w.net.display }),
      h("div", { class: "card-line", text: `${t("m_taken")} ${w.settled.display} · ${w.settled_count} ${t("m_count")}` }),
      h("div", { class: "card-line", text: `${t("m_refunded")} ${w.refunded.display} · ${w.refund_count}` }));
    el("totals").replaceChildren(
      ...s.totals.map((c) => card(`${t("m_net")} ${c.currency}`, c, "total")),
      ...s.wallets.map((w) => card(`${t(w.provider)} · ${w.currency}`, w, w.provider)));
    el("totals").dataset.count = String(s.payment_count);

    el("hourly").replaceChildren(chart(s.hourly, s.cutoff, t));

    el("by-state").replaceChildren(
      h("thead", {}, h("tr", {}, ...["m_wallet", "m_state", "m_count", "m_amount"].map((k) => h("th", { text: t(k) })))),
      h("tbody", {}, ...s.by_state.map((r) => h("tr", { "data-state": r.state },
        h("td", { text: `${t(r.provider)} · ${r.currency}` }), h("td", { text: t(`st_${r.state}`) }),
        h("td", { class: "num", text: String(r.count) }), h("td", { class: "num", text: r.amount.display })))));
    el("refunds").replaceChildren(
      h("tbody", {}, ...s.refunds.map((r) => h("tr", { "data-id": r.payment_id, onclick: () => showPayment(r.payment_id) },
        h("td", { class: "mono", text: r.invoice }), h("td", { text: t(r.provider) }),
        h("td", { class: "num", text: r.amount.display }), h("td", { text: r.state + (r.adjustment ? " ↻" : "") })))));
  }

  return { render };
})();
