// Preloaded with --import: records every module the process resolves into $KFMCP_LOADED, so a
// test can say what the start-up path loads.
import { register } from 'node:module';

register('data:text/javascript,' + encodeURIComponent(`
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (process.env.KFMCP_LOADED) appendFileSync(process.env.KFMCP_LOADED, r.url + '\\n');
  return r;
}`));
