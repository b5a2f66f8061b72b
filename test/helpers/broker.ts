/**
 * The tests' broker: a real Mosquitto on a free port. Outside CI, where Mosquitto is not
 * installed, aedes in-process stands in (MQTT 3.1.1 only); with CI=true a missing Mosquitto
 * is a failure, never a skip.
 */
import { AedesBroker } from '../../scripts/brokers/aedes-broker.js';
import { Mosquitto, mosquittoPath, type MosquittoOptions } from '../../scripts/brokers/mosquitto.js';

export interface TestBroker {
  url: string;
  kind: 'mosquitto' | 'aedes';
  stop(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<unknown>;
  dispose(): Promise<void>;
  mosquitto?: Mosquitto;
}

export function requireMosquitto(): string {
  const bin = mosquittoPath();
  if (!bin) throw new Error('mosquitto is not installed (CI installs it; locally: apt-get install -y mosquitto)');
  return bin;
}

export async function startBroker(opts: MosquittoOptions & { needsMosquitto?: boolean } = {}): Promise<TestBroker> {
  const bin = mosquittoPath();
  if (bin) {
    const m = await new Mosquitto(bin, opts).start();
    return {
      get url() {
        return m.url;
      },
      kind: 'mosquitto',
      stop: (s) => m.stop(s),
      start: () => m.start(),
      dispose: () => m.dispose(),
      mosquitto: m,
    };
  }
  if (process.env.CI === 'true' || opts.needsMosquitto || opts.tls || opts.persistence) requireMosquitto();
  const a = await new AedesBroker().start();
  return {
    get url() {
      return a.url;
    },
    kind: 'aedes',
    stop: () => a.stop(),
    start: () => a.start(a.port),
    dispose: () => a.stop(),
  };
}
