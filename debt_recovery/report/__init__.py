from . import debt_recovery_letters_batch
from . import debt_recovery_statement_of_account
