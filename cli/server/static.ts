// The dashboard's page: the files the page build puts in dist/bin/ui/, served as they are. A
// request never names a path on disk: it names one of the files the folder holds (listed, not
// joined), so `..`, encoded slashes and symlinks lead nowhere.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What every page answer carries. The page has no inline script or style, so the CSP allows
 * none; nothing may frame it (clickjacking its buttons); it sends no Referer anywhere.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
  'cross-origin-resource-policy': 'same-origin',
};

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Where the page's files are: `ui/` beside the built server (dist/bin/ui/). From tsc's output or
 * the sources (tests), the same folder of the package. PIKO_UI_DIR names another (for tests and
 * for working on the page).
 */
export function defaultUiDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PIKO_UI_DIR) return env.PIKO_UI_DIR;
  const candidates = ['./ui/', '../../bin/ui/', '../../dist/bin/ui/'].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
  return candidates.find((dir) => existsSync(`${dir}index.html`)) ?? candidates[0]!;
}

/** The file a page path asks for: `index.html` for `/`, the name for `/ui/<name>`; undefined for anything else. */
export function pageFile(path: string): string | undefined {
  if (path === '/' || path === '/index.html') return 'index.html';
  const name = /^\/ui\/([A-Za-z0-9][A-Za-z0-9._-]*)$/.exec(path)?.[1];
  return name !== undefined && TYPES[extname(name)] !== undefined ? name : undefined;
}

/** The regular files of `dir` (none when it is missing). */
function filesOf(dir: string): Set<string> {
  try {
    return new Set(
      readdirSync(dir, { withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => entry.name),
    );
  } catch {
    return new Set();
  }
}

/** Answers a GET or HEAD for a page path: the file, or a plain 404 that says why. */
export function servePage(dir: string, path: string, method: string | undefined, res: ServerResponse): void {
  const name = pageFile(path);
  const files = filesOf(dir);
  const head = method === 'HEAD';
  if (name === undefined || !files.has(name)) {
    const why = !files.has('index.html')
      ? `This piko was built without its dashboard (${dir} holds no index.html): build it with \`npm run build\` from a checkout that has the page's sources (ui/). The command line works without it.\n`
      : `No page ${path} here: the dashboard is at /.\n`;
    res.writeHead(404, { ...PAGE_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
    res.end(head ? undefined : why);
    return;
  }
  let body: Buffer;
  try {
    body = readFileSync(`${dir}/${name}`);
  } catch (err) {
    res.writeHead(500, { ...PAGE_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
    res.end(head ? undefined : `${name} could not be read (${(err as Error).message}): build the dashboard again (npm run build)\n`);
    return;
  }
  res.writeHead(200, { ...PAGE_HEADERS, 'content-type': TYPES[extname(name)]!, 'content-length': String(body.length) });
  res.end(head ? undefined : body);
}
