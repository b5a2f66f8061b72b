/**
 * Commands from the county on `<prefix>/cmd/<name>`. Every command is validated; anything
 * unknown, malformed, oversized or retained gets an error reply and is logged, and nothing
 * else happens. Replies go to the MQTT 5 response topic with the correlation data, or to
 * `<prefix>/cmd-reply/<name>` for MQTT 3.1.1 clients; they also echo the request's `id`.
 */
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { z } from 'zod';
import { formatProblem, problemsFromZod } from '../../config/zod-problems.js';
import type { Topics } from './topics.js';

const MAX_COMMAND_BYTES = 64 * 1024;

const requestSchema = z.strictObject({
  id: z.string().max(128).optional(),
  args: z.record(z.string(), z.unknown()).default({}),
});

export interface CommandHandler<A extends z.ZodType = z.ZodType> {
  args: A;
  run(args: z.infer<A>): Promise<unknown> | unknown;
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

  constructor(
    private readonly topics: Topics,
    private readonly logger: Logger,
  ) {}

  register<A extends z.ZodType>(name: string, handler: CommandHandler<A>): void {
    this.handlers.set(name, handler as unknown as CommandHandler);
  }

  /** Runs a command and produces its reply; never throws. */
  async execute(name: string, payload: Buffer, retained: boolean): Promise<CommandReply> {
    this.received += 1;
    const fail = (code: string, message: string, id?: string): CommandReply => {
      this.rejected += 1;
      this.logger.warn({ command: name, code, message }, 'command rejected');
      return { v: 1, command: name, ...(id !== undefined ? { id } : {}), ok: false, error: { code, message } };
    };
    if (retained) return fail('RETAINED', 'retained commands are refused (they would run again at every connect)');
    if (payload.length > MAX_COMMAND_BYTES) return fail('TOO_LARGE', `command payload over ${MAX_COMMAND_BYTES} bytes`);
    let json: unknown;
    try {
      json = payload.length === 0 ? {} : JSON.parse(payload.toString('utf8'));
    } catch (err) {
      return fail('MALFORMED', `payload is not JSON: ${(err as Error).message}`);
    }
    const req = requestSchema.safeParse(json);
    if (!req.success) return fail('MALFORMED', problemsFromZod(req.error).map(formatProblem).join('; '));
    const { id, args } = req.data;
    const handler = this.handlers.get(name);
    if (!handler) return fail('UNKNOWN_COMMAND', `unknown command "${name}" (known: ${[...this.handlers.keys()].sort().join(', ')})`, id);
    const parsed = handler.args.safeParse(args);
    if (!parsed.success) return fail('INVALID_ARGS', problemsFromZod(parsed.error).map((p) => formatProblem({ ...p, path: p.path ? `args.${p.path}` : 'args' })).join('; '), id);
    try {
      const result = await handler.run(parsed.data);
      this.logger.info({ command: name, id }, 'command executed');
      return { v: 1, command: name, ...(id !== undefined ? { id } : {}), ok: true, result: result ?? null };
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'FAILED';
      return fail(code, (err as Error).message, id);
    }
  }

  /** Wires the router to a connected client: subscribe, execute, reply. */
  attach(client: MqttClient, protocolVersion: 4 | 5): void {
    client.subscribe(this.topics.commandFilter, { qos: 1 }, (err) => {
      if (err) this.logger.error({ err: err.message }, 'cannot subscribe to commands');
    });
    client.on('message', (topic, payload, packet: IPublishPacket) => {
      const name = this.topics.commandName(topic);
      if (name === null) return;
      void this.execute(name, payload, packet.retain).then((reply) => {
        const responseTopic = protocolVersion === 5 ? packet.properties?.responseTopic : undefined;
        const correlationData = packet.properties?.correlationData;
        client.publish(responseTopic ?? this.topics.reply(name), JSON.stringify(reply), {
          qos: 1,
          ...(protocolVersion === 5 && correlationData ? { properties: { correlationData } } : {}),
        });
      });
    });
  }
}
