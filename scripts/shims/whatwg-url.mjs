// node-fetch 2 (used by @kubernetes/client-node) imports whatwg-url only as a fallback for a URL
// class; Node 20 has its own. This stands in for it in the bundle, leaving out tr46's 260 KB
// Unicode table that would otherwise be loaded with the Kubernetes client.
export const URL = globalThis.URL;
export default { URL: globalThis.URL };
