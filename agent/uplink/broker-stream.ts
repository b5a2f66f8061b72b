/**
 * The client for the county broker, over a TCP or TLS socket built here for the URLs a gateway
 * uses (mqtt://, tcp://, mqtts://, ssl://) instead of by mqtt.connect. The first mqtt.connect
 * loads every transport mqtt.js knows (WebSocket, SOCKS): measured, about 3 MB of an agent that
 * is meant to idle near 60 MB, for code a gateway never runs. Anything else (ws://, wss://, a
 * URL with credentials or a query, a SOCKS proxy from MQTTJS_SOCKS_PROXY) still goes through
 * mqtt.connect, which knows it. The TLS socket behaves as mqtt.js's own builder does: the
 * server name from the host unless it is an address, and a certificate the CA does not vouch
 * for is an error on the client (with rejectUnauthorized), after which the socket is ended.
 */
import { connect as netConnect, isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import mqtt, { MqttClient, type IClientOptions } from 'mqtt';
import { GatewayError } from '../../core/kernel/errors.js';
import { tls } from '../../core/kernel/lazy-builtins.js';

const PLAIN = new Set(['mqtt:', 'tcp:']);
const SECURE = new Set(['mqtts:', 'ssl:']);

/** A client for `url` (not yet connected until its stream is built: mqtt.js does that at once). */
export function brokerClient(url: string, options: IClientOptions): MqttClient {
  const u = new URL(url);
  const plain = PLAIN.has(u.protocol);
  const secure = SECURE.has(u.protocol) || (plain && options.cert !== undefined && options.key !== undefined);
  const simple = u.username === '' && u.password === '' && u.search === '' && (u.pathname === '' || u.pathname === '/');
  if ((!plain && !secure) || !simple || process.env['MQTTJS_SOCKS_PROXY']) return mqtt.connect(url, options);

  const host = u.hostname.replace(/^\[(.*)\]$/, '$1'); // [::1] -> ::1
  const port = u.port === '' ? (secure ? 8883 : 1883) : Number(u.port);
  const client = new MqttClient((c) => (secure ? tlsSocket(c, host, port, options) : netConnect({ host, port })), {
    ...options,
    protocol: secure ? 'mqtts' : 'mqtt',
    host,
    port,
  });
  client.on('error', () => {}); // as mqtt.connect does; the owner adds its own listener
  return client;
}

/** mqtt.js passes TLS options through to tls.connect; its type leaves the key's passphrase out. */
type TlsClientOptions = IClientOptions & { passphrase?: string };

function tlsSocket(client: MqttClient, host: string, port: number, o: TlsClientOptions) {
  const rejectUnauthorized = o.rejectUnauthorized !== false;
  const opts: ConnectionOptions = {
    host,
    port,
    rejectUnauthorized,
    ...(o.ca !== undefined ? { ca: o.ca } : {}),
    ...(o.cert !== undefined ? { cert: o.cert } : {}),
    ...(o.key !== undefined ? { key: o.key } : {}),
    ...(o.passphrase !== undefined ? { passphrase: o.passphrase } : {}),
  };
  const servername = o.servername ?? (isIP(host) === 0 ? host : undefined);
  if (servername !== undefined) opts.servername = servername;
  const socket = tls().connect(opts);
  const onTlsError = (err: Error) => {
    if (rejectUnauthorized) client.emit('error', err);
    socket.end();
  };
  socket.on('error', onTlsError);
  socket.on('secureConnect', () => {
    if (rejectUnauthorized && !socket.authorized)
      socket.emit('error', new GatewayError('LINK_DOWN', 'TLS not authorized'));
    else socket.removeListener('error', onTlsError);
  });
  return socket;
}
