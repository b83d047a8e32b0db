import { registry } from "@web/core/registry";

const CUSTOMER = "Tour Aged Customer";
const ROW = `.o_pivot tbody tr:has(th:contains('${CUSTOMER}'))`;

registry.category("web_tour.tours").add("debt_recovery_aged_receivable_tour", {
    url: "/odoo/action-debt_recovery.debt_recovery_aged_receivable_action",
    steps: () => [
        {
            content: "The report's options: today, the usual periods",
            trigger: ".o_form_view .o_field_widget[name=period_4] input",
        },
        {
            content: "Export it to XLSX",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_export_xlsx]",
            run: "click",
        },
        {
            content: "View it",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_view]",
            run: "click",
        },
        {
            content: "The buckets are the columns",
            trigger: ".o_pivot thead th:contains('31-60 Days')",
        },
        {
            content: "Drill down into the customer's bucket",
            trigger: `${ROW} td.o_pivot_cell_value:not(.o_empty)`,
            run: "click",
        },
        {
            content: "Its items are listed",
            trigger: ".o_list_view .o_data_row .o_data_cell[name=bucket]:contains('31-60 Days')",
        },
    ],
});
