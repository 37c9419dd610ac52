// The page's half of its session: the key its sign-in gave it, in the address the server sent
// the browser to (`/#key=…`, a fragment, which no browser sends to a server), sent as
// X-Piko-Key with every request beside the cookie. It is kept in this origin's storage, read
// again for each request, so every tab of the dashboard follows the latest sign-in (which
// replaced the cookie for all of them). A key in the address is kept only once the server took
// it: any page can send the browser to `/#key=…` with a key of its own making.

const STORE = 'piko-key';
/** This tab's copy, for where storage is refused (a private window may refuse it). */
let kept = '';
/** The key in the address this tab was opened with, until the server has answered it. */
let offered = takeOffered();

function takeOffered(): string | undefined {
  const key = /^#key=([0-9a-f]{64})$/.exec(location.hash)?.[1];
  if (key) history.replaceState(null, '', location.pathname + location.search);
  return key;
}

function stored(): string {
  try {
    return localStorage.getItem(STORE) ?? kept;
  } catch {
    return kept;
  }
}

function keep(key: string): void {
  kept = key;
  try {
    localStorage.setItem(STORE, key);
  } catch {
    // This tab keeps it.
  }
}

const withKey = (init: RequestInit, key: string): RequestInit => ({
  ...init,
  credentials: 'same-origin',
  headers: { ...(init.headers as Record<string, string> | undefined), 'x-piko-key': key },
});

/**
 * `fetch` with the key: the one in the address until the server has answered it (kept if it
 * took it), else the kept one. A request the server refused for the address's key (a stale
 * link, or a page that sent the browser here with a key of its own) is sent again with the kept
 * one: a 401 ran nothing.
 */
export async function signedFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const trying = offered;
  const res = await fetch(url, withKey(init, trying ?? stored()));
  if (trying === undefined) return res;
  if (offered === trying) offered = undefined;
  if (res.status !== 401) {
    keep(trying);
    return res;
  }
  await res.body?.cancel();
  return fetch(url, withKey(init, stored()));
}
