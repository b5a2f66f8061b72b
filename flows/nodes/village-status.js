'use strict';
/**
 * `village status`: on any input, asks the agent for its status (gateway, devices, outbox
 * backlog, uplink) and sends it on as msg.payload.
 */
const link = require('./village-link.js');
const { doneStatus, requests } = require('./lib/outcome.js');

module.exports = function (RED) {
  function VillageStatusNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const ask = requests(node, link);
    node.on('input', (msg, send, done) =>
      ask('status', {}, done, (result) => {
        msg.payload = result;
        send(msg);
        return doneStatus('asked');
      }),
    );
  }
  RED.nodes.registerType('village status', VillageStatusNode);
};
