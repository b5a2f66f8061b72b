/** The `nodeRed` section of the gateway config (docs/technician.md, "Node-RED"): the embedded editor and its child process. */
import { z } from 'zod';
import { CORE_NODE_GROUPS } from '../../core/contracts/core-nodes.js';
import { intIn, pathString, secretRef } from './fields.js';

/**
 * The shortest editor password `check-config` and the agent accept: an editor login is full
 * control of the gateway, and the editor may be on a LAN. Checked in the schema for a password
 * written in the config, and where the secret is read (config/load-config.ts) for {env} and {file}.
 */
export const EDITOR_PASSWORD_MIN = 10;
/** bcrypt reads only the first 72 bytes: a longer password would let in anyone who knows its start. */
export const EDITOR_PASSWORD_MAX_BYTES = 72;

/** Why a password cannot be an editor password, or null. */
export function editorPasswordProblem(password: string): string | null {
  if (password.length < EDITOR_PASSWORD_MIN) return `at least ${EDITOR_PASSWORD_MIN} characters`;
  const bytes = Buffer.byteLength(password, 'utf8');
  if (bytes > EDITOR_PASSWORD_MAX_BYTES)
    return `at most ${EDITOR_PASSWORD_MAX_BYTES} bytes (bcrypt ignores the rest), got ${bytes}`;
  return null;
}

export const nodeRedSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('false: the section is kept but Node-RED does not run'),
  host: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('Where the editor listens (loopback by default; a LAN address lets technicians in from a laptop)'),
  port: intIn(0, 65535).default(1880).describe('0: any free port (tests)'),
  users: z
    .array(
      z.strictObject({
        username: z.string().min(1),
        password: secretRef
          .superRefine((r, ctx) => {
            const problem = typeof r === 'string' ? editorPasswordProblem(r) : null;
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          })
          .describe(
            `At least ${EDITOR_PASSWORD_MIN} characters and at most ${EDITOR_PASSWORD_MAX_BYTES} bytes (checked where the secret is read too)`,
          ),
      }),
    )
    .min(1, { error: 'at least one user: the editor always asks for a login, on loopback too' })
    .describe('Who may log into the editor (the password is hashed with bcrypt at start)'),
  credentialSecret: secretRef.describe("Encrypts the flows' credentials file"),
  flowFile: pathString.default('flows.json').describe('In dataDir/node-red'),
  safeMode: z.boolean().default(false).describe('Start with the flows stopped'),
  httpNodeRoot: z
    .union([z.literal(false), z.string().regex(/^\//, { error: 'must start with /' })])
    .default(false)
    .describe("Where flows' HTTP-in nodes are served (false: nowhere)"),
  memoryMb: intIn(48, 4096).default(128).describe("The child's V8 old-space limit (--max-old-space-size)"),
  memoryBoundMb: intIn(64, 16384)
    .optional()
    .describe(
      "The child's whole RSS, sampled every heartbeat; over it the child is killed (default memoryMb * 1.5 + 64)",
    ),
  user: z
    .string()
    .min(1)
    .default('village-gateway-flows')
    .describe('Who the child runs as when the agent is root (nobody when that user does not exist)'),
  launch: z
    .enum(['spawn', 'systemd'])
    .default('spawn')
    .describe(
      "spawn: the agent starts the child; systemd: the flows' own unit does, and connects to runtimeDir/flows.sock",
    ),
  runtimeDir: pathString
    .optional()
    .describe("Where the channel socket is (launch: systemd), reachable by the flows' group only; default dataDir/run"),
  allowNodes: z
    .array(z.enum(CORE_NODE_GROUPS))
    .default([])
    .describe(
      'Core nodes that reach the OS or raw sockets, off by default, that the flows may use anyway: each one named weakens the boundary between the flows and the gateway (docs/technician.md, "Node-RED")',
    ),
});
