/**
 * A village for the tests of a CLI agent with its Node-RED editor: a panic panel (a Modbus peer
 * the test presses) and, in `dir`, the agent's config with the editor on a free port and the
 * county's broker. The panel is closed by the caller's cleanups.
 */
import { join } from 'node:path';
import { freePort } from '../../scripts/brokers/free-port.js';
import { AgentChild } from './agent-child.js';
import { agentWithEditor } from './node-red.js';
import { PanicPanel } from './panic-panel.js';

export interface EditorVillage {
  panel: PanicPanel;
  /** The editor's port. */
  port: number;
  /** The config file the agent child is started with. */
  file: string;
}

export async function editorVillage(
  dir: string,
  o: {
    id: string;
    brokerUrl: string;
    /** Default: `dir/data`. */
    dataDir?: string;
    /** Further config sections; they go in last, so they win. */
    extra?: Record<string, unknown>;
  },
  cleanup: (fn: () => unknown) => void,
): Promise<EditorVillage> {
  const panel = await new PanicPanel().start();
  cleanup(() => panel.close());
  const port = await freePort();
  const file = AgentChild.writeConfig(dir, {
    version: 1,
    gateway: { id: o.id },
    dataDir: o.dataDir ?? join(dir, 'data'),
    ...agentWithEditor(o.brokerUrl, port),
    ...panel.config(),
    ...o.extra,
  });
  return { panel, port, file };
}
