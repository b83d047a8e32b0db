import { registry } from "@web/core/registry";

const CUSTOMER = "Tour Board Customer";
const TARGET = ".o_kanban_group:has(.o_column_title:contains('Formal Notice'))";

registry.category("web_tour.tours").add("debt_recovery_board_tour", {
    url: "/odoo/action-debt_recovery.debt_recovery_case_action",
    steps: () => [
        {
            content: "The case is on the board, in the New column",
            trigger: `.o_kanban_group:has(.o_column_title:contains('New')) .o_kanban_record:contains('${CUSTOMER}')`,
        },
        {
            content: "Drag the case to Formal Notice",
            trigger: `.o_kanban_record:contains('${CUSTOMER}')`,
            run: `drag_and_drop (${TARGET})`,
        },
        {
            content: "Open the moved case",
            trigger: `${TARGET} .o_kanban_record:contains('${CUSTOMER}')`,
            run: "click",
        },
        {
            content: "The form shows the new stage",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Formal Notice')",
        },
        {
            content: "The chatter logged the stage change",
            trigger: ".o-mail-Chatter .o-mail-Message:contains('Formal Notice')",
        },
    ],
});
