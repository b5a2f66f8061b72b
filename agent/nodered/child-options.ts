/** What the Node-RED child is told at each start (its first frame: secrets never go in its environment or command line). */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ChildOptions } from '../../core/contracts/nodered-ipc.js';
import { failure } from '../../core/kernel/errors.js';
import { shippedDefaultFlows } from './child-files.js';
import { editorUsers } from './editor-passwords.js';
import type { SupervisorOptions } from './supervisor-options.js';

export function childOptions(opts: SupervisorOptions, safeMode: boolean, logger: Logger): ChildOptions {
  const { config, dataDir } = opts;
  return {
    userDir: join(dataDir, 'node-red'),
    flowFile: config.flowFile,
    host: config.host,
    port: config.port,
    credentialSecret: config.credentialSecret,
    users: editorUsers(config.users, dataDir, (err) =>
      logger.error(failure('TECHNICIAN_REQUEST_FAILED', err), "reset editor passwords unreadable: the config's apply"),
    ),
    safeMode,
    httpNodeRoot: config.httpNodeRoot,
    nodesDir: opts.nodesDir ?? null,
    // Tests with their own nodes start empty unless they say otherwise; the shipped agent gets the shipped flows.
    defaultFlows: opts.defaultFlows !== undefined ? opts.defaultFlows : opts.nodesDir ? null : shippedDefaultFlows(),
    logLevel: opts.logLevel ?? 'info',
    allowNodes: config.allowNodes,
  };
}
