/** The serial decoding path without a port: bytes -> records -> fields -> events, for fixtures and fuzz. */
import type { EventInput } from '../../core/contracts/event.js';
import { requireProfile } from '../../config/load-profile.js';
import { deviceSchema, type SerialDeviceConfig } from '../../config/schema/devices.js';
import { EventMapper } from '../../drivers/serial/event-mapper.js';
import { FrameFramer } from '../../drivers/serial/frame-framer.js';
import { LineFramer } from '../../drivers/serial/line-framer.js';
import { recordDecoder } from '../../drivers/serial/record-decoder.js';

export function serialPipeline(profileId: string, sensors: Record<string, { id: string; role?: string }> = {}) {
  const profile = requireProfile(profileId, 'serial');
  const device = deviceSchema.parse({
    id: 'rx',
    driver: 'serial',
    path: '/dev/null',
    profile: profileId,
    sensors,
  }) as SerialDeviceConfig;
  const f = profile.framing;
  const lines = f.kind === 'line' ? new LineFramer(f.delimiter, f.maxLength) : null;
  const frames = f.kind === 'frame' ? new FrameFramer({ ...f }) : null;
  const decode = recordDecoder(profile.decode);
  const mapper = new EventMapper(profile, device);
  const events: EventInput[] = [];
  let undecodable = 0;
  const onRecord = (r: string | Buffer, now: number) => {
    const fields = decode(r);
    if (!fields) return void (undecodable += 1);
    const ev = mapper.map(fields, now);
    if (ev) events.push(ev);
  };
  return {
    profile,
    events,
    lines,
    frames,
    mapper,
    get undecodable() {
      return undecodable;
    },
    push(bytes: Buffer | string, nowMs = 0) {
      const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
      if (lines) lines.push(b, (l) => onRecord(l, nowMs));
      else frames!.push(b, nowMs, (fr) => onRecord(fr, nowMs));
    },
  };
}
