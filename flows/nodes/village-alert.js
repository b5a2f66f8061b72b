'use strict';
/**
 * `village alert`: raises an alert through the agent, like a rule's alert action: it goes
 * through the outbox to the county, and by SMS when the uplink is down (sms: fallback), always,
 * or never. The message is the node's, or msg.payload (a string) when the node has none; the
 * device is the node's, or msg.event.deviceId (from a `village in`), or none.
 */
const link = require('./village-link.js');
const { doneStatus, inputError, requests } = require('./lib/outcome.js');
const { servePickers } = require('./lib/pickers.js');

const PRIORITIES = ['critical', 'high'];
const SMS = ['fallback', 'always', 'never'];
const MAX_MESSAGE = 500;
const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The request args for msg, or an Error saying what is wrong with it. */
function alertArgs(config, msg) {
  const raw = config.message && config.message.trim() !== '' ? config.message : msg.payload;
  if (typeof raw !== 'string' || raw.trim() === '')
    return inputError('village alert: no message (set one in the node, or send a string in msg.payload)');
  const message = raw.trim();
  if (message.length > MAX_MESSAGE) return inputError(`village alert: the message is over ${MAX_MESSAGE} characters`);
  const priority = config.priority || 'high';
  if (!PRIORITIES.includes(priority))
    return inputError(`village alert: priority '${priority}' is not critical or high`);
  const sms = config.sms || 'fallback';
  if (!SMS.includes(sms)) return inputError(`village alert: sms '${sms}' is not fallback, always or never`);
  const event = msg.event && typeof msg.event === 'object' ? msg.event : undefined;
  const deviceId = config.deviceId || (event ? event.deviceId : undefined);
  if (deviceId !== undefined && (typeof deviceId !== 'string' || !DEVICE_ID.test(deviceId)))
    return inputError(`village alert: '${deviceId}' is not a device id`);
  const args = deviceId === undefined ? { message, priority, sms } : { message, deviceId, priority, sms };
  // The event the message came with (a village in's) is the alert's cause for the county.
  if (event && typeof event.id === 'string' && typeof event.type === 'string' && typeof event.deviceId === 'string')
    args.cause = { id: event.id, type: event.type, deviceId: event.deviceId };
  return args;
}

/** Which flow and node raise the alert, so the county's alert.raised names them (names may be empty). */
function originOf(RED, node) {
  const text = (v, max) => (typeof v === 'string' && v !== '' ? v.slice(0, max) : undefined);
  const origin = { flowId: String(node.z || RED.util.getSetting(node, 'NR_FLOW_ID') || 'unknown'), nodeId: node.id };
  const flowName = text(RED.util.getSetting(node, 'NR_FLOW_NAME'), 200);
  const nodeName = text(node.name, 200);
  if (flowName) origin.flowName = flowName;
  if (nodeName) origin.nodeName = nodeName;
  return origin;
}

module.exports = function (RED) {
  function VillageAlertNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    let raised = 0;
    const ask = requests(node, link);
    node.on('input', (msg, send, done) => {
      const asked = alertArgs(config, msg);
      const args = asked instanceof Error ? asked : { ...asked, origin: originOf(RED, node) };
      ask('alert', args, done, (result) => {
        raised++;
        send({ ...msg, payload: result, alert: asked });
        return doneStatus(`${raised} raised, last`);
      });
    });
  }
  RED.nodes.registerType('village alert', VillageAlertNode);
  servePickers(RED, link);
};

module.exports.alertArgs = alertArgs;
