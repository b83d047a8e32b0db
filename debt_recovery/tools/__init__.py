from .bulk import bulk_create, bulk_log_note
