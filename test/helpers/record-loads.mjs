// Preloaded with --import: records every module the process resolves into $KFMCP_LOADED, and
// each line the process writes to stdout as "#wrote <line>", so a test can say what was loaded
// before a given answer went out.
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (process.env.KFMCP_LOADED) appendFileSync(process.env.KFMCP_LOADED, r.url + '\\n');
  return r;
}`),
);

const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => {
  if (process.env.KFMCP_LOADED)
    appendFileSync(process.env.KFMCP_LOADED, `#wrote ${String(chunk).slice(0, 60).replace(/\n/g, ' ')}\n`);
  return write(chunk, ...rest);
};
