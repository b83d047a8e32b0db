import { registry } from "@web/core/registry";

const CUSTOMER = "Tour Approval Customer";

registry.category("web_tour.tours").add("debt_recovery_approval_tour", {
    url: "/odoo/action-debt_recovery.debt_recovery_communication_action_to_approve",
    steps: () => [
        {
            content: "The communication waits in the approval queue",
            trigger: `.o_data_row:contains('${CUSTOMER}')`,
        },
        {
            content: "Open it",
            trigger: `.o_data_row:contains('${CUSTOMER}') td[name=partner_id]`,
            run: "click",
        },
        {
            content: "Approve and send",
            trigger: "button[name=action_approve]",
            run: "click",
        },
        {
            content: "It is sent",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Sent')",
        },
        {
            content: "Open its case",
            trigger: ".o_field_widget[name=case_id] a.o_form_uri",
            run: "click",
        },
        {
            content: "The case's chatter shows the communication",
            trigger: ".o-mail-Chatter .o-mail-Message:contains('Hand-off to Manager')",
        },
    ],
});
