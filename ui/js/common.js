// Helpers shared by the windows: IPC access, strings and formatting. No framework, no build step.
"use strict";

window.Till = (() => {
  const tauri = window.__TAURI__;
  const invoke = (cmd, args) => tauri.core.invoke(cmd, args);
  const listen = (event, handler) => tauri.event.listen(event, handler);
  const TEXT = window.TillText;

  // Keypad currencies: symbol and decimals (the engine checks again; this only shapes typing).
  const CURRENCIES = {
    BDT: { symbol: "৳", decimals: 2 },
    KHR: { symbol: "៛", decimals: 0 },
    USD: { symbol: "$", decimals: 2 },
  };

  // The cashier/manager language, remembered per terminal.
  let lang = localStorage.getItem("till.lang") === "bn" ? "bn" : "en";
  function setLang(l) {
    lang = l === "bn" ? "bn" : "en";
    localStorage.setItem("till.lang", lang);
    document.documentElement.lang = lang;
    document.body.classList.toggle("bn", lang === "bn");
  }

  // t("paid_ref", {amount, ref}) in the current language (English when a string is missing).
  function t(key, vars) {
    const s = (TEXT[lang] && TEXT[lang][key]) || TEXT.en[key] || key;
    return fill(s, vars);
  }

  function fill(s, vars) {
    return vars ? s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] === undefined ? "" : String(vars[k]))) : s;
  }

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

  // Build an element: h("td", {class: "x", text: "..."}, child…).
  function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "text") e.textContent = v;
      else if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (k.startsWith("data-")) e.setAttribute(k, v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  // A reason of the engine's (`{code, params}`, core/src/reason.rs) in the window's
  // language: `r_<code>`, with the wallet and state named in it translated too.
  function reasonText(r) {
    if (!r || !r.code) return "";
    const p = Object.assign({}, r.params || {});
    if (p.wallet) p.wallet = t(String(p.wallet).toLowerCase());
    if (p.state) p.state = t(`st_${p.state}`);
    return t(TEXT.en[`r_${r.code}`] ? `r_${r.code}` : "r_other", p);
  }

  // A command's error as the window shows it: in the window's language when the
  // command gave a reason (`code` + `params`) or a code with a string here
  // (`e_<code>`), else the command's sentence.
  function errorText(e) {
    if (e && e.code && TEXT.en[`r_${e.code}`]) return reasonText(e);
    if (e && e.code && TEXT.en[`e_${e.code}`]) return t(`e_${e.code}`, e);
    return (e && e.message) || String(e);
  }

  function timeOf(ms) {
    const d = new Date(ms);
    return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
  }

  // Apply the language to every [data-t] element (static labels).
  function translateStatic() {
    document.querySelectorAll("[data-t]").forEach((e) => { e.textContent = t(e.dataset.t); });
    document.querySelectorAll("[data-t-placeholder]").forEach((e) => { e.placeholder = t(e.dataset.tPlaceholder); });
  }

  return {
    invoke, listen, CURRENCIES, TEXT, t, fill, setLang, lang: () => lang,
    groupDigits, countdown, el, h, errorText, reasonText, timeOf, translateStatic,
  };
})();
