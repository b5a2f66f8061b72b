'use strict';
/**
 * The editor's pickers: `GET village-gateway/devices` on the admin API answers what the running
 * config offers a flow (the devices whose events `village in` sees, with their tags, and the
 * outputs flows may drive), asked of the agent through the link, so a technician picks an id
 * instead of typing it from memory. Served once per process, whichever of our nodes loads first;
 * the editor needs the right to read flows, as for every other admin request.
 */
let served = false;

function servePickers(RED, link) {
  if (served || !RED.httpAdmin) return;
  served = true;
  RED.httpAdmin.get('/village-gateway/devices', RED.auth.needsPermission('flows.read'), (_req, res) => {
    link.request('devices').then(
      (result) => res.json(result),
      // The agent not there (starting, a restart) or refusing: the editor falls back to free text.
      (err) =>
        res.status(503).json({ code: (err && err.code) || 'FAILED', message: String((err && err.message) || err) }),
    );
  });
}

module.exports = { servePickers };
