/**
 * `device {id}`: one device as its driver describes it (online, why not, last seen, errors)
 * and its last events seen on the bus (diagnostics/device-history.ts), newest last.
 */
import { z } from 'zod';
import { nameSchema } from '../../core/contracts/envelope.js';
import type { DriverDescription } from '../../core/contracts/driver.js';
import { GatewayError } from '../../core/kernel/errors.js';
import type { CommandHandler } from '../uplink/commands.js';
import type { DeviceHistory } from '../diagnostics/device-history.js';
import { newestWithin } from './reply-budget.js';

const args = z.strictObject({ id: nameSchema });

export const deviceCommand = (
  describe: () => DriverDescription[],
  history: DeviceHistory,
): CommandHandler<typeof args> => ({
  args,
  run: ({ id }) => {
    const all = describe();
    const description = all.find((d) => d.deviceIds.includes(id));
    if (!description)
      throw new GatewayError(
        'UNKNOWN_DEVICE',
        `no device "${id}" on this gateway (known: ${all
          .flatMap((d) => d.deviceIds)
          .sort()
          .slice(0, 50)
          .join(', ')})`,
      );
    // The description is small (a driver's own fields); the events share what is left of the budget.
    const { kept, omitted } = newestWithin(history.of(id), 40 * 1024);
    return { id, description, lastEvents: kept, omitted };
  },
});
