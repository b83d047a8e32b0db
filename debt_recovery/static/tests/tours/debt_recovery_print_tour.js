import { registry } from "@web/core/registry";

const CUSTOMER = "Tour Print Customer";
const ROW = `.o_data_row:has(.o_data_cell:contains('${CUSTOMER}'))`;

registry.category("web_tour.tours").add("debt_recovery_print_tour", {
    steps: () => [
        {
            content: "The letter waits to be printed",
            trigger: `${ROW} .o_field_widget[name=status]:contains('To Print')`,
        },
        {
            content: "Select it",
            trigger: `${ROW} .o_list_record_selector input`,
            run: "click",
        },
        {
            content: "Print the selected letters",
            trigger: ".o_control_panel button[name=action_print_letters]",
            run: "click",
        },
        {
            content: "Once downloaded, the list shows it Printed without a reload",
            trigger: `${ROW} .o_field_widget[name=status]:contains('Printed')`,
        },
        {
            content: "Open it",
            trigger: `${ROW} .o_data_cell[name=partner_id]`,
            run: "click",
        },
        {
            content: "The form offers to reprint it (a duplicate of the kept copy)",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_print_letters]:contains('Reprint')",
        },
        {
            content: "Reprint",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_print_letters]",
            run: "click",
        },
        {
            content: "Still Printed after the reprint",
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains('Printed')",
        },
    ],
});
