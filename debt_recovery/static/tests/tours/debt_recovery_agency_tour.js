import { registry } from "@web/core/registry";

const CUSTOMER = "Tour Agency Customer";
const AGENCY_COLUMN = ".o_kanban_group:has(.o_column_title:contains('Collection Agency'))";

registry.category("web_tour.tours").add("debt_recovery_agency_tour", {
    url: "/odoo/action-debt_recovery.debt_recovery_case_action",
    steps: () => [
        {
            content: "The case is on the board, not with an agency yet",
            trigger: `.o_kanban_group:not(${AGENCY_COLUMN}) .o_kanban_record:contains('${CUSTOMER}')`,
        },
        {
            content: "Open the case",
            trigger: `.o_kanban_record:contains('${CUSTOMER}')`,
            run: "click",
        },
        {
            content: "Hand it to an agency",
            trigger: ".o_form_view .o_statusbar_buttons button:contains('Hand to Agency')",
            run: "click",
        },
        {
            content: "The overdue item is proposed",
            trigger: ".modal .o_field_widget[name=move_line_ids] .o_data_row",
        },
        {
            content: "Choose the agency",
            trigger: ".modal .o_field_widget[name=agency_id] input",
            run: "edit Tour Collect",
        },
        {
            content: "Pick it in the list",
            trigger: ".o-autocomplete--dropdown-menu .dropdown-item:contains('Tour Collect')",
            run: "click",
        },
        {
            content: "Hand the case over",
            trigger: ".modal button[name=action_hand_off]",
            run: "click",
        },
        {
            content: "The hand-off is with the agency, its case file made",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('With the Agency')",
        },
        {
            content: "Its case file can be downloaded",
            trigger: ".o_field_widget[name=case_file_csv_id]:contains('.csv')",
        },
        {
            content: "Back to the board",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains('Recovery Board')",
            run: "click",
        },
        {
            content: "The case is in the Agency column",
            trigger: `${AGENCY_COLUMN} .o_kanban_record:contains('${CUSTOMER}')`,
        },
    ],
});
