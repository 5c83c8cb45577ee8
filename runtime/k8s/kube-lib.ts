// The parts of @kubernetes/client-node the server uses: kubeconfig loading with every auth method
// (certificates, tokens, exec plugins, OIDC, in-cluster), its HTTP transport and its watch. Imported
// by deep path so the bundle leaves out the typed API clients and their thousand models (3.5 MB of
// code that would be loaded and compiled on the first Kubernetes call); requests go out as plain JSON.
export { KubeConfig } from '@kubernetes/client-node/dist/config.js';
export { Watch } from '@kubernetes/client-node/dist/watch.js';
export { RequestContext, HttpMethod } from '@kubernetes/client-node/dist/gen/http/http.js';
export { IsomorphicFetchHttpLibrary } from '@kubernetes/client-node/dist/gen/http/isomorphic-fetch.js';
