'use strict';
/** How our nodes show the end of a request to the agent: a status dot and done(err). */

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

module.exports = { errorStatus, inputError };
