/** The MQTT contract's topic names, in one place (docs/county.md, "MQTT contract", documents the same). */
import { BATCH_SUBTOPIC } from '../../core/contracts/wire-payload.js';
import { UPDATE_CHUNK_SUBTOPIC, UPDATE_REQUEST_SUBTOPIC } from '../../core/contracts/update-chunk.js';

export interface Topics {
  prefix: string;
  events: string;
  /** `<prefix>/events/batch`: compact (v2) batches, a header byte then the compressed JSON. */
  eventsBatch: string;
  status: string;
  health: string;
  commandFilter: string;
  /** `<prefix>/update/request`: the gateway asks the county's update server for a piece of a release. */
  updateRequest: string;
  /** `<prefix>/update/chunk`: the answers (the gateway subscribes while it fetches over MQTT, and always). */
  updateChunk: string;
  command(name: string): string;
  reply(name: string): string;
  /** `<prefix>/cmd-reply/`: the only place a county's MQTT 5 response topic may point. */
  replyNamespace: string;
  /** The command name of a topic under cmd/, or null. */
  commandName(topic: string): string | null;
}

export function topicsFor(prefix: string): Topics {
  const cmd = `${prefix}/cmd/`;
  return {
    prefix,
    events: `${prefix}/events`,
    eventsBatch: `${prefix}/events/${BATCH_SUBTOPIC}`,
    status: `${prefix}/status`,
    health: `${prefix}/health`,
    commandFilter: `${prefix}/cmd/+`,
    updateRequest: `${prefix}/${UPDATE_REQUEST_SUBTOPIC}`,
    updateChunk: `${prefix}/${UPDATE_CHUNK_SUBTOPIC}`,
    command: (name) => `${cmd}${name}`,
    reply: (name) => `${prefix}/cmd-reply/${name}`,
    replyNamespace: `${prefix}/cmd-reply/`,
    commandName: (topic) => (topic.startsWith(cmd) && topic.length > cmd.length ? topic.slice(cmd.length) : null),
  };
}
