'use strict';
/**
 * `village snapshot`: asks the agent for a picture from a camera now (issue 19: a flow may ask
 * for a snapshot). The camera is the node's own, or msg.payload = { snapshot: 'gate-cam',
 * channel? } names another. The agent decides: it refuses a device that is no camera or gives
 * no picture, limits how often per camera, and records the request (media.requested, by
 * node-red). The flow never gets the picture's bytes: it sees camera.picture on `village in`.
 */
const link = require('./village-link.js');
const { servePickers } = require('./lib/pickers.js');
const { doneStatus, inputError, requests } = require('./lib/outcome.js');

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const MAX_CHANNEL = 256;

/** The request args for msg, or an Error saying what is wrong with it. */
function snapshotArgs(config, msg) {
  const p = msg.payload;
  // Only an explicit { snapshot } payload overrides the node: a camera event's data also has a channel.
  const asked = p && typeof p === 'object' && !Array.isArray(p) && p.snapshot !== undefined ? p : null;
  const camera = asked ? asked.snapshot : config.camera;
  const channel = asked ? asked.channel : config.channel;
  if (!camera) return inputError(`no camera: set the node's camera, or msg.payload = { snapshot: 'gate-cam' }`);
  if (typeof camera !== 'string' || !NAME.test(camera))
    return inputError('the camera must be a device id (1-64 letters, digits, _ . -)');
  const args = { camera };
  if (channel !== undefined && channel !== '') {
    const n = Number(channel);
    if (!Number.isInteger(n) || n < 1 || n > MAX_CHANNEL)
      return inputError(`the channel must be a whole number from 1 to ${MAX_CHANNEL}`);
    args.channel = n;
  }
  return args;
}

module.exports = function (RED) {
  function VillageSnapshotNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const ask = requests(node, link);
    node.on('input', (msg, _send, done) => {
      const args = snapshotArgs(config, msg);
      if (!(args instanceof Error)) node.status({ fill: 'blue', shape: 'ring', text: `${args.camera}...` });
      ask('snapshot', args, done, () => doneStatus(`asked ${args.camera}`));
    });
  }
  RED.nodes.registerType('village snapshot', VillageSnapshotNode);
  servePickers(RED, link);
};

module.exports.snapshotArgs = snapshotArgs;
