// The operator's console: the machinery (GET /admin/operations: queue depths, the last nights' runs),
// every partner's last seven days (GET /admin/partners, then each one's summary), the queues of orders
// waiting for a decision (GET /admin/orders) with approve and reject (POST .../review), and a partner's
// dashboard as the partner sees it. Nothing here decides anything: the admin API does.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  Portal.session.operator = true;
  const label = (code) => code.replaceAll("_", " ").replace(/^./, (c) => c.toUpperCase());

  function decisionCell(order, queue) {
    const form = document.createElement("form");
    form.className = "decision";
    const id = `${order.partner_id}-${order.order_id}`.replace(/[^A-Za-z0-9_-]/g, "_");
    const fields = [];
    if (queue === "unattributed") {
      fields.push(["member", "Member to credit", "text"]);
    }
    fields.push(["note", "Note", "text"]);
    for (const [name, text, type] of fields) {
      const fieldLabel = document.createElement("label");
      fieldLabel.htmlFor = `${name}-${id}`;
      fieldLabel.textContent = text;
      fieldLabel.className = "sr-only";
      const input = document.createElement("input");
      input.id = `${name}-${id}`;
      input.name = name;
      input.type = type;
      input.placeholder = text;
      input.required = name === "note";
      form.append(fieldLabel, input);
    }
    for (const decision of ["approve", "reject"]) {
      const button = document.createElement("button");
      button.type = "submit";
      button.value = decision;
      button.textContent = label(decision);
      button.setAttribute("aria-label", `${label(decision)} order ${order.order_id} of ${order.partner_id}`);
      form.append(button);
    }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const decision = event.submitter ? event.submitter.value : "approve";
      const request = { decision, note: form.elements.note.value.trim() };
      const member = form.elements.member ? form.elements.member.value.trim() : "";
      if (member) request.member_id = member;
      try {
        const path = `/admin/orders/${encodeURIComponent(order.partner_id)}/${encodeURIComponent(order.order_id)}/review`;
        const decided = await Portal.post(path, request);
        $("console-status").textContent = `Order ${decided.order_id} of ${decided.partner_id}: ${decision}d.`;
        await load();
      } catch (error) {
        $("console-error").textContent = `Order ${order.order_id}: ${error.message}`;
      }
    });
    return form;
  }

  function render(queue, page) {
    Portal.table(
      $(`${queue}-table`),
      [
        ["Partner", (row) => row.partner_id],
        ["Order", (row) => row.order_id],
        ["Status", (row) => label(row.status)],
        ["Amount", (row) => Portal.money(row.amount, row.currency), true],
        [
          "Why",
          (row) => (queue === "review"
            ? (row.review ? row.review.reasons : []).map(label).join(", ")
            : label(row.attribution.reason || "no click")),
        ],
        ["Received", (row) => Portal.moment(row.created_at)],
        ["Decision", (row) => decisionCell(row, queue)],
      ],
      page.orders,
      queue === "review" ? "No order waits for review." : "No unattributed order waits.",
    );
    document.body.dataset[queue] = String(page.orders.length);
  }

  function queueCard(name, title, depth, explain) {
    const card = document.createElement("div");
    card.className = "card";
    card.dataset.card = name;
    card.dataset.value = String(depth.messages);
    const term = document.createElement("dt");
    term.textContent = title;
    const value = document.createElement("dd");
    value.className = "value";
    value.textContent = Portal.integer.format(depth.messages);
    const detail = document.createElement("dd");
    detail.className = `change ${depth.messages ? "down" : "same"}`;
    detail.textContent = `${explain(depth.messages)}; ${Portal.integer.format(depth.in_flight)} being handled`;
    card.append(term, value, detail);
    return card;
  }

  function nightState(night) {
    if (night.manifest_written) {
      return night.clean ? "Clean" : `${Portal.integer.format(night.mismatches)} mismatched accounts`;
    }
    return night.shards_done ? "Running" : "Not run yet";
  }

  function renderOperations(overview) {
    $("queue-cards").replaceChildren(
      queueCard("dead-letters", "Dead-letter queue", overview.dead_letter_queue,
        (n) => (n ? "failed batches to replay (docs/operations.md)" : "nothing failed")),
      queueCard("statement-tasks", "Nightly shards waiting", overview.statement_tasks,
        (n) => (n ? "shards still to write" : "no run in progress")),
    );
    const counted = (value) => (value === null ? "–" : Portal.integer.format(value));
    Portal.table(
      $("nights-table"),
      [
        ["Day", (night) => Portal.day(night.day)],
        ["Shards done", (night) => `${night.shards_done} of ${night.shards}`, true],
        ["Members", (night) => counted(night.members), true],
        ["Partners", (night) => counted(night.partners), true],
        ["Reconciliation", nightState],
      ],
      overview.nights,
      "No night to show.",
    );
    const last = overview.nights.find((night) => night.manifest_written);
    document.body.dataset.lastReconciliation = last ? String(last.clean) : "none";
  }

  // Partners at a glance: a page of partners at a time, each with its last seven UTC days.
  const glance = { cursor: null, rows: [] };
  const today = Portal.isoDay(new Date());
  const weekAgo = Portal.addDays(today, -6);

  function partnerLink(partner) {
    const link = document.createElement("a");
    link.href = `/portal/index.html?partner=${encodeURIComponent(partner.partner_id)}`;
    link.textContent = partner.name;
    link.setAttribute("aria-label", `${partner.name}: open its dashboard as the partner sees it`);
    return link;
  }

  async function morePartners() {
    const page = await Portal.get("/admin/partners", { limit: 25, cursor: glance.cursor });
    const summaries = await Promise.all(page.partners.map((partner) =>
      Portal.get(`/admin/partners/${encodeURIComponent(partner.partner_id)}/summary`, { from: weekAgo, to: today })));
    page.partners.forEach((partner, index) => glance.rows.push({ partner, totals: summaries[index].totals }));
    glance.cursor = page.next_cursor;
    $("more-partners").hidden = !glance.cursor;
    const figures = (row) => row.totals.money.find((money) => money.currency === row.partner.currency) || {};
    Portal.table(
      $("partners-table"),
      [
        ["Partner", (row) => partnerLink(row.partner)],
        ["Id", (row) => row.partner.partner_id],
        ["Clicks", (row) => Portal.integer.format(row.totals.clicks.total), true],
        ["New orders", (row) => Portal.integer.format(row.totals.orders.new), true],
        ["Sales", (row) => Portal.money(figures(row).gross_sales ?? 0, row.partner.currency), true],
        ["Commission", (row) => Portal.money(figures(row).commission_net ?? 0, row.partner.currency), true],
      ],
      glance.rows,
      "No partner yet.",
    );
    document.body.dataset.partners = String(glance.rows.length);
  }

  async function load() {
    $("console-error").textContent = "";
    try {
      const [review, unattributed] = await Promise.all([
        Portal.get("/admin/orders", { status: "review", limit: 100 }),
        Portal.get("/admin/orders", { status: "unattributed", limit: 100 }),
      ]);
      render("review", review);
      render("unattributed", unattributed);
      renderOperations(await Portal.get("/admin/operations", { nights: 7 }));
      if (!glance.rows.length) await morePartners();
      document.body.dataset.loaded = "true";
    } catch (error) {
      $("console-error").textContent = error.message;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("partners-range").textContent =
      `${Portal.day(weekAgo)} to ${Portal.day(today)} (UTC days), in each partner's own currency.`;
    $("more-partners").addEventListener("click", () =>
      morePartners().catch((error) => { $("console-error").textContent = error.message; }));
    load();
  });
})();
