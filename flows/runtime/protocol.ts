/**
 * The IPC messages between the agent and this child (plan-10.md). The types are defined in
 * core/contracts/nodered-ipc.ts, because the agent's runtime layer may not import flows/;
 * this module is what the flows side imports.
 */
export type {
  AlertRequestArgs,
  ChildOptions,
  ChildStats,
  ExcludedNodeReport,
  FlowOutputAction,
  FromChild,
  LogLevel,
  LoginFailure,
  OutputRequestArgs,
  RequestKind,
  ToChild,
} from '../../core/contracts/nodered-ipc.js';
export { isFromChild, MAX_EXCLUDED_LISTED } from '../../core/contracts/nodered-ipc.js';
