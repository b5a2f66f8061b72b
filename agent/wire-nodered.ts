/**
 * The Node-RED child's place in the agent: what flows may see and do (events, outputs,
 * alerts, status, snapshots), the rule that no flow runs while the disk reserve is out, and
 * the county's flows push (flows.get / flows.apply), which judges what it pushed by the child.
 */
import type { AgentSide } from './agent-options.js';
import type { LocalAlarms } from './alarms/local-alarms.js';
import type { EventPipeline } from './event-pipeline.js';
import type { MediaRequests } from './media/media-requests.js';
import { shippedNodesDir } from './nodered/child-files.js';
import { supervisorFromConfig } from './nodered/from-config.js';
import type { NodeRedSupervisor } from './nodered/supervisor.js';
import type { Outbox } from './outbox/outbox.js';
import { FlowsPush } from './push/flows-push.js';
import { VERSION } from './version.js';

/** The supervisor for the config's `nodeRed` section and its flows push, or nulls when there is none (or it is off). */
export function wireNodeRed(
  a: AgentSide,
  outbox: Outbox,
  pipeline: EventPipeline,
  alarms: LocalAlarms,
  media: MediaRequests,
): { nodeRed: NodeRedSupervisor | null; flowsPush: FlowsPush | null } {
  const { config, logger } = a.opts;
  const nodeRed = supervisorFromConfig(
    config,
    a.opts.baseDir,
    logger,
    {
      onEvent: (l) => a.bus.subscribe(l),
      emit: (e) => pipeline.emitLogged(e),
      write: (c) => a.write(c),
      raiseAlert: (al) => alarms.raiseFlowAlert(al),
      status: () => a.observe.status(),
      // Checked, limited and recorded as any request; the flow gets no bytes, only camera.picture on `village in`.
      snapshot: (camera, channel) =>
        media.begin({ request: 'node-red', command: null, by: 'node-red' }, camera, channel).then(({ taking }) => {
          taking.catch(() => undefined); // a failed picture is recorded (media.requested) and counted by the picture taking
        }),
    },
    a.opts.nodeRed,
  );
  // The card's last bytes are the alarms': no flow runs while the disk reserve is out (the editor does).
  outbox.on('reserveHeld', (held) => nodeRed?.holdForDisk(!held));
  if (!outbox.reserve.isHeld) nodeRed?.holdForDisk(true);
  if (!nodeRed || !config.nodeRed) return { nodeRed, flowsPush: null };
  const flowsPush = new FlowsPush({
    dataDir: config.dataDir,
    gatewayId: config.gateway.id,
    logger: logger.child({ part: 'flows-push' }),
    emit: (e) => pipeline.emit(e),
    supervisor: nodeRed,
    flowFile: config.nodeRed.flowFile,
    nodesDir: a.opts.nodeRed?.nodesDir ?? shippedNodesDir(),
    allowNodes: config.nodeRed.allowNodes,
    version: VERSION,
  });
  flowsPush.atStart(); // before the child starts: a push the agent went down under is rolled back first
  return { nodeRed, flowsPush };
}
