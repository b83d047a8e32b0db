import { _t } from "@web/core/l10n/translation";
import { getCurrency } from "@web/core/currency";
import { registry } from "@web/core/registry";
import { formatFloat } from "@web/core/utils/numbers";
import { KanbanHeader } from "@web/views/kanban/kanban_header";
import { KanbanRenderer } from "@web/views/kanban/kanban_renderer";
import { kanbanView } from "@web/views/kanban/kanban_view";
import { AnimatedNumber } from "@web/views/view_components/animated_number";
import { ColumnProgress } from "@web/views/view_components/column_progress";

/**
 * The recovery board: each column's total is the sum of its cards' overdue
 * amounts, written as the cards write them (the company currency's symbol and
 * digits), not rounded to "12k" as Odoo's column totals are.
 */
export class DebtRecoveryColumnTotal extends AnimatedNumber {
    static template = "debt_recovery.ColumnTotal";

    format(value) {
        return formatFloat(value, { digits: this.props.currency?.digits });
    }
}

export class DebtRecoveryColumnProgress extends ColumnProgress {
    static components = { ...ColumnProgress.components, AnimatedNumber: DebtRecoveryColumnTotal };
}

export class DebtRecoveryKanbanHeader extends KanbanHeader {
    static components = { ...KanbanHeader.components, ColumnProgress: DebtRecoveryColumnProgress };

    get groupAggregate() {
        const aggregate = super.groupAggregate;
        // The cases' amounts are in their company's currency: the symbol shows
        // when the column's cases share one (an empty column: the board's).
        const currenciesOf = (records) =>
            new Set(
                records
                    .map((record) => record.data.currency_id && record.data.currency_id[0])
                    .filter(Boolean)
            );
        let currencyIds = currenciesOf(this.group.list.records);
        if (!currencyIds.size) {
            currencyIds = currenciesOf(this.props.list.groups.flatMap((g) => g.list.records));
        }
        if (currencyIds.size === 1) {
            const [currencyId] = currencyIds;
            return { ...aggregate, currency: getCurrency(currencyId) || false };
        }
        if (currencyIds.size > 1) {
            return {
                ...aggregate,
                currency: false,
                title: _t("%(title)s (several currencies)", { title: aggregate.title }),
            };
        }
        return { ...aggregate, currency: false };
    }
}

export class DebtRecoveryKanbanRenderer extends KanbanRenderer {
    static components = { ...KanbanRenderer.components, KanbanHeader: DebtRecoveryKanbanHeader };
}

export const debtRecoveryBoardView = {
    ...kanbanView,
    Renderer: DebtRecoveryKanbanRenderer,
};

registry.category("views").add("debt_recovery_board", debtRecoveryBoardView);
