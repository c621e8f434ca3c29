/**
 * Descriptors a worker inherited from whatever started it (a shell's `exec 7</`, a supervisor) are not
 * close-on-exec, so every process the worker spawns would get them, sandboxes included. Node opens its own
 * descriptors close-on-exec and has no fcntl to mark others, so at start the worker closes every descriptor above
 * 2 that lacks O_CLOEXEC, except the ones it is told to keep (Node's IPC channel, systemd's LISTEN_FDS).
 * The sandboxes do not rely on this: everything inside them closes all descriptors above 2 before a program runs.
 */
import * as fs from 'node:fs';

const O_CLOEXEC = 0o2000000;

/** Descriptors handed over on purpose: Node's IPC channel with its parent, systemd socket activation. */
function keptDescriptors(): Set<number> {
  const keep = new Set<number>();
  const channel = Number(process.env.NODE_CHANNEL_FD);
  if (Number.isInteger(channel)) keep.add(channel);
  const listen = Number(process.env.LISTEN_FDS);
  if (Number(process.env.LISTEN_PID) === process.pid && Number.isInteger(listen))
    for (let i = 0; i < listen; i++) keep.add(3 + i);
  return keep;
}

/** The descriptors above 2 that a spawned process would inherit (no O_CLOEXEC), from /proc/self/fdinfo. */
export function inheritableDescriptors(): number[] {
  const found: number[] = [];
  let names: string[];
  try {
    names = fs.readdirSync('/proc/self/fdinfo');
  } catch {
    return found; // not Linux, or no /proc: nothing to check
  }
  for (const name of names) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || fd <= 2) continue;
    try {
      const flags = /^flags:\s*([0-7]+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
      if (flags && (parseInt(flags[1]!, 8) & O_CLOEXEC) === 0) found.push(fd);
    } catch {
      /* closed meanwhile (the readdir's own descriptor) */
    }
  }
  return found;
}

/** Closes the inherited descriptors (see above); returns the ones it closed. Call it first thing in a worker. */
export function closeInheritedDescriptors(): number[] {
  const keep = keptDescriptors();
  const closed: number[] = [];
  for (const fd of inheritableDescriptors()) {
    if (keep.has(fd)) continue;
    try {
      fs.closeSync(fd);
      closed.push(fd);
    } catch {
      /* already closed */
    }
  }
  return closed;
}
