/** The CLI's usage errors, apart from cli-main.ts so that the commands' own module (cli-commands.ts) can throw them too. */
import { GatewayError } from '../core/kernel/errors.js';

/** A wrong command line: exit 2 with the message. */
export class UsageError extends GatewayError {
  constructor(message: string) {
    super('USAGE', message);
  }
}
