/**
 * Sandbox uids: every live sandbox on a host runs as a uid of its own (60000 + slot), so RLIMIT_NPROC counts the
 * processes of that sandbox only and `kill(-1)` inside reaches nothing outside it. Slots are taken per host, not
 * per worker process: a slot is a lock file `<dir>/<uid>` created exclusively and holding the owner's pid, so two
 * workers on one host never hand out the same uid. A lock whose owner is dead is stale and taken over (renamed
 * away first, so two workers that find it stale at once cannot both win it).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const UID_BASE = 60000;
const UID_SLOTS = 4096;

const LOCK_DIR = process.env.PROMPTCOT_SANDBOX_UID_DIR ?? path.join(os.tmpdir(), 'promptcot-sandbox-uids');

/** Slots this process holds (a fast path, and what release may remove). */
const held = new Set<number>();
let nextHint = 0;

function ownerAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryLock(file: string): boolean {
  try {
    const fd = fs.openSync(file, 'wx', 0o600);
    fs.writeSync(fd, String(process.pid));
    fs.closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return false;
  }
}

function takeOverIfStale(file: string): boolean {
  let owner: number;
  try {
    owner = Number(fs.readFileSync(file, 'utf8').trim());
  } catch {
    return tryLock(file); // released meanwhile
  }
  // an empty file is a lock being written right now: leave it to its owner
  if (Number.isNaN(owner) || owner === 0 || ownerAlive(owner)) return false;
  const tomb = `${file}.stale-${process.pid}-${Date.now()}`;
  try {
    fs.renameSync(file, tomb);
  } catch {
    return false; // somebody else took it over first
  }
  fs.rmSync(tomb, { force: true });
  return tryLock(file);
}

/** A uid no other live sandbox on this host uses. */
export function takeUid(): number {
  fs.mkdirSync(LOCK_DIR, { recursive: true, mode: 0o700 });
  for (let n = 0; n < UID_SLOTS; n++) {
    const slot = (nextHint + n) % UID_SLOTS;
    const uid = UID_BASE + slot;
    if (held.has(uid)) continue;
    const file = path.join(LOCK_DIR, String(uid));
    if (tryLock(file) || takeOverIfStale(file)) {
      held.add(uid);
      nextHint = (slot + 1) % UID_SLOTS;
      return uid;
    }
  }
  throw new Error(`no free sandbox uid slot (${UID_SLOTS} in use under ${LOCK_DIR})`);
}

export function releaseUid(uid: number): void {
  if (!held.delete(uid)) return;
  fs.rmSync(path.join(LOCK_DIR, String(uid)), { force: true });
}

/** Where the slot locks live (tests, diagnostics). */
export function uidLockDir(): string {
  return LOCK_DIR;
}
