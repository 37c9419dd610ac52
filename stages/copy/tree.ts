// Copying a file or a folder into a new worktree: copy-on-write where the file system can
// (a reflink shares the blocks until one side writes), else a plain copy; never over anything
// already there; symbolic links copied as links, never followed; modes and times kept, so tools
// that compare times (npm's hidden lockfile, make, build caches) see the copy as up to date.
import { constants, type Stats } from 'node:fs';
import { copyFile, lstat, mkdir, readdir, readlink, symlink, utimes } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';

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

/** How many file system calls run at once: enough to keep the thread pool busy, not enough to flood it. */
const PARALLEL = 16;

const REFLINK_UNSUPPORTED = new Set(['ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EINVAL', 'ENOSYS', 'EBADF', 'ETXTBSY']);

/**
 * Copies trees; one per stage run, since it learns on its first file whether this file system
 * makes reflinks (`reflinked`), and copies every later file the way that worked.
 */
export class TreeCopier {
  /** Whether files were reflinked: undefined until the first file is copied. */
  reflinked: boolean | undefined;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly options: TreeCopyOptions) {}

  /** Copies `source` (a file, link or folder) to `target`; what is already at `target` stays. */
  async copy(source: string, target: string): Promise<CopyTotals> {
    const totals: CopyTotals = { bytes: 0, files: 0, kept: 0 };
    await this.entry(source, target, false, totals);
    return totals;
  }

  /** Runs one file system call when a slot is free; checks for a cancel first. */
  private async slot<T>(call: () => Promise<T>): Promise<T> {
    while (this.running >= PARALLEL) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.options.signal.throwIfAborted();
    this.running++;
    try {
      return await call();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  /** `insideMade`: the folder `target` goes in was made by this copy, so `target` need not be recorded. */
  private async entry(source: string, target: string, insideMade: boolean, totals: CopyTotals): Promise<void> {
    const stats = await this.slot(() => lstat(source));
    const existing = await this.slot(() => lstat(target).catch(() => undefined));
    if (stats.isDirectory()) {
      if (existing && !existing.isDirectory()) {
        totals.kept++;
        return;
      }
      const made = !existing;
      if (made) {
        await this.slot(() => mkdir(target, { mode: stats.mode & 0o7777 }));
        if (!insideMade) this.options.made(target);
      }
      const names = await this.slot(() => readdir(source));
      await Promise.all(names.map((name) => this.entry(join(source, name), join(target, name), insideMade || made, totals)));
      // Last, as writing into it changed its time.
      if (made) await this.slot(() => utimes(target, stats.atime, stats.mtime));
      return;
    }
    if (existing) {
      totals.kept++;
      return;
    }
    if (stats.isSymbolicLink()) {
      await this.slot(() => this.link(source, target));
    } else if (stats.isFile()) {
      await this.slot(() => this.file(source, target, stats));
      totals.bytes += stats.size;
      totals.files++;
    } else {
      // Sockets, pipes, devices: nothing a worktree needs a copy of.
      return;
    }
    if (!insideMade) this.options.made(target);
  }

  /** A link as it is, except one that points into the source worktree by absolute path: that one points into the target. */
  private async link(source: string, target: string): Promise<void> {
    const to = await readlink(source);
    const { sourceRoot, targetRoot } = this.options;
    const rel = isAbsolute(to) ? relative(sourceRoot, to) : undefined;
    const inside = rel !== undefined && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
    await symlink(inside ? join(targetRoot, rel) : to, target);
  }

  private async file(source: string, target: string, stats: Stats): Promise<void> {
    if (this.reflinked === undefined) {
      try {
        await copyFile(source, target, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE_FORCE);
        this.reflinked = true;
      } catch (err) {
        if (!REFLINK_UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
        this.reflinked = false;
        await copyFile(source, target, constants.COPYFILE_EXCL);
      }
    } else {
      await copyFile(source, target, constants.COPYFILE_EXCL | (this.reflinked ? constants.COPYFILE_FICLONE : 0));
    }
    await utimes(target, stats.atime, stats.mtime);
  }
}
