"""Install with and without demo data, uninstall and reinstall, on scratch databases.

These drive a real ``odoo-bin`` in subprocesses (the set-up script exports
DR_PY, ODOO_SRC and REPO_DIR), so they do not use the test database.
"""

import os
import shutil
import subprocess
import uuid

import pytest

PY = os.environ.get("DR_PY")
ODOO_SRC = os.environ.get("ODOO_SRC")
REPO_DIR = os.environ.get("REPO_DIR")
TEMPLATE = os.environ.get("DR_TEMPLATE_DB", "dr_tmpl_account")

pytestmark = pytest.mark.skipif(
    not (PY and ODOO_SRC and REPO_DIR), reason="run through scripts/test.sh"
)


def _odoo(db, *args, stdin=None):
    cmd = [
        PY,
        os.path.join(ODOO_SRC, "odoo-bin"),
        *args,
        "--db_host=",
        f"--addons-path={ODOO_SRC}/addons,{REPO_DIR}",
        "-d",
        db,
        "--log-level=warn",
        "--stop-after-init",
    ]
    if args and args[0] == "shell":
        cmd.remove("--stop-after-init")
    result = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def _shell(db, code):
    return _odoo(db, "shell", stdin=code)


def _psql(db, query):
    return subprocess.run(
        ["psql", "-d", db, "-tAc", query], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def scratch_db():
    name = f"dr_scratch_{uuid.uuid4().hex[:8]}"
    yield name
    subprocess.run(["dropdb", "--if-exists", name], check=False)
    shutil.rmtree(os.path.expanduser(f"~/.local/share/Odoo/filestore/{name}"), ignore_errors=True)


STATE = (
    "m = env['ir.module.module'].search([('name', '=', 'debt_recovery')]);"
    "print('STATE', m.state)\n"
)


def test_install_without_demo_uninstall_reinstall(scratch_db):
    subprocess.run(["createdb", "-T", TEMPLATE, scratch_db], check=True)
    _odoo(scratch_db, "-i", "debt_recovery", "--without-demo=all")
    assert _psql(scratch_db, "SELECT count(*) FROM debt_recovery_stage") == "11"
    assert _psql(scratch_db, "SELECT count(*) FROM debt_recovery_case") == "0"
    assert _psql(scratch_db, "SELECT count(*) FROM debt_recovery_level") == "6"

    out = _shell(
        scratch_db,
        "env['ir.module.module'].search([('name', '=', 'debt_recovery')])"
        ".button_immediate_uninstall()\nenv.cr.commit()\n" + STATE,
    )
    assert "STATE uninstalled" in out
    assert _psql(scratch_db, "SELECT to_regclass('debt_recovery_case')") == ""
    assert (
        _psql(
            scratch_db,
            "SELECT count(*) FROM information_schema.columns "
            "WHERE table_name = 'account_move_line' AND column_name = 'debt_case_id'",
        )
        == "0"
    )

    _odoo(scratch_db, "-i", "debt_recovery", "--without-demo=all")
    assert "STATE installed" in _shell(scratch_db, STATE)
    assert _psql(scratch_db, "SELECT count(*) FROM debt_recovery_stage") == "11"


def test_install_with_demo_data(scratch_db):
    # A database created with demo data from scratch (base, account, the addon).
    _odoo(scratch_db, "-i", "debt_recovery")
    cases = _psql(
        scratch_db,
        "SELECT count(DISTINCT stage_id), count(*) FROM debt_recovery_case WHERE NOT is_closed",
    )
    stages, count = (int(x) for x in cases.split("|"))
    assert count >= 7 and stages >= 4, cases
    # Every demo stage is true of its records: nothing was sent yet, so the
    # ladder cases are new; the plan and the dispute behind the hold stages exist.
    kinds = _psql(
        scratch_db,
        "SELECT string_agg(p.name || '=' || s.kind, ',' ORDER BY p.name) "
        "FROM debt_recovery_case c JOIN res_partner p ON p.id = c.partner_id "
        "JOIN debt_recovery_stage s ON s.id = c.stage_id "
        "WHERE p.email LIKE 'accounts@%.example.com'",
    )
    assert kinds == (
        "Dune Logistics=current,Ferro Construct=current,Helios Retail SARL=current,"
        "Kestrel Foods=current,Nordwind Handel GmbH=payment_plan,Orbit Media=legal,"
        "Quarry Stone Supplies=disputed"
    ), kinds
    assert _psql(scratch_db, "SELECT count(*) FROM debt_recovery_communication") == "0"
    plan = _psql(
        scratch_db,
        "SELECT pl.state, round(pl.amount_total, 2), fee.state, "
        "(SELECT count(*) FROM account_move_line l WHERE l.debt_plan_id = pl.id) "
        "FROM debt_recovery_plan pl JOIN account_move fee ON fee.id = pl.fee_move_id",
    )
    assert plan == "active|5430.00|posted|2", plan
    dispute = _psql(
        scratch_db,
        "SELECT d.state, (SELECT count(*) FROM account_move_line l WHERE l.debt_dispute_id = d.id) "
        "FROM debt_recovery_dispute d",
    )
    assert dispute == "open|1", dispute
    currencies = _psql(
        scratch_db,
        "SELECT count(DISTINCT aml.currency_id) FROM account_move_line aml "
        "WHERE aml.debt_case_id IS NOT NULL",
    )
    assert int(currencies) >= 2
    # Updating keeps the users' data (noupdate stages, cases untouched).
    _psql(
        scratch_db,
        "UPDATE debt_recovery_stage SET name = '{\"en_US\": \"Mine\"}' WHERE kind = 'legal'",
    )
    _odoo(scratch_db, "-u", "debt_recovery")
    assert (
        _psql(scratch_db, "SELECT name->>'en_US' FROM debt_recovery_stage WHERE kind = 'legal'")
        == "Mine"
    )
