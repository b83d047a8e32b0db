#!/usr/bin/env bash
# Benchmark (see README, "Benchmark").
#   scripts/bench.sh build small|medium|large
#       Build the size's database through the real ORM and accounting, kept
#       as the template dr_bench_<size> that every measured run copies.
#   scripts/bench.sh measure [SIZE...]          (default: small medium)
#       Build what is missing, install OCA account_credit_control from PyPI,
#       run every measurement and write bench/RESULTS.md.
#       BENCH_RUNS=<n> runs per figure (default 3); BENCH_OUT=<file>;
#       BENCH_SEND=<n> email communications sent per run (default 50),
#       BENCH_SEND_RUNS=<n> runs of it (default 1), BENCH_SEND_SIZES="medium".
#   scripts/bench.sh repeat letters|interest [SIZE] [RUNS]
#       One figure again (letters per second; interest and compensation of
#       every overdue item), on fresh copies, printed with its median.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_all

OCA_DIR="$DR_HOME/oca"
OCA_SPEC='odoo-addon-account-credit-control==18.0.*'
# The SMTP server the sending is measured against (bench/smtp_sink.py).
SMTP_SPEC='aiosmtpd==1.4.6'

build() {
    local size="$1" db="dr_bench_$1"
    if psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1; then
        log "$db exists: reusing it (drop it to rebuild)"
        return
    fi
    ensure_template_db
    local wip="${db}_wip" started=$SECONDS
    dropdb --if-exists "$wip"
    rm -rf "${FILESTORE:?}/$wip"
    createdb -T "$TEMPLATE" "$wip"
    if [ -d "$FILESTORE/$TEMPLATE" ]; then cp -a "$FILESTORE/$TEMPLATE" "$FILESTORE/$wip"; fi
    odoo_bin -d "$wip" -i debt_recovery --without-demo=all --stop-after-init --log-level=warn
    log "Generating $size data"
    PYTHONPATH="$ODOO_SRC" "$PY" "$REPO_DIR/bench/generate.py" "$size" "$wip" \
        --addons-path="$ODOO_SRC/addons,$REPO_DIR"
    psql -d postgres -qc "ALTER DATABASE $wip RENAME TO $db"
    if [ -d "$FILESTORE/$wip" ]; then mv "$FILESTORE/$wip" "$FILESTORE/$db"; fi
    log "Built $db in $((SECONDS - started)) s (a template: createdb -T $db <copy>)"
    module_stamp > "$DR_HOME/bench_$size.stamp"
}

# The templates keep the module as it was when they were built: after a
# change of debt_recovery, each is upgraded once (-u, with its migrations).
module_stamp() {
    (cd "$REPO_DIR" && find debt_recovery -type f -not -path '*/__pycache__/*' -print0 \
        | sort -z | xargs -0 sha1sum | sha1sum | cut -d' ' -f1)
}
refresh() {
    local db="dr_bench_$1" stamp="$DR_HOME/bench_$1.stamp" want
    want=$(module_stamp)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        log "Upgrading debt_recovery in $db (the module changed since it was built)"
        odoo_bin -d "$db" -u debt_recovery --stop-after-init --log-level=warn
        echo "$want" > "$stamp"
    fi
}

ensure_oca() {
    if [ ! -f "$OCA_DIR/odoo/addons/account_credit_control/__manifest__.py" ]; then
        log "Installing OCA account_credit_control ($OCA_SPEC) into $OCA_DIR"
        # --no-deps: the wheel declares Odoo itself as a dependency.
        "$PY" -m pip install -q --no-deps --target "$OCA_DIR" "$OCA_SPEC"
    fi
}

ensure_smtp() {
    if ! "$PY" -c "import aiosmtpd" 2>/dev/null; then
        log "Installing $SMTP_SPEC into the venv (the benchmark's SMTP server)"
        "$PY" -m pip install -q "$SMTP_SPEC"
    fi
}

case "${1:-}" in
    build)
        build "${2:?usage: scripts/bench.sh build small|medium|large}"
        ;;
    measure)
        shift
        sizes=("$@")
        [ ${#sizes[@]} -gt 0 ] || sizes=(small medium)
        for size in "${sizes[@]}"; do build "$size" && refresh "$size"; done
        ensure_oca
        ensure_smtp
        # shellcheck disable=SC2086 # BENCH_SEND_SIZES: one word per size
        "$PY" "$REPO_DIR/bench/measure.py" run --sizes "${sizes[@]}" \
            --runs "${BENCH_RUNS:-3}" --out "${BENCH_OUT:-$REPO_DIR/bench/RESULTS.md}" \
            --addons-path "$ODOO_SRC/addons,$REPO_DIR" --oca-path "$OCA_DIR/odoo/addons" \
            --odoo-src "$ODOO_SRC" --send-count "${BENCH_SEND:-50}" \
            --send-runs "${BENCH_SEND_RUNS:-1}" --send-sizes ${BENCH_SEND_SIZES:-medium}
        ;;
    repeat)
        # scripts/bench.sh repeat letters|interest|ours_escalation[_notices] [SIZE] [RUNS]: one figure
        # again, on fresh copies of the size's template, without the rest.
        kind="${2:?usage: scripts/bench.sh repeat letters|interest|ours_escalation[_notices] [SIZE] [RUNS]}"
        size="${3:-medium}"
        build "$size" && refresh "$size"
        "$PY" "$REPO_DIR/bench/measure.py" repeat "$kind" --size "$size" --runs "${4:-3}" \
            --addons-path "$ODOO_SRC/addons,$REPO_DIR" --odoo-src "$ODOO_SRC"
        ;;
    *)
        echo "usage: scripts/bench.sh build SIZE | measure [SIZE...] | repeat KIND [SIZE] [RUNS]" >&2
        exit 2
        ;;
esac
