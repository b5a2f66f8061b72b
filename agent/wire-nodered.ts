/**
 * The Node-RED child's place in the agent: what flows may see and do (events, outputs,
 * alerts, status, snapshots) and the rule that no flow runs while the disk reserve is out.
 */
import type { AgentSide } from './agent-options.js';
import type { LocalAlarms } from './alarms/local-alarms.js';
import type { EventPipeline } from './event-pipeline.js';
import type { MediaRequests } from './media/media-requests.js';
import { supervisorFromConfig } from './nodered/from-config.js';
import type { NodeRedSupervisor } from './nodered/supervisor.js';
import type { Outbox } from './outbox/outbox.js';

/** The supervisor for the config's `nodeRed` section, or null when there is none (or it is off). */
export function wireNodeRed(
  a: AgentSide,
  outbox: Outbox,
  pipeline: EventPipeline,
  alarms: LocalAlarms,
  media: MediaRequests,
): NodeRedSupervisor | null {
  const nodeRed = supervisorFromConfig(
    a.opts.config,
    a.opts.baseDir,
    a.opts.logger,
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
  return nodeRed;
}
