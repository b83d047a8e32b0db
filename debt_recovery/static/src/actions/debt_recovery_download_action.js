import { download } from "@web/core/network/download";
import { registry } from "@web/core/registry";

/**
 * Download a file (the printed letters), then close the action: the list or
 * form whose button printed reloads and shows the letters Printed at once.
 * Downloaded as reports are, without a popup window a browser may block.
 */
async function downloadAndReload(env, action) {
    const { url } = action.params;
    env.services.ui.block();
    try {
        await download({ url, data: {} });
    } finally {
        env.services.ui.unblock();
    }
    return { type: "ir.actions.act_window_close" };
}

registry.category("actions").add("debt_recovery_download", downloadAndReload);
