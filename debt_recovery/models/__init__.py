from . import debt_recovery_stage
from . import debt_recovery_case
from . import account_move
from . import account_move_line
from . import account_partial_reconcile
from . import res_partner
