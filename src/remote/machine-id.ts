import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * What names this machine in a remote root's identity (the state index is keyed by it, with the root's
 * real path): systemd's machine id where there is one, which survives a rename of the host, else the
 * host name.
 */
export function machineIdentity(): string {
  for (const file of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try {
      const id = readFileSync(file, 'utf8').trim();
      if (/^[0-9a-f]{32}$/.test(id)) return `machine-${id}`;
    } catch {
      // not this one: try the next
    }
  }
  return `host-${hostname()}`;
}
