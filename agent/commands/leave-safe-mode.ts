/**
 * `leave-safe-mode`: the county's way out of a Node-RED crash loop's safe mode, once the
 * technician fixed the flow from the editor (which stays up in safe mode). The counts are
 * cleared and the child restarts with its flows (`nodered.safe_mode_left`, then
 * `nodered.started`); if the flow still hangs or crashes the same limits bring safe mode back.
 * The same as `village-gateway editor safe-mode off` on the gateway.
 */
import { z } from 'zod';
import { GatewayError } from '../../core/kernel/errors.js';
import type { CommandHandler } from '../uplink/commands.js';

export interface SafeModeControl {
  leaveSafeMode(by: 'command'): boolean;
  describe(): { safeMode: boolean };
}

const args = z.strictObject({});

export const leaveSafeModeCommand = (nodeRed: SafeModeControl | null): CommandHandler<typeof args> => ({
  args,
  run: () => {
    if (!nodeRed) throw new GatewayError('NO_NODE_RED', 'this gateway runs no Node-RED');
    const left = nodeRed.leaveSafeMode('command');
    return left
      ? { left: true, note: 'Node-RED restarts with its flows; nodered.started follows' }
      : {
          left: false,
          // Safe mode set in the config (nodeRed.safeMode: true) is left by changing the config.
          note: nodeRed.describe().safeMode ? 'safe mode is set in the config' : 'Node-RED is not in safe mode',
        };
  },
});
