from .bulk import bulk_create, bulk_log_note
from .css import page_classes, parse_css, slim_css
from .flags import CodeFlag
