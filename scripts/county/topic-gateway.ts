/**
 * The broker's ACL (scripts/brokers/county-acl/) makes a message's topic trustworthy, not its
 * payload: a gateway may write anything on its own topics. A message whose `gatewayId` is not
 * its topic's (`<root>/<gatewayId>/...`) is a misconfigured or compromised gateway speaking for
 * another, and is refused as unreadable rather than filed under the other village.
 */
export function gatewayIdMismatch(topicGatewayId: string, bodies: unknown[]): string | null {
  for (const body of bodies) {
    const claimed = (body as { gatewayId?: unknown } | null)?.gatewayId;
    if (claimed !== undefined && claimed !== topicGatewayId)
      return `gatewayId ${JSON.stringify(claimed).slice(0, 80)} is not the topic's ${JSON.stringify(topicGatewayId)}`;
  }
  return null;
}
