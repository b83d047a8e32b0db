from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import DebtRecoveryCommon


@tagged("post_install", "-at_install")
class TestRecoveryStage(DebtRecoveryCommon):
    def test_default_ladder(self):
        kinds = self.Stage.search([]).mapped("kind")
        for kind in (
            "current",
            "reminder",
            "formal_notice",
            "demand_letter",
            "payment_plan",
            "disputed",
            "agency",
            "legal",
            "written_off",
            "closed",
        ):
            self.assertIn(kind, kinds)
        self.assertEqual(kinds[0], "current", "The ladder starts with current debt.")
        self.assertTrue(self.stage_closed.fold)
        self.assertTrue(self.stage_closed.is_closing)

    def test_delete_stage_in_use_is_refused(self):
        stage = self.Stage.create({"name": "Special handling", "kind": "reminder", "sequence": 15})
        case = self.Case.create({"partner_id": self.customer.id, "stage_id": stage.id})
        case.action_archive()
        with self.assertRaises(UserError) as error:
            stage.unlink()
        self.assertIn("Special handling", str(error.exception))
        self.assertTrue(stage.exists())
        case.stage_id = self.stage_current
        stage.unlink()
        self.assertFalse(stage.exists())
