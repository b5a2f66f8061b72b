'use strict';
/**
 * `village status`: on any input, asks the agent for its status (gateway, devices, outbox
 * backlog, uplink) and sends it on as msg.payload.
 */
const link = require('./village-link.js');
const { errorStatus } = require('./lib/outcome.js');

module.exports = function (RED) {
  function VillageStatusNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    let closed = false;
    node.status(link.connected ? {} : { fill: 'yellow', shape: 'ring', text: 'not connected' });
    node.on('input', (msg, send, done) => {
      link.request('status', {}).then(
        (result) => {
          if (!closed) node.status({ fill: 'green', shape: 'dot', text: `at ${new Date().toLocaleTimeString()}` });
          msg.payload = result;
          send(msg);
          done();
        },
        (err) => {
          if (!closed) node.status(errorStatus(err));
          done(err);
        },
      );
    });
    node.on('close', (done) => {
      closed = true;
      node.status({});
      done();
    });
  }
  RED.nodes.registerType('village status', VillageStatusNode);
};
