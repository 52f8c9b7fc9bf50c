// What the agent announces before the binary frames begin, and what the client accepts.

/**
 * The version of the framed protocol spoken after the preamble. A client talks only to an agent with the same
 * number; bump it on any change a peer of the previous version would misread.
 */
export const AGENT_PROTOCOL_VERSION = 6;

/** The agent's first line on stdout: `TSYNC-AGENT <tsync version> <protocol version>`. */
export const AGENT_HELLO = 'TSYNC-AGENT';

export function agentHelloLine(tsyncVersion: string, protocol: number = AGENT_PROTOCOL_VERSION): string {
  return `${AGENT_HELLO} ${tsyncVersion} ${protocol}\n`;
}
