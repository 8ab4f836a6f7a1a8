// The partner's dashboard: everything on it comes from the reporting API (/partner/...), called with the
// partner's API key; nothing is computed here that the API does not answer, but the change against the
// previous range. With ?partner=ID it is the operator's view of that partner: the same page on the
// operator's mirror of each route (/admin/partners/ID/...), as the partner sees it.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const charts = {};
  const viewed = new URLSearchParams(window.location.search).get("partner");
  Portal.session.operator = Boolean(viewed);
  const route = (path) => (viewed ? path.replace(/^\/partner/, `/admin/partners/${encodeURIComponent(viewed)}`) : path);
  const get = (path, query) => Portal.get(route(path), query);

  const CARDS = [
    ["clicks", "Clicks", (t) => t.clicks.total, "integer"],
    ["unique", "Unique clicks", (t) => t.clicks.unique, "integer"],
    ["orders", "New orders", (t) => t.orders.new, "integer"],
    ["conversion", "Conversion", (t) => t.conversion_rate, "percent"],
    ["sales", "Sales", (t) => primary(t).gross_sales, "money"],
    ["commission", "Commission", (t) => primary(t).commission_net, "money"],
    ["epc", "Earnings per click", (t) => primary(t).earnings_per_click, "money"],
    ["refund-rate", "Refund rate", (t) => primary(t).refund_rate, "percent"],
  ];

  // The figures of the partner's first currency (its own); an empty range has none.
  const primary = (totals) => totals.money[0] || { currency: null };
  const label = (code) => code.replaceAll("_", " ").replace(/^./, (c) => c.toUpperCase());

  function show(element, value) {
    element.hidden = !value;
  }

  function format(kind, value, currency) {
    if (value === null || value === undefined) return "–";
    if (kind === "integer") return Portal.integer.format(value);
    if (kind === "percent") return Portal.percent.format(Number(value));
    return currency ? Portal.money(value, currency) : "–";
  }

  function change(now, before) {
    const a = Number(now || 0);
    const b = Number(before || 0);
    if (a === b) return ["same", "no change"];
    if (b === 0) return ["up", "new"];
    const ratio = (a - b) / Math.abs(b);
    const text = `${ratio > 0 ? "+" : "−"}${Portal.percent.format(Math.abs(ratio))}`;
    return [ratio > 0 ? "up" : "down", text];
  }

  function renderCards(current, previous, days) {
    const cards = $("cards");
    cards.replaceChildren();
    const currency = primary(current.totals).currency || primary(previous.totals).currency;
    for (const [name, title, pick, kind] of CARDS) {
      const now = pick(current.totals);
      const before = previous.totals.money.length || kind !== "money" ? pick(previous.totals) : null;
      const card = document.createElement("div");
      card.className = "card";
      card.dataset.card = name;
      card.dataset.value = now ?? "";
      const term = document.createElement("dt");
      term.textContent = title;
      const value = document.createElement("dd");
      value.className = "value";
      value.textContent = format(kind, now, currency);
      const [direction, text] = change(now, before);
      const delta = document.createElement("dd");
      delta.className = `change ${direction}`;
      delta.textContent = `${text} vs the ${days} days before`;
      card.append(term, value, delta);
      cards.append(card);
    }
  }

  function renderDaily(summary) {
    const currency = primary(summary.totals).currency;
    const days = summary.periods.map((period) => Portal.day(period.first_day));
    const clicks = summary.periods.map((period) => period.clicks.total);
    const orders = summary.periods.map((period) => period.orders.new);
    const commission = summary.periods.map((period) => {
      const figures = period.money.find((money) => money.currency === currency);
      return figures ? Number(figures.commission_net) : 0;
    });
    charts.daily?.destroy();
    charts.daily = new Chart($("daily-chart"), {
      type: "line",
      data: {
        labels: days,
        datasets: [
          { label: "Clicks", data: clicks, yAxisID: "count", borderColor: "#2563eb", backgroundColor: "#2563eb" },
          { label: "New orders", data: orders, yAxisID: "count", borderColor: "#16a34a", backgroundColor: "#16a34a" },
          {
            label: currency ? `Commission (${currency})` : "Commission",
            data: commission,
            yAxisID: "money",
            borderColor: "#c2410c",
            backgroundColor: "#c2410c",
          },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          count: { position: "left", beginAtZero: true, ticks: { precision: 0 } },
          money: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } },
        },
      },
    });
    Portal.table(
      $("daily-table"),
      [
        ["Day", (row) => Portal.day(row.first_day)],
        ["Clicks", (row) => Portal.integer.format(row.clicks.total), true],
        ["New orders", (row) => Portal.integer.format(row.orders.new), true],
        ["Commission", (row) => format("money", (row.money.find((m) => m.currency === currency) || {}).commission_net ?? 0, currency), true],
      ],
      summary.periods,
      "No days in the range.",
    );
  }

  function renderLinks(links) {
    Portal.table(
      $("links-table"),
      [
        ["Link", (row) => row.link_id],
        ["Clicks", (row) => Portal.integer.format(row.clicks.total), true],
        ["New orders", (row) => Portal.integer.format(row.orders.new), true],
        ["Sales", (row) => (row.money[0] ? Portal.money(row.money[0].gross_sales, row.money[0].currency) : "–"), true],
      ],
      links.links.slice(0, 10),
      "No link had activity in the range.",
    );
  }

  function renderSubIds(answer) {
    $("sub-ids-note").textContent = answer ? `sub1 values of link ${answer.link_id}` : "";
    Portal.table(
      $("sub-ids-table"),
      [
        ["Value", (row) => (row.other ? "(other values)" : row.value)],
        ["Clicks", (row) => Portal.integer.format(row.clicks.total), true],
        ["Unique", (row) => Portal.integer.format(row.clicks.unique), true],
      ],
      answer ? answer.values.slice(0, 10) : [],
      "No sub ids in the range.",
    );
  }

  function renderOrders(page) {
    Portal.table(
      $("orders-table"),
      [
        ["Order", (row) => row.order_id],
        ["Status", (row) => label(row.status) + (row.in_review ? " (in review)" : "")],
        ["Amount", (row) => Portal.money(row.amount, row.currency), true],
        ["Refunded", (row) => Portal.money(row.refunded_amount, row.currency), true],
        ["Commission", (row) => Portal.money(row.commission, row.currency), true],
        ["Referred", (row) => (row.referred ? "yes" : `no (${label(row.reason || "not referred")})`)],
        ["Last change", (row) => Portal.moment(row.updated_at)],
      ],
      page.orders,
      "No orders changed in the range.",
    );
  }

  function downloadButton(text, fetchLink) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    button.textContent = text;
    button.addEventListener("click", async () => {
      try {
        const link = await fetchLink();
        window.location.assign(link.url);
      } catch (error) {
        $("load-error").textContent = error.message;
      }
    });
    return button;
  }

  function renderRfm(analysis) {
    charts.rfm?.destroy();
    if (!analysis) {
      $("rfm-note").textContent = "No nightly analysis yet: segments appear after the first night with orders.";
      $("rfm-chart").parentElement.hidden = true;
      Portal.table($("rfm-table"), [], [], "");
      return;
    }
    const first = analysis.currencies[0];
    $("rfm-note").textContent = `As of ${Portal.day(analysis.as_of)}, over ${analysis.window_days} days` +
      (first ? `: ${Portal.integer.format(first.members)} buying member${first.members === 1 ? "" : "s"} (${first.currency})` : "");
    const segments = first ? first.segments : [];
    $("rfm-chart").parentElement.hidden = !segments.some((s) => s.members > 0);
    charts.rfm = new Chart($("rfm-chart"), {
      type: "bar",
      data: {
        labels: segments.map((s) => label(s.segment)),
        datasets: [{ label: "Members", data: segments.map((s) => s.members), backgroundColor: "#7c3aed" }],
      },
      options: { animation: false, maintainAspectRatio: false, indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    Portal.table(
      $("rfm-table"),
      [
        ["Segment", (row) => label(row.segment)],
        ["Members", (row) => Portal.integer.format(row.members), true],
        ["Net sales", (row) => Portal.money(row.net_sales, first.currency), true],
        ["Members (CSV)", (row) => downloadButton(`Download ${label(row.segment)}`, () => get(`/partner/analytics/rfm/segments/${row.segment}`))],
      ],
      segments.filter((s) => s.members > 0),
      "No members scored yet.",
    );
  }

  function renderReturns(returns) {
    Portal.table(
      $("returns-table"),
      [
        ["Category", (row) => (row.key === "~none" ? "(no category)" : row.key)],
        ["New orders", (row) => Portal.integer.format(row.new_orders), true],
        ["Refunds", (row) => Portal.integer.format(row.refunds), true],
        ["Refunded", (row) => (row.money[0] ? Portal.money(row.money[0].refunded, row.money[0].currency) : "–"), true],
        ["Refund rate", (row) => (row.money[0] ? format("percent", row.money[0].refund_rate) : "–"), true],
      ],
      returns.by_category,
      "No referred orders in the range.",
    );
  }

  function renderStatements(list) {
    Portal.table(
      $("statements-table"),
      [
        ["Period", (row) => (row.kind === "day" ? Portal.day(row.period) : row.period)],
        ["Kind", (row) => label(row.kind)],
        ["JSON", (row) => downloadButton("Download JSON", () => get(`/partner/statements/${row.period}`, { format: "json" }))],
        ["CSV", (row) => downloadButton("Download CSV", () => get(`/partner/statements/${row.period}`, { format: "csv" }))],
      ],
      list.statements,
      "No statements yet: the first comes after a night with activity.",
    );
  }

  const optional = (promise) => promise.catch((error) => (error.status === 404 ? null : Promise.reject(error)));

  async function load() {
    const from = $("from").value;
    const to = $("to").value;
    const zone = $("zone").value;
    const days = Portal.daysBetween(from, to);
    const range = { from, to, time_zone: zone };
    const before = { from: Portal.addDays(from, -days), to: Portal.addDays(from, -1), time_zone: zone };
    $("load-error").textContent = "";
    document.body.setAttribute("aria-busy", "true");
    try {
      const [current, previous, links, orders, rfm, returns, statements] = await Promise.all([
        get("/partner/summary", { ...range, granularity: "day" }),
        get("/partner/summary", { ...before, granularity: "day" }),
        get("/partner/links", range),
        get("/partner/orders", { ...range, limit: 20 }),
        optional(get("/partner/analytics/rfm")),
        get("/partner/analytics/returns", range),
        get("/partner/statements", { limit: 31 }),
      ]);
      const top = links.links[0];
      const subIds = top ? await get(`/partner/links/${encodeURIComponent(top.link_id)}/sub-ids`, { ...range, field: "sub1" }) : null;
      $("who").textContent = viewed ? `Operator's view of ${current.partner_id}` : `Signed in as ${current.partner_id}`;
      $("range-note").textContent = current.time_zone === "UTC"
        ? "Days are UTC days."
        : `Days are days of ${current.time_zone}, counted there since ${Portal.moment(current.time_zone_since)}.`;
      renderCards(current, previous, days);
      renderDaily(current);
      renderLinks(links);
      renderSubIds(subIds);
      renderOrders(orders);
      renderRfm(rfm);
      renderReturns(returns);
      renderStatements(statements);
      document.body.dataset.loaded = "true";
    } catch (error) {
      if (error.status === 401) {
        signOut(`That key was not accepted: ${error.message}`);
        return;
      }
      $("load-error").textContent = error.message;
    } finally {
      document.body.removeAttribute("aria-busy");
    }
  }

  function signedIn() {
    show($("sign-in"), false);
    show($("dashboard"), true);
    show($("who"), true);
    show($("sign-out"), !viewed);
    return load();
  }

  function signOut(message = "") {
    Portal.key.forget();
    delete document.body.dataset.loaded;
    show($("dashboard"), false);
    show($("who"), false);
    show($("sign-out"), false);
    show($("sign-in"), true);
    $("sign-in-error").textContent = message;
    $("api-key").focus();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const today = Portal.isoDay(new Date());
    $("to").value = today;
    $("from").value = Portal.addDays(today, -29);
    $("sign-in-form").addEventListener("submit", (event) => {
      event.preventDefault();
      Portal.key.set($("api-key").value.trim());
      $("api-key").value = "";
      signedIn();
    });
    $("range").addEventListener("submit", (event) => {
      event.preventDefault();
      load();
    });
    $("sign-out").addEventListener("click", () => signOut());
    if (viewed || Portal.key.get()) signedIn();
  });
})();
