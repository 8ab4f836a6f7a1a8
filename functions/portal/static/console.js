// The operator's console: the queues of orders waiting for a decision (GET /admin/orders) with approve
// and reject (POST /admin/orders/{partner}/{order}/review), and a partner's dashboard as the partner
// sees it. Nothing here decides anything: the admin API does, and answers what it did.
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

  async function load() {
    $("console-error").textContent = "";
    try {
      const [review, unattributed] = await Promise.all([
        Portal.get("/admin/orders", { status: "review", limit: 100 }),
        Portal.get("/admin/orders", { status: "unattributed", limit: 100 }),
      ]);
      render("review", review);
      render("unattributed", unattributed);
      document.body.dataset.loaded = "true";
    } catch (error) {
      $("console-error").textContent = error.message;
    }
  }

  document.addEventListener("DOMContentLoaded", load);
})();
