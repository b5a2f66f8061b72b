/**
 * One error model: every error the agent raises is a GatewayError with a code from this list.
 * Callers branch on codes, never on messages; command replies, exit reasons and log lines
 * carry the same codes. docs/county.md's "Error codes" table is checked against this list by a test.
 * Errors that come from outside (SQLite, the file system, a library) are read with
 * `foreignCode`, and wrapped in a GatewayError where they leave the part that met them.
 */

/** Every code, with what it means to whoever meets it (county, technician, log reader). */
export const ERROR_CODES = {
  // Configuration and start-up
  CONFIG_INVALID: 'a config or profile file does not validate; every problem is named by its path',
  SECRET_UNAVAILABLE: 'a secret ({env} or {file}) named in the config cannot be read',
  CONFIG_CANNOT_RUN: 'a config validates but cannot run on this gateway (data folder, serial port, another agent)',
  RELOAD_UNAVAILABLE: 'the agent was not started from a config file, so it cannot reload one',
  CONFIG_CHANGED:
    "config.apply's expectedHash is not the running config (or the file was edited on site): nothing is overwritten; both hashes are named",
  CONFIG_INLINE_SECRET:
    'a pushed config carries a secret value: a push may only name secrets the gateway holds ({file} or {env})',
  CONFIG_PUSH_PENDING:
    'a pushed config or flow file is still in its probation window: wait for config.applied / flows.applied or config.rolled_back / flows.rolled_back',
  REVISION_MISMATCH:
    "flows.apply's expectedRevision is not the flow file on the gateway (the editor on site deployed meanwhile): nothing is overwritten; both revisions are named",
  FLOWS_INVALID:
    'pushed flows are not an array of nodes with a unique string id and a string type: every problem is named',
  FLOWS_NODE_UNKNOWN:
    "pushed flows use a node type this gateway's Node-RED does not have, or a core node that is off here (nodeRed.allowNodes)",
  FLOWS_CREDENTIALS:
    'pushed flows carry credentials on a node: credentials are set in the editor on site and never travel in a push',
  FLOWS_TOO_LARGE: 'the flows are over 49152 bytes as JSON: a push refuses them, flows.get says to read them on site',
  FLOWS_UNREADABLE: 'the flow file on the gateway is a link, not a regular file, unreadable or not JSON',
  FLOWS_SAFE_MODE:
    "Node-RED is in safe mode set by the config or held by a full card (flows stopped): pushed flows could not be judged, so a push is refused (a crash loop's safe mode takes a push)",
  ALARM_ACTIVE:
    'an alert is active (not acknowledged): the config, flows or release are not changed under it; push again once it is acknowledged',
  DATA_DIR_LOCKED: 'another agent holds the data folder (exit 2)',
  DATA_DIR_UNUSABLE: 'the data folder cannot be created, written or locked (exit 2)',
  USAGE: 'the command line is wrong (exit 2)',
  // Events and the outbox
  EVENT_INVALID: 'an event envelope cannot be built (no device id, a malformed type): the event is refused',
  PAYLOAD_INVALID:
    "an event's data does not match its type in the catalogue: the event is refused, counted (payloadProblems) and logged once a minute per type; an alarm-class event is kept and sent with payloadInvalid: true",
  EVENT_UNSENDABLE:
    "an event's data nests too deep or is too big for the county's decoders (or is not JSON): the event is refused, logged and counted",
  OUTBOX_FULL: 'the outbox is full: the event was refused rather than displace a more urgent one',
  DISK_FULL: 'the disk is full and its reserve went to alarms: the event was not stored',
  STORAGE_FAILED: "a write to the outbox failed (the store's own code is kept as storeCode)",
  OUTBOX_CORRUPT: 'the outbox file failed its integrity check at open (it is moved aside and salvaged)',
  OUTBOX_CLOSED: 'the outbox is closed (the agent is stopping): the event was not stored',
  NO_OUTBOX: 'there is no outbox in the data folder (the agent has not run there yet)',
  BATCH_UNREADABLE:
    'a compact batch message could not be decoded (unknown header byte, corrupt or truncated compression, over the size limit, not a v2 batch)',
  EVENTS_SHED: 'the outbox dropped stored events to make room or for their age (counted in gateway.events_shed)',
  ALARM_LOST:
    'an alarm-class event could not be stored (the disk full past its reserve, the data folder lost): reported as gateway.events_lost and sent by SMS',
  DATA_DIR_LOST:
    'the data folder went away or turned read-only while the agent ran: events cannot be kept, the local alarm sounds',
  STATE_UNREADABLE:
    'a state file (alarm state, sequence, Node-RED crash record) cannot be read: it is kept aside and the agent goes on without it',
  STATE_NOT_SAVED:
    "a state file (alarm state, SMS queue, devices' snapshot, last good config, crash record) cannot be written: the state is kept in memory",
  LISTENER_FAILED:
    'a local consumer of events (a rule, the flows, a listener) threw: logged and counted, the others still get the event',
  MESSAGE_UNREADABLE:
    'a JSON message on an events, health or status topic could not be read (over the size, depth or event-count limit, not UTF-8 JSON)',
  // Devices and outputs
  UNKNOWN_DEVICE: 'no configured device has this id',
  UNKNOWN_OUTPUT: 'the device has no output of this name',
  NO_OUTPUT: 'the device has no outputs at all',
  NOT_REMOTE: 'the output is not declared remotely controllable (outputs.<name>.remote: true)',
  INVALID_PULSE: 'a pulse needs a positive durationMs',
  DRIVER_UNAVAILABLE: 'the driver kind is not built into this agent',
  DRIVER_STOPPED: 'the driver is stopped; the command was not carried out',
  BUS_DOWN: 'the Modbus bus is not connected',
  LINK_DOWN: 'the MQTT link to the county went down (the message is the last error the link saw)',
  BUS_ERROR: 'the Modbus request failed on the bus (timeout, CRC, closed port)',
  MODBUS_EXCEPTION: 'the Modbus unit answered with an exception code',
  OUTPUT_FAILED: "an output (a siren, a relay, an LED) could not be set; the driver's error says why",
  SERIAL_ERROR: 'a serial port cannot be opened or failed (unplugged, no permission): it is reopened',
  SERIAL_GARBAGE:
    "bytes on a serial line that do not decode as the device's records (noise, a wrong baud rate or profile)",
  DEVICE_SILENT: 'a device sent nothing for longer than its profile allows: it is reported offline',
  // Networked cameras
  CAMERA_AUTH_REFUSED:
    'a camera refused the user or password: tried again only after a long, growing wait, so the camera never locks its account',
  CAMERA_STREAM_LOST:
    "a camera's event stream could not be opened or went away (refused, closed, no part within the idle time): reopened with backoff",
  CAMERA_NOT_A_STREAM:
    'a camera answered the event stream with something that is not multipart (an HTML page, an error): tried again with backoff',
  CAMERA_STREAM_MALFORMED:
    "bytes on a camera's event stream that do not frame as parts (garbage, no or too long a header block): skipped and counted",
  CAMERA_PART_TOO_LARGE:
    "a part on a camera's event stream over the size cap (a part that never ends, a 100 MB body): cut, skipped and counted",
  CAMERA_EVENT_STORM:
    'a camera reports events faster than its debounce: one event per type, channel and region is sent, the rest counted in it',
  CAMERA_SNAPSHOT_FAILED:
    'a camera did not give a picture (no answer in time, refused, the connection cut): counted, logged at most once a minute per camera and code; nothing waits for it',
  CAMERA_SNAPSHOT_NOT_JPEG:
    'a camera answered a snapshot request with something that is not a JPEG (an HTML page, JSON): refused from its first bytes and counted',
  CAMERA_SNAPSHOT_TOO_LARGE:
    'a camera\'s snapshot ran over the profile\'s snapshot.maxBytes (a 100 MB "JPEG", a body that never ends): cut while reading, counted',
  NO_CAMERA: 'the device named for a snapshot is not a running camera',
  // The GSM modem and SMS
  MODEM_NOT_READY: 'the modem is not ready (no line, no SIM, not registered)',
  MODEM_TIMEOUT: 'the modem did not answer an AT command in time',
  MODEM_STOPPED: 'the modem driver stopped while the command waited',
  MODEM_GONE: "the modem's serial line went away while the command waited",
  MODEM_ERROR: 'the modem answered ERROR or +CME ERROR',
  SMS_ERROR: 'the network refused the SMS (+CMS ERROR; retried later when the cause is temporary)',
  SMS_NOT_QUEUED: 'an SMS could not be queued (no modem configured, the queue refused it)',
  NO_SMS_NUMBERS: "a rule's sms action has no numbers to send to (alarms.smsTo is empty)",
  INVALID_NUMBER: 'not a phone number (+ and 3-20 digits)',
  // Camera pictures (dataDir/media)
  MEDIA_REFUSED: "a camera's picture is not a whole JPEG or is over media.maxPictureBytes: it is not stored",
  MEDIA_NO_ROOM:
    "a picture was not stored: the outbox's disk reserve is out, or room would take what events or alarm pictures need",
  CHUNK_UNREADABLE:
    "a picture chunk, or an update server's answer, could not be read (no header line, a header that does not validate, more data than it may carry)",
  MEDIA_NOT_FOUND: 'no stored picture has this id (expired or evicted)',
  MEDIA_OFF:
    'media.upload.mode is off: no picture is sent, nor a snapshot taken, on request (the request is recorded as media.requested)',
  NO_SNAPSHOT: "the camera's profile names no snapshot: it gives no picture",
  // Alarms and county commands
  UNKNOWN_ALERT: 'no alert has this id (acknowledged long ago, or never raised here)',
  NOT_ACKNOWLEDGED: 'the alert is not acknowledged yet: `clear` ends what an `ack` started (ack it first)',
  NO_SIRENS: 'no sirens are configured (alarms.sirens)',
  LOGS_UNAVAILABLE:
    'the agent keeps no log lines in memory (it was not started by the CLI), so `logs` has none to give',
  UPDATE_PENDING:
    'an update waits (being fetched, or staged for the apply step) or a config or flows push is on probation: send the update again after its event',
  SAME_VERSION: 'the update names the release that runs already: nothing is fetched',
  UPDATE_UNREACHABLE:
    "the update's manifest.json, manifest.sig or a file could not be fetched from its URL (network, HTTP status, a redirect to another host, too large) or from the county's update server over MQTT (no answer in 4 tries, a refusal), retries included",
  UPDATE_FILE_MISMATCH:
    "an update's file did not arrive with the size and sha256 its manifest names: the staged files are removed (update.refused says which)",
  UPDATE_INVALID: "the update's manifest.json is not a release manifest, or names another version than the command",
  UPDATE_NO_ROOM:
    "the update's files would leave less free disk than the outbox's reserve for alarms: nothing is fetched",
  RESTART_UNAVAILABLE: 'the agent was not started by the CLI, so nothing can start it again after a `restart`',
  REBOOT_UNAVAILABLE:
    'the agent runs unprivileged and cannot reboot the gateway (`restart` restarts the agent; a technician reboots on site)',
  UNKNOWN_COMMAND: 'the county sent a command this gateway does not know',
  MALFORMED: 'the command payload is not JSON, or not {id?, args?, expiresAt?, sentAt?}',
  INVALID_ARGS: "the command's arguments do not validate; every problem is named",
  TOO_LARGE: 'the command payload is over the size limit',
  RETAINED: 'a retained command is refused (it would run again at every connect)',
  EXPIRED:
    'a command arrived after the time it was good for (expiresAt, MQTT 5 message expiry, or 60 s after sentAt for an actuation command)',
  NO_EXPIRY:
    'an actuation command (output, siren-test, snapshot, restart, config.apply, flows.apply, update) did not say how long it is good for',
  UNSIGNED: 'a county key is configured (county.keys) and the command is not a signed envelope {signed, keyId, sig}',
  UNKNOWN_KEY: "a signed command names a keyId the gateway's config does not list (county.keys)",
  BAD_SIGNATURE:
    'a signed command\'s signature does not verify: ed25519 over the UTF-8 bytes of "signed", with the key its keyId names',
  WRONG_TARGET: 'a signed command names another command or another gateway than the topic it came on',
  REPLAYED: 'a signed command whose nonce a command that ran already carried (a replay), refused until its expiry',
  BAD_RESPONSE_TOPIC: "the MQTT 5 response topic lies outside the gateway's reply namespace",
  FAILED: 'a command failed for a reason that has no code of its own (the message says why)',
  TIMEOUT: 'an operation did not finish within its time limit',
  PUBLISH_FAILED:
    'a publish to the county was not acknowledged (the link dropped, the broker refused it): the events go again',
  SUBSCRIBE_FAILED:
    "the broker refused the subscription to the county's commands (an ACL): commands cannot reach this gateway",
  // The agent's own process
  UNCAUGHT:
    'an error no part of the agent caught: the outbox is flushed, the agent stops and exits 1 (systemd starts it again)',
  STOP_FAILED: 'a part of the agent did not stop cleanly or within its limit while the agent stopped',
  EVENT_LOOP_BLOCKED:
    'the event loop was blocked for longer than the watchdog ping interval (a slow card, a long garbage collection)',
  WATCHDOG_WITHHELD:
    'the watchdog ping is withheld because a vital part is stuck (the reason says which): systemd restarts the agent if it lasts',
  NOTIFY_FAILED: 'systemd-notify could not be run or failed: systemd may not hear that the agent is ready or alive',
  // Node-RED flows (requests from the flows' child process)
  NOT_FLOW_WRITABLE: 'a flow asked for an output not declared flow-writable (outputs.<name>.flowWritable: true)',
  RATE_LIMITED:
    'a flow asked for outputs, alerts or snapshots, or the county for pictures or snapshots, faster than the agent allows; the request was refused (the message says when the next is allowed)',
  CHANNEL_FRAME:
    "a frame on the Node-RED channel is over its direction's size limit or not JSON: the connection is dropped (a child that sent it is killed)",
  HOST_UNRESOLVED:
    "a Modbus TCP bus's host name does not resolve, so the flows' unit cannot deny it (IPAddressDeny takes addresses; exit 2)",
  CODE_UNREACHABLE:
    "the flows' user cannot enter a folder down to the Node-RED child's code (a checkout in a 0700 folder): chmod o+x it or install under /opt",
  NODE_RED_FAILED:
    'the Node-RED child could not be started, stopped, answered no more, went over its memory, or broke its channel: it is restarted (in safe mode after a crash loop)',
  NODE_RED_LOG:
    'Node-RED or a flow logged a warning or an error (node.warn, node.error, a crash report): relayed as the child wrote it, at most 20 lines a second',
  NODES_EXCLUDED: 'flows use core nodes that are off on this gateway (nodeRed.allowNodes): those nodes do not run',
  FLOWS_USER:
    "the flows cannot run as their own user (the agent is not root, or the user does not exist): they run as the agent's uid or nobody",
  LOGIN_FAILED:
    'a failed login to the Node-RED editor (logged at most a few times a minute; nodered.login_failed after several in a row)',
  TECHNICIAN_REQUEST_FAILED:
    "a technician's request to the running agent (editor passwords, leaving safe mode) could not be read, taken or carried out",
  NOT_IN_SAFE_MODE: 'asked to leave safe mode while Node-RED is not in it: nothing to do',
  NO_NODE_RED: 'the config has no Node-RED (no enabled nodeRed section): there is no editor or safe mode to act on',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export const isErrorCode = (code: unknown): code is ErrorCode =>
  typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);

export interface GatewayErrorOptions {
  cause?: unknown;
  /** Whether the same operation may succeed later (a busy network, a full queue), for callers that retry. */
  retryable?: boolean;
  /** Structured facts for logs and events (a modem's +CMS cause, a unit id), never parsed from the message. */
  detail?: Readonly<Record<string, string | number | boolean | null>>;
}

/** Typed errors: a class with a stable code, so callers branch on codes, not messages. */
// eslint-disable-next-line no-restricted-syntax -- the one class that extends Error: every other error extends this
export class GatewayError extends Error {
  readonly retryable: boolean | undefined;
  readonly detail: Readonly<Record<string, string | number | boolean | null>>;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: GatewayErrorOptions,
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.retryable = options?.retryable;
    this.detail = options?.detail ?? {};
  }
}

/** The `code` of an error thrown by something else (Node's fs, SQLite, a library), if it has one. */
export function foreignCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** A message for any thrown value (libraries throw strings and plain objects too). */
export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The fields of a log line about a failure, in the one idiom every warn and error line uses. */
export type FailureFields<C extends object> = { code: ErrorCode; err?: string } & C;

/**
 * `logger.warn(failure('BUS_ERROR', err, { unitId }), 'modbus device offline')`, or with no error
 * `failure('TIMEOUT', null, { limitMs })`: the code is the error's own when it is a GatewayError,
 * else the one named here; `err` is always the message (a string, at most 1000 characters), so
 * a log reader meets one shape, never pino's serialised Error beside a string.
 * The context may not carry its own `code` or `err` (a second key of that name in the line).
 */
export function failure<C extends object & { code?: never; err?: never } = Record<never, never>>(
  code: ErrorCode,
  err?: unknown,
  context?: C,
): FailureFields<C> {
  const own = err instanceof GatewayError ? err.code : code;
  // Bounded: a flow's or a library's message can be any size, and the log is on the SD card.
  const fields = err === undefined || err === null ? {} : { err: errorMessage(err).slice(0, 1000) };
  return { code: own, ...fields, ...context } as FailureFields<C>;
}

/** The code a command reply or a log line carries for any error: ours as is, anything else FAILED. */
export const replyCode = (err: unknown): ErrorCode => (err instanceof GatewayError ? err.code : 'FAILED');
