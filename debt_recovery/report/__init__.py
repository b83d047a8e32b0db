from . import debt_recovery_statement_of_account
from . import debt_recovery_writeoff_report
from . import debt_recovery_aged_receivable_item
from . import debt_recovery_aged_receivable
