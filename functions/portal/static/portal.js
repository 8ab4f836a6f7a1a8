// What every page of the portal shares: the API key kept for this tab only, calls to the API on this
// origin, and numbers, money and dates formatted for the reader's locale.
"use strict";

const Portal = (() => {
  const KEY = "partnerpoints.api-key";
  const locale = navigator.language || "en";

  class ApiError extends Error {
    constructor(status, body) {
      const error = (body && body.error) || {};
      const detail = (error.details || []).map((d) => `${d.path}: ${d.message}`).join("; ");
      super(error.message ? `${error.message}${detail ? ` (${detail})` : ""}` : `the API answered ${status}`);
      this.status = status;
      this.code = error.code;
    }
  }

  const key = {
    get: () => sessionStorage.getItem(KEY),
    set: (value) => sessionStorage.setItem(KEY, value),
    forget: () => sessionStorage.removeItem(KEY),
  };

  // A partner's pages send its key; the operator's console sends none: on the local stack the admin
  // routes take an unsigned request as the local operator's (in AWS they need IAM-signed requests).
  const session = { operator: false };

  async function send(method, path, query = {}, payload = undefined) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== "") params.set(name, value);
    }
    const url = params.toString() ? `${path}?${params}` : path;
    const headers = session.operator ? {} : { authorization: `Bearer ${key.get()}` };
    const init = { method, headers };
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(payload);
    }
    const answer = await fetch(url, init);
    const body = await answer.json().catch(() => null);
    if (!answer.ok) throw new ApiError(answer.status, body);
    return body;
  }

  const get = (path, query) => send("GET", path, query);
  const post = (path, payload) => send("POST", path, {}, payload);

  const integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const percent = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 });
  const moneyFormats = new Map();

  function money(amount, currency) {
    if (amount === null || amount === undefined) return "–";
    if (!moneyFormats.has(currency)) {
      moneyFormats.set(currency, new Intl.NumberFormat(locale, { style: "currency", currency }));
    }
    return moneyFormats.get(currency).format(Number(amount));
  }

  const dateFormat = new Intl.DateTimeFormat(locale, { dateStyle: "medium" });
  const momentFormat = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });
  // A day ("2026-11-30") is a calendar day, shown as such whatever the reader's zone.
  const day = (text) => dateFormat.format(new Date(`${text}T12:00:00Z`));
  const moment = (text) => momentFormat.format(new Date(text));

  function isoDay(date) {
    return date.toISOString().slice(0, 10);
  }

  function addDays(text, days) {
    const date = new Date(`${text}T00:00:00Z`);
    date.setUTCDate(date.getUTCDate() + days);
    return isoDay(date);
  }

  const daysBetween = (first, last) =>
    Math.round((Date.parse(`${last}T00:00:00Z`) - Date.parse(`${first}T00:00:00Z`)) / 86400000) + 1;

  // A table from rows: `columns` are [heading, cell(row), numeric?]; an empty table says so.
  function table(element, columns, rows, empty) {
    element.replaceChildren();
    if (!rows.length) {
      const caption = document.createElement("caption");
      caption.textContent = empty;
      element.append(caption);
      return;
    }
    const head = element.createTHead().insertRow();
    for (const [heading, , numeric] of columns) {
      const cell = document.createElement("th");
      cell.scope = "col";
      cell.textContent = heading;
      if (numeric) cell.className = "num";
      head.append(cell);
    }
    const body = element.createTBody();
    for (const row of rows) {
      const line = body.insertRow();
      for (const [, value, numeric] of columns) {
        const cell = line.insertCell();
        const content = value(row);
        if (content instanceof Node) cell.append(content);
        else cell.textContent = content;
        if (numeric) cell.className = "num";
      }
    }
  }

  return {
    ApiError, session, key, get, post, integer, percent, money, day, moment, isoDay, addDays, daysBetween, table,
  };
})();
