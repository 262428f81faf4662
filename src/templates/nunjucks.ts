import type { FlashView } from '../flash.ts';
import { renderFlash, type RenderFlashOptions } from './render.ts';

/** NunjucksEnvironment is the part of a `nunjucks.Environment` that {@link registerNunjucks} uses. */
export interface NunjucksEnvironment {
  addGlobal(name: string, value: unknown): unknown;
  addFilter(name: string, filter: (...args: any[]) => unknown): unknown;
  getFilter(name: string): (value: string) => unknown;
}

/**
 * registerNunjucks adds `renderFlash` to a Nunjucks environment both as a global
 * (`{{ renderFlash(flash) }}`) and as a filter (`{{ flash | renderFlash }}`). The result is marked
 * safe through the environment's own `safe` filter, so autoescaping leaves the already escaped
 * HTML alone and no `| safe` is needed. Returns the environment.
 */
export function registerNunjucks<E extends NunjucksEnvironment>(env: E, options: RenderFlashOptions = {}): E {
  const safe = env.getFilter('safe');
  const render = (view: FlashView | undefined | null) => safe(renderFlash(view, options));
  env.addGlobal('renderFlash', render);
  env.addFilter('renderFlash', render);
  return env;
}
