from . import debt_recovery_stage_change
from . import debt_recovery_call_log
from . import debt_recovery_communication_skip
from . import debt_recovery_escalation_run
from . import debt_recovery_plan_wizard
from . import debt_recovery_plan_reschedule
from . import debt_recovery_hold
from . import debt_recovery_charge_waive
