/** The device end of a pty pair: sends lines or frames, records what the gateway writes back (acks, AT commands). */
import { SerialPort } from 'serialport';

export class SerialDeviceSimulator {
  received = Buffer.alloc(0);
  /** Errors of the device end's port (a write to an unplugged line), kept for the tests to read. */
  readonly errors: string[] = [];
  private port: SerialPort | null = null;

  constructor(
    private readonly path: string,
    private readonly baudRate = 9600,
  ) {}

  async open(): Promise<this> {
    const port = new SerialPort({ path: this.path, baudRate: this.baudRate, autoOpen: false });
    port.on('error', (err) => this.errors.push(err.message)); // an unplug is part of the tests
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('data', (d: Buffer) => (this.received = Buffer.concat([this.received, d])));
    this.port = port;
    return this;
  }

  send(data: Buffer | string): Promise<void> {
    const port = this.port;
    if (!port) throw new Error('simulated serial device is not open');
    return new Promise((resolve, reject) =>
      port.write(data, (err) => (err ? reject(err) : port.drain(() => resolve()))),
    );
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
