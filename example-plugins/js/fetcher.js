// The `fetcher` example plugin in JavaScript.
//
// Implements the `plugin` interface of the `fetcher` WIT world
// (wit/example-interfaces/fetcher/fetcher.wit) with the standard `fetch()`,
// which the StarlingMonkey engine (jco's default backend) implements on top
// of `wasi:http/outgoing-handler`. The host decides which hosts and ports the
// plugin may reach, and checks every request, redirects included.

// ANCHOR: plugin
// StarlingMonkey's fetch() sends exactly one request and returns a redirect
// response as it is, so the plugin follows redirects itself, with the rules
// of the guest SDK's `http::send` (and of browsers).
const MAX_REDIRECTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export const plugin = {
  // The WIT function is synchronous; an async implementation is fine: the
  // engine runs its event loop until the promise settles.
  async fetch(request) {
    try {
      let url = request.url;
      let method = request.method;
      // An option is `undefined` (none) or the value in this engine.
      let body = request.body ?? undefined;
      for (let redirects = 0; ; redirects += 1) {
        const response = await fetch(url, { method, body });
        const location = response.headers.get('location');
        if (!REDIRECTS.has(response.status) || location === null) {
          return { status: response.status, body: await response.text() };
        }
        if (redirects === MAX_REDIRECTS) {
          throw new TypeError(`more than ${MAX_REDIRECTS} redirects`);
        }
        // Each new URL is a new request, which the host checks again.
        url = new URL(location, url).href;
        // 303, and 301/302 after a POST, become a GET without a body.
        if (response.status === 303 || (method === 'POST' && response.status <= 302)) {
          method = 'GET';
          body = undefined;
        }
      }
    } catch (e) {
      // Throwing a string makes the WIT `err`, e.g. "TypeError: NetworkError
      // when attempting to fetch resource" (StarlingMonkey does not say why).
      throw String(e);
    }
  },
};
// ANCHOR_END: plugin
