{
    "name": "Debt Recovery",
    "summary": "Recover overdue customer debt: recovery cases, stages, "
    "a managers' board and the collector's view on the customer form",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/debt-recovery/debt_recovery",
    "author": "debt_recovery developers",
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["account", "mail"],
    "data": [
        "security/debt_recovery_security.xml",
        "security/ir.model.access.csv",
        "security/ir_rule.xml",
        "data/debt_recovery_stage_data.xml",
        "data/ir_sequence_data.xml",
        "data/ir_cron_data.xml",
        "wizard/debt_recovery_stage_change_views.xml",
        "wizard/debt_recovery_call_log_views.xml",
        "views/debt_recovery_stage_views.xml",
        "views/debt_recovery_case_views.xml",
        "views/account_move_views.xml",
        "views/res_partner_views.xml",
        "views/debt_recovery_menus.xml",
    ],
    "demo": [
        "demo/debt_recovery_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "debt_recovery/static/tests/tours/*.js",
        ],
    },
    "application": True,
}
