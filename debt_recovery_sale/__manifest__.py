{
    "name": "Debt Recovery - Sales",
    "summary": "Credit holds block sales order confirmation; uninvoiced orders count "
    "in the credit exposure",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/debt-recovery/debt_recovery",
    "author": "debt_recovery developers",
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["debt_recovery", "sale"],
    "auto_install": True,
}
