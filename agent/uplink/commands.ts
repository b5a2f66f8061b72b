/**
 * Commands from the county on `<prefix>/cmd/<name>`. Every command is validated; anything
 * unknown, malformed, oversized or retained gets an error reply and is logged, and nothing
 * else happens. Replies go to `<prefix>/cmd-reply/<name>`, or to the MQTT 5 response topic
 * when it lies under `<prefix>/cmd-reply/` (anywhere else, such as the gateway's own status
 * topic or another gateway's command topic, the command is refused); MQTT 5 correlation
 * data is echoed, and every reply echoes the request's `id`.
 */
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { z } from 'zod';
import { topicNameProblems } from '../../config/schema/mqtt-names.js';
import { formatProblem, problemsFromZod } from '../../config/zod-problems.js';
import { CommandClock, expiryFields, type Staleness } from './command-expiry.js';
import { TokenBucket } from './token-bucket.js';
import type { CommandSignatures } from './command-signature.js';
import type { NonceStore } from './nonce-store.js';
import type { RefusalCode } from '../../core/contracts/events/commands.js';
import { signedRequestFields, signedUntil, peekId } from './signed-request.js';
import type { Topics } from './topics.js';
import { errorMessage, replyCode, failure, type ErrorCode } from '../../core/kernel/errors.js';

const MAX_COMMAND_BYTES = 64 * 1024;
/**
 * Log lines about commands: a burst, then one a second. Anyone who may publish on the command
 * topic could otherwise write a line to the SD card per message (4,000 commands made 4,027
 * lines); every command is still answered and counted, and the next line says how many were
 * not logged.
 */
const LOG_BURST = 60;
const LOG_PER_SEC = 1;
/** command.refused records: 10, then one every 6 s; the next record counts those left out (a forger's flood fills no card). */
const REFUSALS_BURST = 10;
const REFUSALS_PER_SEC = 1 / 6;

const requestSchema = z.strictObject({
  id: z.string().max(128).optional(),
  args: z.record(z.string(), z.unknown()).default({}),
  ...expiryFields,
});

const signedRequestSchema = requestSchema.extend(signedRequestFields);

/** What a handler may know of the request besides its args (the `id` the county gave it, the key that signed it: for records). */
export interface CommandContext {
  id: string | null;
  keyId: string | null;
}

/** Signed commands (command-signature.ts): the keys, the nonces that ran, and this gateway's id. */
export interface CommandSigning {
  signatures: CommandSignatures;
  nonces: NonceStore;
  gatewayId: string;
}

/** A command refused by the signature gate (or as stale while commands are signed): the agent records it as command.refused. */
export interface Refusal {
  command: string;
  id: string | null;
  code: RefusalCode;
  message: string;
  keyId: string | null;
  /** Refusals since the last record that were not recorded each (over the budget). */
  unrecorded?: number;
}

export interface CommandHandler<A extends z.ZodType = z.ZodType> {
  args: A;
  /** It moves something in the village (an output, the sirens, a camera): it must say how long it is good for. */
  actuation?: boolean;
  run(args: z.infer<A>, ctx: CommandContext): Promise<unknown> | unknown;
}

export interface CommandReply {
  v: 1;
  command: string;
  id?: string;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
}

export class CommandRouter {
  private readonly handlers = new Map<string, CommandHandler>();
  received = 0;
  rejected = 0;
  private readonly lines = new TokenBucket(LOG_PER_SEC, LOG_BURST);
  private unlogged = 0;
  private staleListener: ((name: string, id: string | undefined, why: Staleness) => void) | null = null;
  private refusedListener: ((r: Refusal) => void) | null = null;
  private readonly refusals = new TokenBucket(REFUSALS_PER_SEC, REFUSALS_BURST);
  private unrecorded = 0;

  constructor(
    private readonly topics: Topics,
    private readonly logger: Logger,
    /** Judges expiry (command-expiry.ts); the default trusts the system's wall clock. */
    readonly clock = new CommandClock({ now: Date.now, monoMs: () => performance.now(), synced: () => true }),
    /** Present when the config names county keys: then every command must be signed by one. */
    private readonly signing?: CommandSigning,
  ) {}

  /** Told of every command the signature gate refused (unsigned, unknown key, bad signature, wrong target, replayed, stale). */
  onRefused(listener: (r: Refusal) => void): void {
    this.refusedListener = listener;
  }

  /** Told of every command refused as stale (the agent records it as an event). */
  onStale(listener: (name: string, id: string | undefined, why: Staleness) => void): void {
    this.staleListener = listener;
  }

  register<A extends z.ZodType>(name: string, handler: CommandHandler<A>): void {
    this.handlers.set(name, handler as unknown as CommandHandler);
  }

  /**
   * Runs a command and produces its reply; never throws. `replyRefused` (a response topic
   * outside our reply namespace) refuses it once its id is known, so the refusal echoes it.
   */
  async execute(
    name: string,
    payload: Buffer,
    retained: boolean,
    replyRefused?: string,
    mqttExpirySec?: number,
  ): Promise<CommandReply> {
    this.received += 1;
    const fail = (code: ErrorCode, message: string, id?: string): CommandReply => {
      this.rejected += 1;
      this.log('warn', failure(code, message, { command: name }), 'command rejected');
      return { v: 1, command: name, ...(id !== undefined ? { id } : {}), ok: false, error: { code, message } };
    };
    if (payload.length > MAX_COMMAND_BYTES)
      return fail(
        retained ? 'RETAINED' : 'TOO_LARGE',
        `command payload over ${MAX_COMMAND_BYTES} bytes${retained ? ', and retained' : ''}`,
      );
    let json: unknown;
    let notJson: string | null = null;
    try {
      json = payload.length === 0 ? {} : JSON.parse(payload.toString('utf8'));
    } catch (err) {
      notJson = (err as Error).message;
    }
    // Refusals echo the request's id whenever it could be read, so the county can match them.
    if (retained)
      return fail('RETAINED', 'retained commands are refused (they would run again at every connect)', peekId(json));
    if (notJson !== null) return fail('MALFORMED', `payload is not JSON: ${notJson}`);
    const signing = this.signing?.signatures.required ? this.signing : undefined;
    let keyId: string | null = null;
    const refuse = (code: RefusalCode, message: string, id: string | undefined): CommandReply => {
      if (this.refusals.take() !== 0) this.unrecorded += 1;
      else {
        const left = this.unrecorded > 0 ? { unrecorded: this.unrecorded } : {};
        this.unrecorded = 0;
        this.refusedListener?.({ command: name, id: id ?? null, code, message, keyId, ...left });
      }
      return fail(code, message, id);
    };
    if (signing) {
      const opened = signing.signatures.open(json);
      keyId = opened.keyId;
      if (!opened.ok)
        return opened.code === 'MALFORMED'
          ? fail(opened.code, opened.message, peekId(json))
          : refuse(opened.code, opened.message, peekId(json));
      json = opened.request;
      this.clock.told(signing.nonces.load()); // time never goes back behind what the nonces were judged by
    }
    const req = (signing ? signedRequestSchema : requestSchema).safeParse(json);
    if (!req.success) return fail('MALFORMED', problemsFromZod(req.error).map(formatProblem).join('; '), peekId(json));
    const { id, args, expiresAt, sentAt } = req.data;
    if (signing) {
      const { command, gatewayId } = req.data as z.infer<typeof signedRequestSchema>;
      if (command !== name || gatewayId !== signing.gatewayId)
        return refuse(
          'WRONG_TARGET',
          `signed for command "${command}" on gateway "${gatewayId}", received as "${name}" on "${signing.gatewayId}"`,
          id,
        );
    }
    if (replyRefused !== undefined) return fail('BAD_RESPONSE_TOPIC', replyRefused, id);
    const handler = this.handlers.get(name);
    if (!handler)
      return fail(
        'UNKNOWN_COMMAND',
        `unknown command "${name}" (known: ${[...this.handlers.keys()].sort().join(', ')})`,
        id,
      );
    // A signed command is judged on its signed fields only, and always needs one: its nonce is kept until then.
    const stale = signing
      ? this.clock.judge({ expiresAt, sentAt }, true)
      : this.clock.judge({ expiresAt, sentAt, mqttExpirySec }, handler.actuation === true);
    if (stale !== null) {
      if (signing) return refuse(stale.code, stale.message, id);
      this.staleListener?.(name, id, stale);
      return fail(stale.code, stale.message, id);
    }
    const parsed = handler.args.safeParse(args);
    if (!parsed.success)
      return fail(
        'INVALID_ARGS',
        problemsFromZod(parsed.error)
          .map((p) => formatProblem({ ...p, path: p.path ? `args.${p.path}` : 'args' }))
          .join('; '),
        id,
      );
    if (signing) {
      const { nonce } = req.data as z.infer<typeof signedRequestSchema>;
      if (signing.nonces.seen(nonce))
        return refuse('REPLAYED', `nonce "${nonce}" was used by a command that ran already`, id);
      try {
        signing.nonces.remember(nonce, signedUntil(expiresAt, sentAt));
      } catch (err) {
        return fail(replyCode(err), errorMessage(err), id);
      }
    }
    if (sentAt !== undefined) this.clock.told(sentAt);
    try {
      const result = await handler.run(parsed.data, { id: id ?? null, keyId });
      this.log('info', { command: name, id, ...(keyId !== null ? { keyId } : {}) }, 'command executed');
      return { v: 1, command: name, ...(id !== undefined ? { id } : {}), ok: true, result: result ?? null };
    } catch (err) {
      return fail(replyCode(err), errorMessage(err), id);
    }
  }

  /** A line within the budget, naming the lines left out since the last one. */
  private log(level: 'info' | 'warn', fields: object, msg: string): void {
    if (this.lines.take() !== 0) {
      this.unlogged += 1;
      return;
    }
    this.logger[level](this.unlogged > 0 ? { ...fields, unlogged: this.unlogged } : fields, msg);
    this.unlogged = 0;
  }

  /**
   * Why a response topic may not be used for command `name`, or null when it lies in our reply
   * namespace. Anywhere else a county client could make the gateway publish over its own
   * retained status, or send commands to another gateway in its name.
   */
  responseTopicProblem(topic: string, name: string): string | null {
    const ns = this.topics.replyNamespace;
    const shown = JSON.stringify(topic.length > 200 ? `${topic.slice(0, 200)}...` : topic);
    const instead = `; refused, and this reply went to ${this.topics.reply(name)}`;
    if (!topic.startsWith(ns) || topic.length === ns.length)
      return `response topic ${shown} is outside this gateway's reply namespace ${ns}...${instead}`;
    const problems = topicNameProblems(topic); // a broker would drop us for publishing to it
    return problems.length > 0 ? `response topic ${shown} ${problems[0]!.replace(/ \(got .*\)$/, '')}${instead}` : null;
  }

  /** Wires the router to a connected client: subscribe, execute, reply. */
  attach(client: MqttClient, protocolVersion: 4 | 5): void {
    const v5 = protocolVersion === 5;
    // Retain As Published: without it a broker clears the retain flag on messages it forwards
    // live, so a retained command published while we are connected would look fresh and run
    // (and run again at every reconnect). MQTT 3.1.1 has no such option: there only retained
    // messages delivered when we subscribe can be told apart (docs/county.md, "MQTT contract").
    client.subscribe(this.topics.commandFilter, { qos: 1, ...(v5 ? { rap: true } : {}) }, (err) => {
      // The link went while subscribing: a warning (the next connection subscribes again); a refusal is an error.
      if (err && !client.connected)
        this.logger.warn(failure('LINK_DOWN', err), 'link lost while subscribing to commands');
      else if (err) this.logger.error(failure('SUBSCRIBE_FAILED', err), 'cannot subscribe to commands');
    });
    client.on('message', (topic, payload, packet: IPublishPacket) => {
      const name = this.topics.commandName(topic);
      if (name === null) return;
      const responseTopic = v5 ? packet.properties?.responseTopic : undefined;
      const correlationData = v5 ? packet.properties?.correlationData : undefined;
      const refused = responseTopic === undefined ? null : this.responseTopicProblem(responseTopic, name);
      const expirySec = v5 ? packet.properties?.messageExpiryInterval : undefined;
      void this.execute(name, payload, packet.retain, refused ?? undefined, expirySec).then((reply) => {
        client.publish(
          refused === null && responseTopic !== undefined ? responseTopic : this.topics.reply(name),
          JSON.stringify(reply),
          {
            qos: 1,
            ...(correlationData ? { properties: { correlationData } } : {}),
          },
        );
      });
    });
  }
}
