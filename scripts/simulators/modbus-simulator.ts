/**
 * Simulated Modbus devices that behave like our profiles, served by modbus-serial's own
 * servers over TCP or a serial line (a socat pty pair). Inputs can be toggled; every write
 * is recorded; a unit can be made silent (a dead unit on the bus: requests time out), slow
 * (answers late) or faulty (answers every request with a Modbus exception), and noise can
 * be put on a serial line. Used by the tests, the demo and the benchmarks.
 */
import * as modbusSerial from 'modbus-serial';
import type { IServiceVector, ServerTCP as ServerTCPType, ServerSerial as ServerSerialType } from 'modbus-serial';
import type { SerialPort } from 'serialport';
import type { ModbusProfile, ModbusTable } from '../../config/schema/profile.js';
import { pointWidth } from '../../drivers/modbus/register-codec.js';

export interface RecordedWrite {
  unitId: number;
  fc: 5 | 6;
  address: number;
  /** For FC05 the server reduces the value to on/off. */
  value: number | boolean;
  atMs: number;
}

export class SimulatedUnit {
  /** Input values by profile input name (booleans or numbers). */
  readonly values = new Map<string, number | boolean>();
  readonly coils = new Map<number, boolean>();
  readonly registers = new Map<number, number>();
  dead = false;
  /** Answers every request with this Modbus exception code (4: device failure, 6: busy), or null. */
  exception: number | null = null;
  /** Answers this many ms late (a slow unit, or a busy TCP gateway in front of it). */
  replyDelayMs = 0;
  /** Runs before each answer: e.g. noise put on the line just ahead of this unit's reply. */
  beforeReply: (() => Promise<void>) | null = null;
  reads = 0;
  /** When each poll began (a read of the unit's first input address), for interval checks. */
  readonly pollTimes: number[] = [];
  private readonly firstAddress = new Map<string, number>();

  constructor(
    readonly unitId: number,
    readonly profile: ModbusProfile,
  ) {
    for (const [name, p] of Object.entries(profile.inputs)) {
      this.values.set(name, false);
      this.firstAddress.set(p.table, Math.min(this.firstAddress.get(p.table) ?? Infinity, p.address));
    }
  }

  noteRead(table: ModbusTable, address: number): void {
    this.reads += 1;
    if (this.firstAddress.get(table) === address) this.pollTimes.push(performance.now());
  }

  set(input: string, value: number | boolean): void {
    if (!(input in this.profile.inputs))
      throw new Error(`unit ${this.unitId} (${this.profile.id}) has no input ${input}`);
    this.values.set(input, value);
  }

  /** The bit at a coil/discrete address, from inputs and written coils. */
  bit(table: 'coil' | 'discrete', address: number): boolean | undefined {
    for (const [name, p] of Object.entries(this.profile.inputs)) {
      if (p.table === table && p.address === address) return Boolean(this.values.get(name));
    }
    if (table === 'coil') return this.coils.get(address) ?? false;
    return undefined;
  }

  /** A register at an address, composed from inputs (bitmaps and values) and written registers. */
  register(table: 'holding' | 'input', address: number): number | undefined {
    let found = false;
    let word = 0;
    for (const [name, p] of Object.entries(this.profile.inputs)) {
      if (p.table !== table || address < p.address || address >= p.address + pointWidth(p)) continue;
      found = true;
      const v = this.values.get(name)!;
      if (p.bit !== undefined) word |= (v ? 1 : 0) << p.bit;
      else word = typeof v === 'boolean' ? (v ? 1 : 0) : Math.round(v / p.scale) & 0xffff;
    }
    if (found) return word;
    return table === 'holding' ? this.registers.get(address) : undefined;
  }

  hasTable(table: ModbusTable): boolean {
    return (
      Object.values(this.profile.inputs).some((p) => p.table === table) ||
      (table === 'coil' && Object.values(this.profile.outputs).some((o) => o.write.table === 'coil'))
    );
  }
}

const modbusError = (code: number) => Object.assign(new Error(`modbus exception ${code}`), { modbusErrorCode: code });

export class ModbusSimulator {
  readonly units = new Map<number, SimulatedUnit>();
  readonly writes: RecordedWrite[] = [];
  /** Errors the library reported (sockets reset, writes to an unplugged line), as `where: message`. */
  readonly errors: string[] = [];
  private server: ServerTCPType | ServerSerialType | null = null;
  private serial: SerialPort | null = null;
  port = 0;

  addUnit(unitId: number, profile: ModbusProfile): SimulatedUnit {
    const u = new SimulatedUnit(unitId, profile);
    this.units.set(unitId, u);
    return u;
  }

  unit(unitId: number): SimulatedUnit {
    const u = this.units.get(unitId);
    if (!u) throw new Error(`no simulated unit ${unitId}`);
    return u;
  }

  /** Answers like a real bus: an absent or dead unit says nothing at all. */
  private vector(): IServiceVector {
    const live = (unitID: number, table?: ModbusTable, address?: number) => {
      const u = this.units.get(unitID);
      if (!u || u.dead) return null;
      if (table !== undefined) u.noteRead(table, address!);
      return u;
    };
    // Every answer goes through here: late when the unit is slow, an exception when it is faulty.
    const answer = <T>(
      u: SimulatedUnit,
      cb: (err: Error | null, v: T) => void,
      fallback: T,
      make: () => [Error | null, T],
    ) => {
      const reply = () => {
        if (u.exception !== null) return cb(modbusError(u.exception), fallback);
        const [err, v] = make();
        cb(err, v);
      };
      const send = () => {
        if (!u.beforeReply) return reply();
        u.beforeReply().then(reply, (err: unknown) => {
          this.noteError('beforeReply', err);
          reply();
        });
      };
      if (u.replyDelayMs > 0) setTimeout(send, u.replyDelayMs);
      else send();
    };
    const bit =
      (table: 'coil' | 'discrete') => (addr: number, unitID: number, cb: (err: Error | null, v: boolean) => void) => {
        const u = live(unitID, table, addr);
        if (!u) return; // silence: the master times out
        answer(u, cb, false, () => {
          if (!u.hasTable(table)) return [modbusError(1), false]; // e.g. N4DIH32 does not do FC02
          const v = u.bit(table, addr);
          return v === undefined ? [modbusError(2), false] : [null, v];
        });
      };
    const reg =
      (table: 'holding' | 'input') => (addr: number, unitID: number, cb: (err: Error | null, v: number) => void) => {
        const u = live(unitID, table, addr);
        if (!u) return;
        answer(u, cb, 0, () => {
          const v = u.register(table, addr);
          return v === undefined ? [modbusError(2), 0] : [null, v];
        });
      };
    const write =
      (fc: 5 | 6, apply: (u: SimulatedUnit, addr: number, value: never) => void) =>
      (addr: number, value: never, unitID: number, cb: (err: Error | null) => void) => {
        const u = live(unitID);
        if (!u) return;
        answer(u, cb, undefined, () => {
          apply(u, addr, value);
          this.writes.push({ unitId: unitID, fc, address: addr, value, atMs: performance.now() });
          return [null, undefined];
        });
      };
    return {
      getCoil: bit('coil'),
      getDiscreteInput: bit('discrete'),
      getHoldingRegister: reg('holding'),
      getInputRegister: reg('input'),
      setCoil: write(5, (u, addr, value: boolean) => u.coils.set(addr, value)),
      setRegister: write(6, (u, addr, value: number) => u.registers.set(addr, value)),
    } as IServiceVector;
  }

  async listenTcp(port: number): Promise<this> {
    const { ServerTCP } = modbusSerial as unknown as { ServerTCP: new (v: IServiceVector, o: object) => ServerTCPType };
    const server = new ServerTCP(this.vector(), { host: '127.0.0.1', port, unitID: 255 });
    this.port = port;
    // Lasting listeners: a gateway that drops its socket mid-request is part of the tests.
    server.on('error', (err) => this.noteError('server', err));
    server.on('socketError', (err) => this.noteError('socket', err));
    await new Promise<void>((resolve, reject) => {
      server.on('initialized', () => resolve());
      server.on('serverError', (err) => {
        this.noteError('listen', err);
        reject(err as Error);
      });
    });
    this.server = server;
    return this;
  }

  /**
   * `frameGapMs`: silence that ends a request frame. The library's default (30 ms) is far
   * above a real line's t3.5 (about 4 ms at 9600 baud) and would make the bus look slow.
   */
  async listenSerial(path: string, baudRate = 9600, frameGapMs = 5): Promise<this> {
    const { ServerSerial } = modbusSerial as unknown as {
      ServerSerial: new (v: IServiceVector, o: object) => ServerSerialType;
    };
    const server = await new Promise<ServerSerialType>((resolve, reject) => {
      const s = new ServerSerial(this.vector(), {
        path,
        baudRate,
        unitID: 255,
        interval: frameGapMs,
        openCallback: (err: Error | null) => (err ? reject(err) : resolve(s)),
      });
      // The server's own SerialPort has no error listener in modbus-serial: a reply written
      // to an unplugged line (EIO) would take the test process down.
      serialPortOf(s).on('error', (err: Error) => this.noteError('port', err));
      s.on('error', (err) => this.noteError('server', err));
      s.on('socketError', (err) => this.noteError('socket', err));
    });
    this.server = server;
    this.serial = serialPortOf(server);
    return this;
  }

  /** Puts raw bytes on a serial line (noise, a foreign master, a half frame). */
  noise(bytes: Buffer): Promise<void> {
    const port = this.serial;
    if (!port?.isOpen) throw new Error('noise needs an open serial line (listenSerial)');
    return new Promise((resolve, reject) =>
      port.write(bytes, (err) => (err ? reject(err) : port.drain(() => resolve()))),
    );
  }

  private noteError(where: string, err: unknown): void {
    this.errors.push(`${where}: ${(err as Error)?.message ?? String(err)}`);
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    this.serial = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** ServerSerial's SerialPort (the library exposes it as getPort(), its types do not). */
function serialPortOf(server: ServerSerialType): SerialPort {
  return (server as unknown as { getPort(): SerialPort }).getPort();
}
