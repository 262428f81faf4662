import type { FlashView } from '../flash.ts';
import { renderFlash, type RenderFlashOptions } from './render.ts';

/** HandlebarsRuntime is the part of the `handlebars` module (or an `Handlebars.create()` instance) that {@link registerHandlebarsHelpers} uses. */
export interface HandlebarsRuntime {
  // any: Handlebars types its helpers with any arguments, and this must accept them.
  registerHelper(name: string, helper: (...args: any[]) => unknown): void;
  SafeString: new (html: string) => unknown;
}

/**
 * registerHandlebarsHelpers registers the helper `flash` on a Handlebars runtime:
 * `{{flash flash}}` renders the given view, and a bare `{{flash}}` renders the `flash` of the
 * current context. It returns a SafeString, so double and triple braces both output the already
 * escaped HTML unchanged. Returns the runtime.
 */
export function registerHandlebarsHelpers<H extends HandlebarsRuntime>(handlebars: H, options: RenderFlashOptions = {}): H {
  handlebars.registerHelper('flash', function (this: { flash?: FlashView } | undefined, ...args: unknown[]) {
    // Handlebars passes its options object last; anything before it is the view.
    const view = args.length > 1 ? (args[0] as FlashView | undefined) : this?.flash;
    return new handlebars.SafeString(renderFlash(view, options));
  });
  return handlebars;
}
