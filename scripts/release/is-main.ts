/** Whether a module is the script node was started with; through links too (`current` is one). */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const isMain = (moduleUrl: string): boolean =>
  process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(moduleUrl));
