from . import test_recovery_case
from . import test_recovery_stage
from . import test_account_move
from . import test_res_partner
from . import test_access_rights
from . import test_performance
from . import test_escalation
from . import test_reports
