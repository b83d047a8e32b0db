"""Install with and without demo data, uninstall and reinstall, on scratch databases.

These drive a real ``odoo-bin`` in subprocesses (the set-up script exports
DR_PY, ODOO_SRC and REPO_DIR), so they do not use the test database.
"""

import json
import os
import shutil
import subprocess
import time
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
    # A database created with demo data from scratch (base, account, the addon),
    # as scripts/run.sh creates it.
    started = time.monotonic()
    _odoo(scratch_db, "-i", "debt_recovery")
    print(f"install with demo data: {time.monotonic() - started:.0f} s")
    with open(os.path.join(os.path.dirname(__file__), "demo_check.py")) as check:
        out = _shell(scratch_db, check.read())
    report = json.loads(out.split("DEMO ", 1)[1].splitlines()[0])
    # Every stage is true of its records: a Disputed case has an open dispute,
    # a Payment Plan case an active plan, a Promise case an open promise, a
    # ladder stage the communication of that stage that left, New nothing sent.
    assert report["not_sent"] == [], report["not_sent"]
    assert report["mismatch"] == [], report["mismatch"]
    assert report["tracking_days"] == [], report["tracking_days"]
    assert report["stages"] == {
        "Dune Logistics": "current",
        "Ferro Construct": "reminder",
        "Helios Retail SARL": "formal_notice",
        "Kestrel Foods": "promise",
        "Lumen Studio": "reminder",
        "Nordwind Handel GmbH": "payment_plan",
        "Orbit Media": "demand_letter",
        "Quarry Stone Supplies": "disputed",
    }, report["stages"]
    assert "Maple Office Supply" in report["recovered"], "paid after its reminder"
    # The escalation ran on the days of the story: communications sent on
    # many days, none in the future, each email dated the day it was sent,
    # none claiming an item already paid.
    assert report["comms"] >= 20 and report["days"] >= 10, report
    assert report["future"] == 0
    assert report["dates_agree"]
    assert report["claimed_paid"] == []
    assert report["to_approve"] == [True], "one hand-off waits for approval"
    assert report["bounced"] == 1 and report["bounced_comm"] == ["Lumen Studio"], report
    assert report["queued_emails"] == 0
    assert report["credit_deducted"], "Helios's credit note is deducted from its claim"
    assert report["payments"] >= 6 and report["partial"] >= 1 and report["refunds"] == 1
    assert report["plan"] == ["Nordwind Handel GmbH", "posted", ["paid", "open", "open"]], report
    assert report["promises"] == ["Kestrel Foods"]
    assert report["disputes"] == ["Quarry Stone Supplies"]
    assert report["calls"] >= 3
    assert report["risks"] >= 9
    assert report["addresses"]
    assert report["limits"] == ["Ferro Construct"], "one limit; the others show No limit"
    # name, title in the customer's language, postal code, title translated
    assert report["letters"] == {
        "fr_FR": ["Helios Retail SARL", True, True, True],
        "de_DE": ["Nordwind Handel GmbH", True, True, True],
    }, report["letters"]
    # Updating keeps the users' data (noupdate stages, the story untouched).
    _psql(
        scratch_db,
        "UPDATE debt_recovery_stage SET name = '{\"en_US\": \"Mine\"}' WHERE kind = 'legal'",
    )
    comms = _psql(scratch_db, "SELECT count(*) FROM debt_recovery_communication")
    _odoo(scratch_db, "-u", "debt_recovery")
    assert (
        _psql(scratch_db, "SELECT name->>'en_US' FROM debt_recovery_stage WHERE kind = 'legal'")
        == "Mine"
    )
    assert _psql(scratch_db, "SELECT count(*) FROM debt_recovery_communication") == comms
