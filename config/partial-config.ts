/**
 * What can still be checked in a config that fails its schema: each device, rule and section
 * parsed on its own, so that a typo in one device does not hide a missing profile in another
 * or a secret nobody can read. A technician fixes the file in one pass, not one stage a run.
 */
import { z } from 'zod';
import { deviceSchema, type DeviceConfig } from './schema/devices.js';
import { pathString, secretRef, type SecretRef } from './schema/fields.js';
import { ruleSchema, type Rule } from './schema/rules.js';

/** What the secret and file checks read: each field taken alone, so a typo beside it hides nothing. */
export interface SecretsView {
  mqtt?: {
    url?: string;
    password?: SecretRef;
    tls?: { ca?: string; cert?: string; key?: string; keyPassphrase?: SecretRef };
  };
  nodeRed?: { credentialSecret?: SecretRef; users: readonly { password?: SecretRef }[] };
  /** Devices with a secret of their own (a camera's password); by the file's index. */
  devices?: readonly (DeviceConfig | undefined)[];
}

/** The parts of a config the checks after the schema read; a valid GatewayConfig is one. */
export interface ConfigView extends SecretsView {
  /** By the file's index; undefined where that device did not parse. */
  devices: readonly (DeviceConfig | undefined)[];
  rules: readonly (Rule | undefined)[];
  /** Every device id the file names, parsed or not: a rule naming one is not "unknown". */
  deviceIds?: readonly string[];
}

export function partialConfig(raw: unknown): ConfigView {
  const top = record(raw);
  const each = <T>(list: unknown, schema: z.ZodType<T>) =>
    (Array.isArray(list) ? list : []).map((x: unknown) => parsed(schema, x));
  const rawDevices = Array.isArray(top.devices) ? (top.devices as unknown[]) : [];
  return {
    devices: each(top.devices, deviceSchema),
    rules: each(top.rules, ruleSchema),
    deviceIds: rawDevices.map((d) => record(d).id).filter((id): id is string => typeof id === 'string'),
    ...secretsView(top),
  };
}

function secretsView(top: Record<string, unknown>): SecretsView {
  const mqtt = record(top.mqtt);
  const tls = top.mqtt && 'tls' in mqtt ? record(mqtt.tls) : undefined;
  const secret = (v: unknown) => parsed(secretRef, v);
  const path = (v: unknown) => parsed(pathString, v);
  const users = Array.isArray(record(top.nodeRed).users) ? (record(top.nodeRed).users as unknown[]) : [];
  return {
    mqtt: {
      url: parsed(z.string(), mqtt.url),
      password: secret(mqtt.password),
      tls: tls && {
        ca: path(tls.ca),
        cert: path(tls.cert),
        key: path(tls.key),
        keyPassphrase: secret(tls.keyPassphrase),
      },
    },
    nodeRed: {
      credentialSecret: secret(record(top.nodeRed).credentialSecret),
      users: users.map((u) => ({ password: secret(record(u).password) })),
    },
  };
}

function parsed<T>(schema: z.ZodType<T>, value: unknown): T | undefined {
  if (value === undefined) return undefined;
  const r = schema.safeParse(value);
  return r.success ? r.data : undefined;
}

const record = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
