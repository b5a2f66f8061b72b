'use strict';
/**
 * `village out`: drives one declared output of a device (config device and output). The
 * action is the node's own (on, off, pulse) or, when it is "from msg", msg.payload:
 * 'on' | 'off' | 'pulse' or { action, durationMs }. A pulse needs a positive durationMs
 * (payload, msg.durationMs or the node's). The agent decides: it validates, rate-limits and
 * refuses outputs that are not flow-writable; a refusal ends the message with done(err) and
 * shows the agent's code in the status.
 */
const link = require('./village-link.js');
const { servePickers } = require('./lib/pickers.js');
const { doneStatus, inputError, requests } = require('./lib/outcome.js');

const ACTIONS = ['on', 'off', 'pulse'];
const MAX_PULSE_MS = 3_600_000;

/** The request args for msg, or an Error saying what is wrong with it. */
function outputArgs(config, msg) {
  let action = config.action;
  let durationMs;
  if (action === 'msg' || !action) {
    const p = msg.payload;
    if (typeof p === 'string') action = p.trim().toLowerCase();
    else if (p && typeof p === 'object' && !Array.isArray(p)) {
      action = typeof p.action === 'string' ? p.action.trim().toLowerCase() : p.action;
      durationMs = p.durationMs;
    } else return inputError(`msg.payload must be 'on', 'off', 'pulse' or { action, durationMs }`);
    if (!ACTIONS.includes(action)) return inputError(`action '${action}' is not on, off or pulse`);
  }
  const args = { device: config.device, output: config.output, action };
  if (action === 'pulse') {
    if (durationMs === undefined) durationMs = msg.durationMs;
    if (durationMs === undefined || durationMs === '') durationMs = config.durationMs;
    const ms = Number(durationMs);
    if (!Number.isInteger(ms) || ms <= 0 || ms > MAX_PULSE_MS)
      return inputError(`a pulse needs durationMs, a whole number of ms from 1 to ${MAX_PULSE_MS}`);
    args.durationMs = ms;
  }
  return args;
}

module.exports = function (RED) {
  function VillageOutNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const ask = requests(node, link);
    if (!config.device || !config.output) {
      node.status({ fill: 'red', shape: 'ring', text: 'village-out.status.noDeviceOutput' });
      node.error('village out: set the device and the output to drive');
    }
    node.on('input', (msg, _send, done) => {
      if (!config.device || !config.output) {
        done(inputError('village out: no device or output configured'));
        return;
      }
      const args = outputArgs(config, msg);
      if (!(args instanceof Error)) node.status({ fill: 'blue', shape: 'ring', text: `${args.action}...` });
      ask('output', args, done, () =>
        doneStatus(args.action === 'pulse' ? `pulse ${args.durationMs} ms` : args.action),
      );
    });
  }
  RED.nodes.registerType('village out', VillageOutNode);
  servePickers(RED, link);
};

module.exports.outputArgs = outputArgs;
