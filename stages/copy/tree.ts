// Copying a file or a folder into a new worktree: copy-on-write where the file system can
// (a reflink shares the blocks until one side writes), else a plain copy; never over anything
// already there; symbolic links copied as links, never followed. Folders keep their modes and
// times (npm trusts its hidden lockfile only when no package folder is newer than it); files keep
// their modes and get the time of the copy, which is later than the checkout's, so tools that
// compare a build output with its sources (make, cargo, tsc) find the copy up to date.
import { constants, type Dirent, type Stats } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, readdir, readlink, symlink, utimes } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { isWithin } from '../../core/paths.js';

export interface CopyTotals {
  bytes: number;
  files: number;
  /** Entries left alone because the target already had something there. */
  kept: number;
}

export interface TreeCopyOptions {
  /** The worktree copied from and the one copied into: a link into the first is pointed at the second. */
  sourceRoot: string;
  targetRoot: string;
  signal: AbortSignal;
  /** Told each path this copy made whose folder it did not make, so a rollback removes exactly those. */
  made(path: string): void;
}

/** How many file system calls are in flight at once: enough to keep the thread pool and the disk busy. */
const PARALLEL = 64;

const REFLINK_UNSUPPORTED = new Set(['ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EINVAL', 'ENOSYS', 'EBADF', 'ETXTBSY']);

const exists = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'EEXIST';

type Kind = Pick<Dirent, 'isDirectory' | 'isFile' | 'isSymbolicLink'>;

/**
 * Copies trees; one per stage run, since it learns from its first file whether this file system
 * makes reflinks (`reflinked`), and copies every later file the way that worked.
 */
export class TreeCopier {
  /** Whether files were reflinked: undefined until a file is copied. */
  reflinked: boolean | undefined;
  /** The first error of a copy: every call after it fails too, so the copy stops soon. */
  private failure: unknown;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly options: TreeCopyOptions) {}

  /**
   * Copies `source` (a file, link or folder) to `target`; what is already at `target` stays. When
   * it fails (or is cancelled), nothing of it is still running: a rollback can follow at once.
   */
  async copy(source: string, target: string): Promise<CopyTotals> {
    const totals: CopyTotals = { bytes: 0, files: 0, kept: 0 };
    this.failure = undefined;
    await this.entry(source, target, await this.slot(() => lstat(source)), false, totals);
    return totals;
  }

  /** Runs one file system call when a slot is free; a cancel or an earlier failure stops the copy before the next one. */
  private async slot<T>(call: () => Promise<T>): Promise<T> {
    while (this.running >= PARALLEL) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.options.signal.throwIfAborted();
    if (this.failure !== undefined) throw this.failure;
    this.running++;
    try {
      return await call();
    } catch (err) {
      // Something already there is expected (and kept); anything else stops the copy.
      if (!exists(err)) this.failure ??= err;
      throw err;
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  /**
   * `kind`: what `readdir` said the entry is, or its stats when they were read already.
   * `insideMade`: this copy made the folder `target` goes in, so `target` itself need not be recorded.
   */
  private async entry(source: string, target: string, kind: Kind | Stats, insideMade: boolean, totals: CopyTotals): Promise<void> {
    if (kind.isDirectory()) {
      await this.folder(source, target, 'mode' in kind ? kind : await this.slot(() => lstat(source)), insideMade, totals);
      return;
    }
    try {
      if (kind.isSymbolicLink()) {
        await this.slot(() => this.link(source, target));
      } else if (kind.isFile()) {
        // The size is read alongside the copy, not before it.
        const [stats] = await Promise.all([this.slot(() => lstat(source)), this.slot(() => this.file(source, target))]);
        totals.bytes += stats.size;
        totals.files++;
      } else {
        // Sockets, pipes, devices: nothing a worktree needs a copy of.
        return;
      }
    } catch (err) {
      if (!exists(err)) throw err;
      totals.kept++;
      return;
    }
    if (!insideMade) this.options.made(target);
  }

  private async folder(source: string, target: string, stats: Stats, insideMade: boolean, totals: CopyTotals): Promise<void> {
    let made = true;
    const mode = stats.mode & 0o7777;
    try {
      // Writable while it is filled, whatever the source's mode (a read-only cache folder).
      await this.slot(() => mkdir(target, { mode: mode | 0o700 }));
    } catch (err) {
      if (!exists(err)) throw err;
      // A folder already there is copied into (what it has stays); anything else there wins.
      made = false;
      if (!(await this.slot(() => lstat(target))).isDirectory()) {
        totals.kept++;
        return;
      }
    }
    if (made && !insideMade) this.options.made(target);
    const entries = await this.slot(() => readdir(source, { withFileTypes: true }));
    // Every entry settles before this folder is done, so a failure leaves nothing running.
    const results = await Promise.allSettled(entries.map((e) => this.entry(join(source, e.name), join(target, e.name), e, insideMade || made, totals)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    if (!made) return;
    // Last, as writing into it changed its time.
    if ((mode | 0o700) !== mode) await this.slot(() => chmod(target, mode));
    await this.slot(() => utimes(target, stats.atime, stats.mtime));
  }

  /** A link as it is, except one that points into the source worktree by absolute path: that one points into the target. */
  private async link(source: string, target: string): Promise<void> {
    const to = await readlink(source);
    const { sourceRoot, targetRoot } = this.options;
    const inside = isAbsolute(to) && isWithin(to, sourceRoot);
    await symlink(inside ? join(targetRoot, relative(sourceRoot, to)) : to, target);
  }

  private async file(source: string, target: string): Promise<void> {
    if (this.reflinked !== undefined) {
      await copyFile(source, target, constants.COPYFILE_EXCL | (this.reflinked ? constants.COPYFILE_FICLONE : 0));
      return;
    }
    try {
      await copyFile(source, target, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE_FORCE);
      this.reflinked = true;
    } catch (err) {
      if (!REFLINK_UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
      this.reflinked = false;
      await copyFile(source, target, constants.COPYFILE_EXCL);
    }
  }
}
