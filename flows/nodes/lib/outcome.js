'use strict';
/** How our nodes show the end of a request to the agent: a status dot and done(err). */

/*
 * A status text that is a catalogue key is shown in the editor's language (the editor looks
 * it up, defaulting to the text itself). Those our nodes share live in village-in's catalogue
 * (locales/<lang>/village-in.json, "status"), named with its namespace so any node finds them.
 */
const NOT_CONNECTED = 'node-red-contrib-village/village-in:status.notConnected';
const INVALID_INPUT = 'node-red-contrib-village/village-in:status.invalidInput';

/** A short status text for an error: its code when it has one (NOT_FLOW_WRITABLE, TIMEOUT, ...). */
function errorStatus(err) {
  const code = err && err.code ? String(err.code) : 'error';
  return { fill: 'red', shape: 'dot', text: code };
}

/** A validation failure of an input message: code INVALID_INPUT, shown as a red ring. */
function inputError(message) {
  const err = new Error(message);
  err.code = 'INVALID_INPUT';
  return err;
}

/**
 * Wires a node to the agent's link for its requests, and returns `ask(kind, args, done, onOk)`:
 * args that are an Error (a bad input message) end at once with a red ring; otherwise the
 * request goes, and its end is shown: onOk(result) sends what it must and returns the status to
 * show, a failure shows a red dot with its code; done() either way. A closed node gets no status
 * (its close clears it), only done().
 */
function requests(node, link) {
  let closed = false;
  node.status(link.connected ? {} : { fill: 'yellow', shape: 'ring', text: NOT_CONNECTED });
  node.on('close', (done) => {
    closed = true;
    node.status({});
    done();
  });
  return (kind, args, done, onOk) => {
    if (args instanceof Error) {
      node.status({ fill: 'red', shape: 'ring', text: INVALID_INPUT });
      done(args);
      return;
    }
    link.request(kind, args).then(
      (result) => {
        const status = onOk(result);
        if (!closed && status) node.status(status);
        done();
      },
      (err) => {
        if (!closed) node.status(errorStatus(err));
        done(err);
      },
    );
  };
}

/** A green dot saying what happened and when. */
const doneStatus = (text) => ({ fill: 'green', shape: 'dot', text: `${text} at ${new Date().toLocaleTimeString()}` });

module.exports = { errorStatus, inputError, requests, doneStatus, NOT_CONNECTED };
