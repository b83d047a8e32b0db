import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("debt_recovery_partner_tour", {
    steps: () => [
        {
            content: "The smart button shows the recovery stage",
            trigger: ".oe_stat_button[name=action_debt_open_case]:contains('New')",
        },
        {
            content: "Open the Recovery tab",
            trigger: ".o_notebook .nav-link:contains('Recovery')",
            run: "click",
        },
        {
            content: "A customer without a credit limit has no limit, not a limit of $0.00",
            trigger: "div[name=debt_credit_limit]:contains('No limit'):not(:contains('0.00'))",
        },
        {
            content: "No available credit is shown without a limit",
            trigger: ".o_notebook:not(:has(.o_field_widget[name=debt_credit_available]))",
        },
        {
            content: "A customer not scored yet says so, the risk block is not empty",
            trigger: "div[name=debt_risk_none]:contains('Not scored yet')",
        },
        {
            content: "The overdue amount is shown",
            trigger: ".o_field_widget[name=debt_amount_overdue]:contains('1,234.00')",
        },
        {
            content: "The overdue invoice is listed",
            trigger: ".o_field_widget[name=debt_overdue_invoice_ids] .o_data_row",
        },
        {
            content: "Log a call",
            trigger: "button[name=action_debt_log_call]",
            run: "click",
        },
        {
            content: "Choose the outcome",
            trigger: ".modal .o_field_widget[name=outcome] input[data-value=reached]",
            run: "click",
        },
        {
            content: "Write what was said",
            trigger: ".modal .o_field_widget[name=note] textarea",
            run: "edit Will pay by transfer on Monday",
        },
        {
            content: "Save the call",
            trigger: ".modal button[name=action_log]",
            run: "click",
        },
        {
            content: "Back on the customer form",
            trigger: "body:not(:has(.modal))",
        },
    ],
});
