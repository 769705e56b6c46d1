import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";

/**
 * File permissions of the embedded database: the data directory is created 0700, the SQLite file and
 * its -wal / -shm files are 0600. The database file is created 0600 before SQLite opens it (SQLite
 * gives the -wal and -shm files the database file's mode), and existing files that are readable or
 * writable by group or others are tightened to 0600 when the store opens (reported once through
 * `notice`). An existing data directory is not changed (it may be a directory the operator chose);
 * a group- or world-accessible one is reported. No-op on Windows.
 */
export interface FileModeReport {
  /** Files whose mode was tightened to 0600, with the mode they had. */
  tightened: Array<{ path: string; was: string }>;
  /** Files that could not be tightened (not owned by this user, read-only filesystem). */
  failed: string[];
  /** The existing data directory is accessible to group or others. */
  looseDirectory: boolean;
}

const octal = (mode: number): string => `0${(mode & 0o777).toString(8)}`;
const SKIP = process.platform === "win32";

/** Create the data directory 0700 (if missing). Returns whether an existing one is accessible to group/others. */
export function ensureDataDirectory(dir: string): boolean {
  if (SKIP) {
    mkdirSync(dir, { recursive: true });
    return false;
  }
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700); // the umask may have removed bits but never adds them; make the mode exact
    return false;
  }
  return (statSync(dir).mode & 0o077) !== 0;
}

/** Create `file` empty with mode 0600 if it does not exist (so SQLite never creates it with the umask's 0644). */
export function precreatePrivate(file: string): void {
  if (SKIP || existsSync(file)) return;
  try {
    closeSync(openSync(file, "a", 0o600));
    chmodSync(file, 0o600);
  } catch {
    // SQLite reports an unwritable location with its own error when it opens the file.
  }
}

/** Tighten each existing file to 0600 when group or others have any access. */
export function tightenFiles(files: readonly string[]): Pick<FileModeReport, "tightened" | "failed"> {
  const out: Pick<FileModeReport, "tightened" | "failed"> = { tightened: [], failed: [] };
  if (SKIP) return out;
  for (const path of files) {
    let mode: number;
    try {
      mode = statSync(path).mode;
    } catch {
      continue;
    }
    if ((mode & 0o077) === 0) continue;
    try {
      chmodSync(path, 0o600);
      out.tightened.push({ path, was: octal(mode) });
    } catch {
      out.failed.push(path);
    }
  }
  return out;
}

/** One line for the log about what was found and done, or null when everything was already private. */
export function describeFileModes(dir: string, r: FileModeReport): string | null {
  const parts: string[] = [];
  if (r.tightened.length) parts.push(`tightened ${r.tightened.map((t) => `${t.path} (was ${t.was})`).join(", ")} to 0600`);
  if (r.failed.length) parts.push(`could not tighten ${r.failed.join(", ")} to 0600 (check the owner); they stay readable by others`);
  if (r.looseDirectory) parts.push(`the data directory ${dir} is accessible to group or others; consider chmod 700 ${dir}`);
  return parts.length ? `Database file permissions: ${parts.join("; ")}.` : null;
}
