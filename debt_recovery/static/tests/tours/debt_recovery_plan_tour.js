import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("debt_recovery_plan_tour", {
    steps: () => [
        {
            content: "Open the Recovery tab",
            trigger: ".o_notebook .nav-link:contains('Recovery')",
            run: "click",
        },
        {
            content: "Agree a payment plan",
            trigger: "button[name=action_debt_open_plan_wizard]",
            run: "click",
        },
        {
            content: "Three instalments",
            trigger: ".modal .o_field_widget[name=instalment_count] input",
            run: "edit 3",
        },
        {
            content: "The schedule shows three instalments adding up to the debt",
            trigger: ".modal .o_field_widget[name=schedule_ids] .o_data_row:nth-child(3):contains('333.34')",
        },
        {
            content: "Create the plan",
            trigger: ".modal button[name=action_create_plan]",
            run: "click",
        },
        {
            content: "The plan is active",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Active')",
        },
        {
            content: "Open its case",
            trigger: ".o_field_widget[name=case_id] a.o_form_uri",
            run: "click",
        },
        {
            content: "The case is in the payment plan stage",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Payment Plan')",
        },
    ],
});
