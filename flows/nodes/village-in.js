'use strict';
/**
 * `village in`: one message per gateway event that passes the node's filter (device id or
 * glob, tag, type or type prefix, least urgent priority). msg.topic is the type, msg.payload
 * the event's data, msg.event the whole envelope (a copy: flows cannot change what other
 * nodes see). The status shows how many events passed, at most once a second.
 */
const link = require('./village-link.js');
const { servePickers } = require('./lib/pickers.js');
const { compileFilter } = require('./lib/filter.js');
const { NOT_CONNECTED } = require('./lib/outcome.js');

module.exports = function (RED) {
  function VillageInNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    let filter;
    try {
      filter = compileFilter({
        device: config.device,
        tag: config.tag,
        types: config.types,
        priority: config.priority,
      });
    } catch (err) {
      node.status({ fill: 'red', shape: 'ring', text: 'village-in.status.invalidFilter' });
      node.error(`village in: ${err.message}`);
      return;
    }
    let passed = 0;
    let shown = -1;
    let lastType = '';
    const show = () => {
      if (passed === shown) return;
      shown = passed;
      node.status(
        passed === 0
          ? link.connected
            ? { fill: 'green', shape: 'ring', text: 'village-in.status.waiting' }
            : { fill: 'yellow', shape: 'ring', text: NOT_CONNECTED }
          : { fill: 'green', shape: 'dot', text: `${passed} ${passed === 1 ? 'event' : 'events'}, last ${lastType}` },
      );
    };
    show();
    const timer = setInterval(show, 1000);
    if (typeof timer.unref === 'function') timer.unref();
    const unsubscribe = link.onEvent((event, meta) => {
      if (!filter(event, meta)) return;
      passed++;
      lastType = event.type;
      const copy = RED.util.cloneMessage(event);
      node.send({ topic: copy.type, payload: copy.data, event: copy, tags: meta ? [...meta.tags] : [] });
    });
    node.on('close', (done) => {
      unsubscribe();
      clearInterval(timer);
      node.status({});
      done();
    });
  }
  RED.nodes.registerType('village in', VillageInNode);
  servePickers(RED, link);
};
