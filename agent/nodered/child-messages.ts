/**
 * What the Node-RED child says besides its life (ready, pong: the supervisor's): the flows'
 * requests (answered by FlowRequests), its log lines (relayed on a budget: a flow may log in a
 * loop, and the agent's log is on the SD card), failed editor logins, and the nodes it left out.
 */
import type { Logger } from 'pino';
import type { FromChild, ToChild } from '../../core/contracts/nodered-ipc.js';
import { failure } from '../../core/kernel/errors.js';
import { noteExcludedNodes, type ExcludedNodesSummary } from './excluded-nodes.js';
import type { LogBudget } from './log-budget.js';
import { LoginWatch } from './login-watch.js';
import { FlowRequests } from './requests.js';
import type { SupervisorOptions } from './supervisor-options.js';

export type ChildTalk = Extract<FromChild, { t: 'request' | 'log' | 'login_failed' | 'nodes_excluded' }>;

export class ChildMessages {
  private readonly flows: FlowRequests;
  private readonly logins: LoginWatch;
  private requests = 0;
  private excludedNodes: ExcludedNodesSummary | null = null;

  constructor(
    private readonly opts: SupervisorOptions,
    private readonly logBudget: LogBudget,
    monoMs: () => number,
  ) {
    this.flows = new FlowRequests(opts);
    this.logins = new LoginWatch(opts.logger, opts.gatewayId, (e) => opts.ports.emit(e), monoMs);
  }

  /** Handles one message; `send` replies to the child that sent it. */
  handle(m: ChildTalk, log: Logger, send: (reply: ToChild) => void): void {
    switch (m.t) {
      case 'request':
        this.requests += 1;
        this.flows.answer(
          m,
          send,
          (err) =>
            this.logBudget.take() && log.warn(failure('FAILED', err, { kind: m.kind }), 'a flow request was refused'),
        );
        return;
      case 'log':
        return this.logBudget.relay(log, m);
      case 'login_failed':
        return this.logins.note(m.failure);
      case 'nodes_excluded':
        this.excludedNodes = noteExcludedNodes(m, this.opts.gatewayId, this.opts.ports.emit, log);
        return;
    }
  }

  /** Their part of the supervisor's report. */
  describe(): { requests: number; refused: number; excludedNodes: ExcludedNodesSummary | null; loginFailures: number } {
    const { requests, excludedNodes } = this;
    return { requests, refused: this.flows.refused, excludedNodes, loginFailures: this.logins.failures };
  }
}
