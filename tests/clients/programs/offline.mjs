// Preloaded into the node clients (NODE_OPTIONS=--import): no test leaves this machine, so a
// fetch to any host but the loopback fails at once, as it does offline. Continue CLI asks
// api.continue.dev for its newest version at every start, whatever its settings say.
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const fetchOnline = globalThis.fetch;

globalThis.fetch = (input, init) => {
  const { hostname } = new URL(input instanceof Request ? input.url : String(input));
  if (!LOOPBACK.has(hostname)) return Promise.reject(new TypeError(`fetch failed: ${hostname} is off limits in tests`));
  return fetchOnline(input, init);
};
