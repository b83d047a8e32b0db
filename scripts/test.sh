#!/usr/bin/env bash
# Command 2: set up what is needed, lint, and run the whole test suite
# (pytest + pytest-odoo) against a fresh throwaway database.
# Exits non-zero on any lint error, test failure, or skipped browser test.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_all
cd "$REPO_DIR"

if [ -z "${DR_SKIP_LINT:-}" ]; then
    log "Linting (ruff, pylint-odoo)"
    "$VENV/bin/ruff" check .
    "$VENV/bin/ruff" format --check .
    "$VENV/bin/pylint" --rcfile=.pylintrc debt_recovery debt_recovery_sale
fi

# The four translations are complete: valid, nothing fuzzy or untranslated,
# every entry of the .pot (Odoo's own export) translated (a lint: DR_SKIP_LINT
# skips it too).
if [ -z "${DR_SKIP_LINT:-}" ]; then
    log "Checking the translations (fr, de, es, nl)"
    for lang in fr de es nl; do
        po="debt_recovery/i18n/$lang.po"
        [ -f "$po" ] || die "$po is missing."
        stats=$(msgfmt -c --statistics -o /dev/null "$po" 2>&1) || die "$po: $stats"
        case "$stats" in *untranslated* | *fuzzy*) die "$po is not complete: $stats" ;; esac
        msgcmp "$po" debt_recovery/i18n/debt_recovery.pot || die "$po lacks entries of the .pot."
        printf '%s: %s\n' "$lang" "$stats" >&2
    done
fi

ensure_template_db

DB="dr_test_$$"
cleanup() {
    dropdb --if-exists "$DB" >/dev/null 2>&1 || true
    rm -rf "${FILESTORE:?}/$DB"
    rm -f "$DR_HOME/pytest-odoo-$$.conf" "$DR_HOME/junit-$$.xml"
}
trap cleanup EXIT
log "Creating the test database $DB and installing debt_recovery and debt_recovery_sale (no demo data)"
createdb -T "$TEMPLATE" "$DB"
if [ -d "$FILESTORE/$TEMPLATE" ]; then mkdir -p "$FILESTORE" && cp -a "$FILESTORE/$TEMPLATE" "$FILESTORE/$DB"; fi
odoo_bin -d "$DB" -i debt_recovery,debt_recovery_sale --without-demo=all --stop-after-init --log-level=warn

CONF="$DR_HOME/pytest-odoo-$$.conf"
cat > "$CONF" <<CONF
[options]
db_name = $DB
db_host = False
addons_path = $ODOO_SRC/addons,$REPO_DIR
http_port = ${DR_TEST_HTTP_PORT:-8169}
without_demo = all
CONF

# Odoo gives Chromium 10 s to start; its very first start on a machine (font
# and profile caches) can take longer, and the tour would be skipped: warm it up.
timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --dump-dom about:blank >/dev/null 2>&1 || true

log "Running the test suite"
export PYTHONPATH="$ODOO_SRC${PYTHONPATH:+:$PYTHONPATH}"
export DR_PY="$PY" ODOO_SRC REPO_DIR
JUNIT="$DR_HOME/junit-$$.xml"
[ $# -gt 0 ] || set -- debt_recovery/tests debt_recovery_sale/tests tests
set +e
"$VENV/bin/pytest" -p no:cacheprovider --odoo-config="$CONF" --odoo-http \
    --junitxml="$JUNIT" -rs "$@"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
    exit "$rc"
fi
skipped=$("$PY" -c "import sys, xml.etree.ElementTree as ET; r = ET.parse(sys.argv[1]).getroot(); s = r if r.tag == 'testsuite' else r.find('testsuite'); print(s.get('skipped', '0'))" "$JUNIT")
if [ "$skipped" != "0" ]; then
    echo "ERROR: $skipped test(s) were skipped (a browser test needs Chromium and websocket-client): failing." >&2
    exit 1
fi
