#!/usr/bin/env bash
# Benchmark data (issue 6, work in progress): build a database of a given size
# through the real ORM and accounting, kept as a template for measured runs.
#   scripts/bench.sh small|medium|large
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_all
SIZE="${1:?usage: scripts/bench.sh small|medium|large}"
DB="dr_bench_$SIZE"
if psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1; then
    log "$DB exists: reusing it"
    exit 0
fi
ensure_template_db
WIP="${DB}_wip"
dropdb --if-exists "$WIP"
createdb -T "$TEMPLATE" "$WIP"
if [ -d "$FILESTORE/$TEMPLATE" ]; then cp -a "$FILESTORE/$TEMPLATE" "$FILESTORE/$WIP"; fi
odoo_bin -d "$WIP" -i debt_recovery --without-demo=all --stop-after-init --log-level=warn
log "Generating $SIZE data"
PYTHONPATH="$ODOO_SRC" "$PY" "$REPO_DIR/bench/generate.py" "$SIZE" "$WIP" \
    --addons-path="$ODOO_SRC/addons,$REPO_DIR"
psql -d postgres -qc "ALTER DATABASE $WIP RENAME TO $DB"
if [ -d "$FILESTORE/$WIP" ]; then mv "$FILESTORE/$WIP" "$FILESTORE/$DB"; fi
log "Built $DB (use it as a template: createdb -T $DB <copy>)"
