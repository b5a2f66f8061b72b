/**
 * In the editor: offers the running config's devices and outputs as suggestions (a datalist) on
 * our nodes' id fields, from `village-gateway/devices` (lib/pickers.js). Free text still works:
 * a gateway the editor cannot ask (agent restarting) leaves the fields as they were, and says so.
 */
(function () {
  if (window.villageGatewayPickers) return;
  var asked = null;
  // The pickers' text lives in village-in's message catalogue (locales/<lang>/village-in.json).
  var t = function (key, params) {
    return RED._('node-red-contrib-village/village-in:pickers.' + key, params);
  };

  function catalogue() {
    if (!asked)
      asked = $.getJSON('village-gateway/devices').then(null, function () {
        asked = null; // ask again next time the dialog opens
        return $.Deferred().resolve(null);
      });
    return asked;
  }

  /** The datalist for an input (created beside it), filled with values; returns nothing. */
  function offer(input, values) {
    var id = input.attr('id') + '-choices';
    var list = $('#' + id);
    if (list.length === 0) list = $('<datalist>').attr('id', id).insertAfter(input);
    input.attr('list', id).attr('autocomplete', 'off');
    list.empty();
    values.forEach(function (v) {
      $('<option>')
        .attr('value', v.value)
        .text(v.label || '')
        .appendTo(list);
    });
  }

  /** A line under the fields: how many devices the running config offers, or why none. */
  function note(form, text) {
    var row = form.find('.village-gw-pickers-note');
    if (row.length === 0) row = $('<div class="form-tips village-gw-pickers-note">').appendTo(form);
    row.text(text);
  }

  window.villageGatewayPickers = {
    /** Device ids (with their tags) on deviceInput; when outputInput is given, that device's flow-writable outputs. */
    attach: function (deviceInput, outputInput) {
      var device = $(deviceInput);
      var form = device.closest('form');
      catalogue().then(function (c) {
        if (!c) return note(form, t('noAnswer'));
        var devices = outputInput
          ? c.outputs
              .map(function (o) {
                return o.device;
              })
              .filter(function (d, i, all) {
                return all.indexOf(d) === i;
              })
              .map(function (d) {
                return { value: d };
              })
          : c.devices.map(function (d) {
              return { value: d.id, label: d.tags.length ? '#' + d.tags.join(' #') : '' };
            });
        offer(device, devices);
        note(form, t(outputInput ? 'writableDevices' : 'devices', { count: devices.length }));
        if (!outputInput) return;
        var outputs = function () {
          offer(
            $(outputInput),
            c.outputs
              .filter(function (o) {
                return o.device === device.val();
              })
              .map(function (o) {
                return { value: o.output };
              }),
          );
        };
        device.on('change input', outputs);
        outputs();
      });
    },
  };
})();
