// The one door from the server to the sandbox (sandbox/, a package of its own): `serve --sandbox`
// and the `sandbox` command load it through here, lazily, so a server on a real cluster never
// loads it and the layer rule in .dependency-cruiser.cjs can name the single file allowed to.
export const loadSandbox = () => import('../sandbox/index.ts');
