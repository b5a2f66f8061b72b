'use strict';
/**
 * `village alert`: raises an alert through the agent, like a rule's alert action: it goes
 * through the outbox to the county, and by SMS when the uplink is down (sms: fallback), always,
 * or never. The message is the node's, or msg.payload (a string) when the node has none; the
 * device is the node's, or msg.event.deviceId (from a `village in`), or none.
 */
const link = require('./village-link.js');
const { doneStatus, inputError, requests } = require('./lib/outcome.js');

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
  const deviceId = config.deviceId || (msg.event && typeof msg.event === 'object' ? msg.event.deviceId : undefined);
  if (deviceId !== undefined && (typeof deviceId !== 'string' || !DEVICE_ID.test(deviceId)))
    return inputError(`village alert: '${deviceId}' is not a device id`);
  return deviceId === undefined ? { message, priority, sms } : { message, deviceId, priority, sms };
}

module.exports = function (RED) {
  function VillageAlertNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    let raised = 0;
    const ask = requests(node, link);
    node.on('input', (msg, send, done) => {
      const args = alertArgs(config, msg);
      ask('alert', args, done, (result) => {
        raised++;
        send({ ...msg, payload: result, alert: args });
        return doneStatus(`${raised} raised, last`);
      });
    });
  }
  RED.nodes.registerType('village alert', VillageAlertNode);
};

module.exports.alertArgs = alertArgs;
