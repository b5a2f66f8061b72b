/**
 * The SMS port the local alarms send through. A modem driver provides it; the alarms never
 * know which modem. A failed send rejects with a GatewayError whose `retryable` says whether
 * the same SMS may go through later (network congestion, SIM busy) or never will (a wrong
 * number, no SIM); its `detail.cms` carries the network's +CMS cause where there is one.
 */
export interface SmsReceipt {
  parts: number;
  references: number[];
  encoding: string;
}

export interface SmsSender {
  sendSms(to: string, text: string): Promise<SmsReceipt>;
  readonly ready: boolean;
}

/** What the gateway accepts as a phone number, in config and at send time: an optional + and 3-20 digits. */
export const PHONE_NUMBER = /^\+?\d{3,20}$/;
