#!/usr/bin/env bash
# Command 1: set up everything and serve Odoo with demo data and debt_recovery
# on http://localhost:8069 (login: admin / password: admin).
# Run it again: it reuses the virtualenv and the database.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_all
DB="${DR_DB:-debt_recovery}"
PORT="${DR_HTTP_PORT:-8069}"
if ! psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1; then
    log "Creating the database $DB with demo data and debt_recovery installed"
    odoo_bin -d "$DB" -i debt_recovery --stop-after-init
else
    log "Updating debt_recovery in the existing database $DB"
    odoo_bin -d "$DB" -u debt_recovery --stop-after-init
fi
log "Serving Odoo on http://localhost:$PORT (login admin, password admin). Ctrl-C to stop."
exec "$PY" "$ODOO_SRC/odoo-bin" --db_host= -d "$DB" --db-filter="^$DB\$" \
    --addons-path="$ODOO_SRC/addons,$REPO_DIR" --http-port="$PORT"
