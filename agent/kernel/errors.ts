/**
 * One error model: every error the agent raises is a GatewayError with a code from this list.
 * Callers branch on codes, never on messages; command replies, exit reasons and log lines
 * carry the same codes. README's "Error codes" table is checked against this list by a test.
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
  DATA_DIR_LOCKED: 'another agent holds the data folder (exit 2)',
  DATA_DIR_UNUSABLE: 'the data folder cannot be created, written or locked (exit 2)',
  USAGE: 'the command line is wrong (exit 2)',
  // Events and the outbox
  EVENT_INVALID:
    'an event envelope cannot be built (no device id, a malformed type); a payload that does not match its type is kept and counted instead',
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
  // The GSM modem and SMS
  MODEM_NOT_READY: 'the modem is not ready (no line, no SIM, not registered)',
  MODEM_TIMEOUT: 'the modem did not answer an AT command in time',
  MODEM_STOPPED: 'the modem driver stopped while the command waited',
  MODEM_GONE: "the modem's serial line went away while the command waited",
  MODEM_ERROR: 'the modem answered ERROR or +CME ERROR',
  SMS_ERROR: 'the network refused the SMS (+CMS ERROR; retried later when the cause is temporary)',
  INVALID_NUMBER: 'not a phone number (+ and 3-20 digits)',
  // Alarms and county commands
  UNKNOWN_ALERT: 'no alert has this id (acknowledged long ago, or never raised here)',
  NOT_ACKNOWLEDGED: 'the alert is not acknowledged yet: `clear` ends what an `ack` started (ack it first)',
  NO_SIRENS: 'no sirens are configured (alarms.sirens)',
  UNKNOWN_COMMAND: 'the county sent a command this gateway does not know',
  MALFORMED: 'the command payload is not JSON, or not {id?, args?}',
  INVALID_ARGS: "the command's arguments do not validate; every problem is named",
  TOO_LARGE: 'the command payload is over the size limit',
  RETAINED: 'a retained command is refused (it would run again at every connect)',
  BAD_RESPONSE_TOPIC: "the MQTT 5 response topic lies outside the gateway's reply namespace",
  FAILED: 'a command failed for a reason that has no code of its own (the message says why)',
  TIMEOUT: 'an operation did not finish within its time limit',
  // Node-RED flows (requests from the flows' child process)
  NOT_FLOW_WRITABLE: 'a flow asked for an output not declared flow-writable (outputs.<name>.flowWritable: true)',
  RATE_LIMITED: 'a flow asked for outputs or alerts faster than the agent allows; the request was refused',
  CHANNEL_FRAME:
    "a frame on the Node-RED channel is over its direction's size limit or not JSON: the connection is dropped (a child that sent it is killed)",
  HOST_UNRESOLVED:
    "a Modbus TCP bus's host name does not resolve, so the flows' unit cannot deny it (IPAddressDeny takes addresses; exit 2)",
  CODE_UNREACHABLE:
    "the flows' user cannot enter a folder down to the Node-RED child's code (a checkout in a 0700 folder): chmod o+x it or install under /opt",
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

/** The code a command reply or a log line carries for any error: ours as is, anything else FAILED. */
export const replyCode = (err: unknown): ErrorCode => (err instanceof GatewayError ? err.code : 'FAILED');
