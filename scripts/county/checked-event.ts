/** An event as the county's delivery checker reads it (delivery-checker.ts, reported-lost.ts). */
export interface CheckedEvent {
  id: string;
  seq: number;
  gatewayId: string;
  bootId: string;
  type: string;
  priority?: string;
  data?: Record<string, unknown>;
  [k: string]: unknown;
}
