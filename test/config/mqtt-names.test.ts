/** Names that end up in MQTT topics or broker ACLs: every problem refused at load, by path. */
import { describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '../../config/load-config.js';
import { formatProblem } from '../../config/zod-problems.js';

const problemsOf = (mqtt: Record<string, unknown>, extra: Record<string, unknown> = {}): string[] => {
  try {
    validateConfig(
      { version: 1, gateway: { id: 'gw' }, dataDir: '/tmp/x', mqtt: { url: 'mqtt://h', ...mqtt }, ...extra },
      'g.yaml',
    );
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.map(formatProblem);
  }
};

describe('mqtt.topicPrefix and mqtt.clientId', () => {
  it.each([
    [
      'v/+/x',
      'mqtt.topicPrefix: must not contain the MQTT wildcards + or # (they are not allowed in the topics the gateway publishes to) (got "v/+/x")',
    ],
    [
      'v/#',
      'mqtt.topicPrefix: must not contain the MQTT wildcards + or # (they are not allowed in the topics the gateway publishes to) (got "v/#")',
    ],
    [
      '/v/x',
      'mqtt.topicPrefix: must not start or end with "/" (the gateway adds "/events", "/cmd/..." itself) (got "/v/x")',
    ],
    [
      'v/x/',
      'mqtt.topicPrefix: must not start or end with "/" (the gateway adds "/events", "/cmd/..." itself) (got "v/x/")',
    ],
    ['v//x', 'mqtt.topicPrefix: must not contain an empty level "//" (got "v//x")'],
    ['v/\0x', 'mqtt.topicPrefix: must not contain control characters (U+0000 at character 3) (got "v/\\u0000x")'],
    ['v/\tx', 'mqtt.topicPrefix: must not contain control characters (U+0009 at character 3) (got "v/\\tx")'],
    ['v/\u0085x', 'mqtt.topicPrefix: must not contain control characters (U+0085 at character 3) (got "v/\u0085x")'],
    ['v/\uD800x', 'mqtt.topicPrefix: must be valid Unicode text (it has a lone surrogate) (got "v/\\ud800x")'],
    ['$SYS/v', 'mqtt.topicPrefix: must not start with "$" (reserved for broker topics such as $SYS) (got "$SYS/v")'],
    ['v/'.repeat(100) + 'x', 'mqtt.topicPrefix: must be at most 200 bytes'],
  ])('topicPrefix %j is refused', (topicPrefix, message) => {
    expect(problemsOf({ topicPrefix })).toEqual([message]);
  });

  it('reports every problem of one prefix at once', () => {
    expect(problemsOf({ topicPrefix: '/v/#/' })).toEqual([
      'mqtt.topicPrefix: must not contain the MQTT wildcards + or # (they are not allowed in the topics the gateway publishes to) (got "/v/#/")',
      'mqtt.topicPrefix: must not start or end with "/" (the gateway adds "/events", "/cmd/..." itself) (got "/v/#/")',
    ]);
  });

  it.each([
    [
      'gw+1',
      'mqtt.clientId: must not contain +, # or / (brokers put the client id into topic ACL patterns) (got "gw+1")',
    ],
    [
      'gw#',
      'mqtt.clientId: must not contain +, # or / (brokers put the client id into topic ACL patterns) (got "gw#")',
    ],
    [
      'county/gw',
      'mqtt.clientId: must not contain +, # or / (brokers put the client id into topic ACL patterns) (got "county/gw")',
    ],
    ['gw\0', 'mqtt.clientId: must not contain control characters (U+0000 at character 3) (got "gw\\u0000")'],
  ])('clientId %j is refused', (clientId, message) => {
    expect(problemsOf({ clientId })).toEqual([message]);
  });

  it('accepts ordinary prefixes and client ids, including non-ASCII ones', () => {
    expect(problemsOf({ topicPrefix: 'county-7/village/qingshan-03', clientId: 'gw-qingshan-03' })).toEqual([]);
    expect(problemsOf({ topicPrefix: '青山村/网关-1', clientId: 'gw.qingshan_03' })).toEqual([]);
  });

  it('ids the gateway puts into topics itself are plain names (gateway.id; device ids likewise)', () => {
    expect(problemsOf({}, { gateway: { id: 'gw/+' } })).toEqual([
      'gateway.id: must be 1-64 chars of letters, digits, _ . - (starting with a letter or digit)',
    ]);
    expect(problemsOf({}, { devices: [{ id: 'door#1', driver: 'synthetic' }] })).toEqual([
      'devices[0].id: must be 1-64 chars of letters, digits, _ . - (starting with a letter or digit)',
    ]);
  });

  it('a NUL in a path is refused by path, not thrown later by the file system', () => {
    expect(problemsOf({ tls: { ca: '/etc/ca\0.pem' } }, { dataDir: '/var/lib/vg\0' })).toEqual([
      'dataDir: must not contain control characters (U+0000 at character 12) (got "/var/lib/vg\\u0000")',
      'mqtt.tls.ca: must not contain control characters (U+0000 at character 8) (got "/etc/ca\\u0000.pem")',
    ]);
  });
});
