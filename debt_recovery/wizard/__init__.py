from . import debt_recovery_stage_change
from . import debt_recovery_call_log
