'use strict';
/**
 * The in-child link our nodes talk to the agent through (plan-10.md, "IPC protocol").
 *
 *   link.onEvent(listener) -> unsubscribe   listener(event, meta): meta.tags are the device's tags
 *   link.request(kind, args) -> Promise      rejects with an Error whose .code is the agent's code
 *   link.attach(transport) / link.detach()   transport: { send(msg), onMessage(cb) -> unsubscribe? }
 *
 * In:  { t: 'event', event, tags? }   { t: 'reply', id, ok: true, result } | { t: 'reply', id, ok: false, error }
 * Out: { t: 'request', id, kind, args }
 *
 * Before attach a request fails at once with NOT_CONNECTED and events are simply not
 * delivered (there are none). A request the agent does not answer within timeoutMs fails
 * with TIMEOUT; a reply that comes later is ignored (counted in stats.lateReplies).
 *
 * One link per process, whatever path the file was required by: it lives on globalThis
 * under a registered symbol, so the runtime that attaches IPC and the nodes Node-RED loads
 * always share it.
 */

const DEFAULT_TIMEOUT_MS = 5000;

/** An Error with the agent's error code, as the nodes report it through done(err). */
function linkError(code, message) {
  const err = new Error(message);
  err.code = code;
  return err;
}

class VillageLink {
  constructor(options) {
    this.timeoutMs = (options && options.timeoutMs) || DEFAULT_TIMEOUT_MS;
    this.listeners = new Set();
    this.pending = new Map();
    this.nextId = 1;
    this.transport = null;
    this.unsubscribeTransport = null;
    this.stats = { events: 0, listenerErrors: 0, requests: 0, timeouts: 0, lateReplies: 0 };
  }

  get connected() {
    return this.transport !== null;
  }

  /** Calls listener(event, meta) for every event from the agent; returns the unsubscribe function. */
  onEvent(listener) {
    if (typeof listener !== 'function') throw new TypeError('onEvent needs a function');
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Starts speaking the protocol over transport; a link already attached is detached first. */
  attach(transport) {
    if (!transport || typeof transport.send !== 'function' || typeof transport.onMessage !== 'function')
      throw new TypeError('a transport is { send(msg), onMessage(cb) }');
    if (this.transport) this.detach();
    this.transport = transport;
    const off = transport.onMessage((msg) => this.receive(msg));
    this.unsubscribeTransport = typeof off === 'function' ? off : null;
  }

  /** Stops using the transport: every request still waiting fails with NOT_CONNECTED. */
  detach() {
    if (this.unsubscribeTransport) this.unsubscribeTransport();
    this.unsubscribeTransport = null;
    this.transport = null;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) {
      clearTimeout(p.timer);
      p.reject(linkError('NOT_CONNECTED', `the link to the agent was closed before it answered '${p.kind}'`));
    }
  }

  /** Asks the agent for something ('output', 'alert', 'status'); resolves with its result. */
  request(kind, args, options) {
    if (typeof kind !== 'string' || kind === '')
      return Promise.reject(linkError('INVALID_ARGS', 'a request needs a kind'));
    const transport = this.transport;
    if (!transport) return Promise.reject(linkError('NOT_CONNECTED', 'not connected to the gateway agent'));
    const timeoutMs = (options && options.timeoutMs) || this.timeoutMs;
    const id = this.nextId++;
    this.stats.requests++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.stats.timeouts++;
        reject(linkError('TIMEOUT', `the gateway agent did not answer '${kind}' within ${timeoutMs} ms`));
      }, timeoutMs);
      if (typeof timer.unref === 'function') timer.unref();
      this.pending.set(id, { kind, resolve, reject, timer });
      try {
        transport.send({ t: 'request', id, kind, args: args === undefined ? {} : args });
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(linkError('NOT_CONNECTED', `cannot reach the gateway agent: ${(e && e.message) || e}`));
      }
    });
  }

  /** One message from the agent. Anything that is not ours is ignored (the transport may carry others). */
  receive(msg) {
    if (!msg || typeof msg !== 'object') return;
    if (msg.t === 'event') {
      if (!msg.event || typeof msg.event !== 'object') return;
      this.stats.events++;
      const meta = { tags: Array.isArray(msg.tags) ? msg.tags : [] };
      for (const listener of [...this.listeners]) {
        // One node's failure must not keep the event from the others.
        try {
          listener(msg.event, meta);
        } catch {
          this.stats.listenerErrors++;
        }
      }
    } else if (msg.t === 'reply') {
      const p = this.pending.get(msg.id);
      if (!p) {
        this.stats.lateReplies++;
        return;
      }
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.ok) p.resolve(msg.result);
      else {
        const error = msg.error || {};
        p.reject(linkError(error.code || 'FAILED', error.message || `the gateway agent refused '${p.kind}'`));
      }
    }
  }
}

const KEY = Symbol.for('village-gateway.flows.link');
if (!globalThis[KEY]) globalThis[KEY] = new VillageLink();

module.exports = globalThis[KEY];
module.exports.VillageLink = VillageLink;
module.exports.linkError = linkError;
module.exports.DEFAULT_TIMEOUT_MS = DEFAULT_TIMEOUT_MS;
