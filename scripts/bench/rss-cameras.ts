/**
 * rss.cameras's load: 4 simulated cameras (Hikvision and Dahua in turn) in the agent's config,
 * heartbeats every second, each camera's motion starting or ending every MOTION_EVERY_MS (the
 * debounce off, so each is an event) and an intrusion, an alarm with its ~45 KB picture fetched,
 * stored and uploaded, every INTRUSION_EVERY_MS, the cameras staggered. rss.ts runs the agent
 * under it (the CLI in a child process, as installed) and compares its peak with rss.idle.
 */
import { CameraFleet, type DeviceInput } from './camera-fleet.js';

const CAMERAS = 4;
const PICTURE_BYTES = 45 * 1024;
const MOTION_EVERY_MS = 500;
const INTRUSION_EVERY_MS = 8000;

export interface CameraLoad {
  /** Camera event parts written, intrusions among them. */
  parts: number;
  intrusions: number;
  /** Stream connections the cameras let in (4 when none was cut). */
  connections: number;
}

/** Runs `measure` with the cameras' device entries while the cameras stream; what they wrote. */
export async function underCameraLoad<T>(
  measure: (devices: DeviceInput[]) => Promise<T>,
): Promise<{ measured: T; load: CameraLoad }> {
  const fleet = await CameraFleet.start(CAMERAS, PICTURE_BYTES);
  const load: CameraLoad = { parts: 0, intrusions: 0, connections: 0 };
  const timers: NodeJS.Timeout[] = [];
  let tick = 0;
  timers.push(
    setInterval(() => {
      if (!fleet.allStreaming) return;
      const i = tick++;
      fleet.motion(i, Math.floor(i / CAMERAS) % 2 === 0);
      load.parts += 1;
    }, MOTION_EVERY_MS / CAMERAS),
  );
  let shot = 0;
  timers.push(
    setInterval(() => {
      if (!fleet.allStreaming) return;
      fleet.intrusion(shot, `rss-${shot}`);
      shot += 1;
      load.parts += 1;
      load.intrusions += 1;
    }, INTRUSION_EVERY_MS / CAMERAS),
  );
  try {
    const measured = await measure(fleet.devices());
    load.connections = fleet.cameras.reduce((n, c) => n + c.sim.connections, 0);
    return { measured, load };
  } finally {
    for (const t of timers) clearInterval(t);
    await fleet.close();
  }
}
