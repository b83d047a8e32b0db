from . import debt_recovery_letters_batch
