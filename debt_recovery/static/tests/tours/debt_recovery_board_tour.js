import { localization } from "@web/core/l10n/localization";
import { registry } from "@web/core/registry";

const CUSTOMER = "Tour Board Customer";
const TARGET = ".o_kanban_group:has(.o_column_title:contains('Formal Notice'))";

/** The number in an amount as the web client writes it ("$ 1,234.50"). */
function parseAmount(text) {
    let number = "";
    for (const char of text) {
        if (/[0-9]/.test(char) || char === "-") {
            number += char;
        } else if (char === localization.decimalPoint) {
            number += ".";
        }
    }
    return number ? parseFloat(number) : NaN;
}

/** The currency symbol of an amount: what is left without the number. */
function currencySymbol(text) {
    const separators = [localization.decimalPoint, localization.thousandsSep, "-"];
    return [...text]
        .filter((char) => !/[0-9\s\ufeff]/.test(char) && !separators.includes(char))
        .join("");
}

/**
 * Every open column of the board: its total (the column header) is the sum
 * of the overdue amounts its cards show, with the same currency symbol.
 * Read from the page, whatever the data; retried while the totals load or
 * animate. At least ``minColumns`` columns must have cards.
 */
async function checkColumnTotals(minColumns) {
    let problems = [];
    for (let attempt = 0; attempt < 30; attempt++) {
        problems = [];
        let checked = 0;
        for (const column of document.querySelectorAll(".o_kanban_group:not(.o_column_folded)")) {
            const title = column.querySelector(".o_column_title")?.textContent.trim();
            if (column.querySelector(".o_kanban_load_more")) {
                continue; // not every card is on the page
            }
            const cards = [...column.querySelectorAll(".o_kanban_record .o_debt_recovery_card_overdue")];
            const totalEl = column.querySelector(".o_kanban_header .o_debt_recovery_column_total");
            if (!totalEl) {
                problems.push(`${title}: no column total`);
                continue;
            }
            const total = parseAmount(totalEl.textContent);
            const sum = cards.reduce((acc, card) => acc + parseAmount(card.textContent), 0);
            if (Math.abs(total - sum) > 0.005) {
                problems.push(`${title}: total ${totalEl.textContent.trim()} but cards sum to ${sum}`);
            }
            if (cards.length) {
                checked++;
                const symbol = currencySymbol(cards[0].textContent);
                if (symbol && !totalEl.textContent.includes(symbol)) {
                    problems.push(`${title}: total ${totalEl.textContent.trim()} without ${symbol}`);
                }
            }
        }
        if (checked < minColumns) {
            problems.push(`only ${checked} column(s) with cards`);
        }
        if (!problems.length) {
            return;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`Board column totals: ${problems.join("; ")}`);
}

registry.category("web_tour.tours").add("debt_recovery_board_tour", {
    url: "/odoo/action-debt_recovery.debt_recovery_case_action",
    steps: () => [
        {
            content: "The case is on the board, in the New column",
            trigger: `.o_kanban_group:has(.o_column_title:contains('New')) .o_kanban_record:contains('${CUSTOMER}')`,
        },
        {
            content: "Each column's total is the sum of its cards' overdue amounts",
            trigger: ".o_kanban_group .o_debt_recovery_column_total",
            run: () => checkColumnTotals(1),
        },
        {
            content: "Drag the case to Formal Notice",
            trigger: `.o_kanban_record:contains('${CUSTOMER}')`,
            run: `drag_and_drop (${TARGET})`,
        },
        {
            content: "The case is in Formal Notice",
            trigger: `${TARGET} .o_kanban_record:contains('${CUSTOMER}')`,
        },
        {
            content: "The totals followed the card: still the sum of each column's cards",
            trigger: `${TARGET} .o_debt_recovery_column_total`,
            run: () => checkColumnTotals(2),
        },
        {
            content: "Open the moved case",
            trigger: `${TARGET} .o_kanban_record:contains('${CUSTOMER}')`,
            run: "click",
        },
        {
            content: "The form shows the new stage",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Formal Notice')",
        },
        {
            content: "The chatter logged the stage change",
            trigger: ".o-mail-Chatter .o-mail-Message:contains('Formal Notice')",
        },
    ],
});
