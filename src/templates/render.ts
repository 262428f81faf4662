import type { FlashLevel } from '../codec.ts';
import type { FlashView } from '../flash.ts';

/** RenderFlashOptions configure {@link renderFlash}; every field is optional. */
export interface RenderFlashOptions {
  /** classPrefix names each element's classes `<prefix> <prefix>-<level>` ["flash"]. */
  classPrefix?: string;
  /**
   * classNames replaces the whole class attribute of a level, e.g. Bootstrap's
   * `{ error: 'alert alert-danger' }`; levels left out use `classPrefix`.
   */
  classNames?: Partial<Record<FlashLevel, string>>;
  /** inlineStyles adds each level's colour as a style attribute [true]; false leaves the look to your CSS. */
  inlineStyles?: boolean;
  /** styles replaces the inline style of a level; levels left out use {@link FLASH_STYLES}. */
  styles?: Partial<Record<FlashLevel, string>>;
}

const BOX = 'padding:8px 12px;margin:0 0 8px;border-radius:4px;';

/**
 * FLASH_STYLES are the default inline styles of {@link renderFlash}: success green, error red,
 * info blue, warning amber, each dark text on a light background with a border, readable
 * without any stylesheet.
 */
export const FLASH_STYLES: Readonly<Record<FlashLevel, string>> = {
  success: `${BOX}color:#1e4620;background:#edf7ed;border:1px solid #4caf50`,
  error: `${BOX}color:#5f2120;background:#fdeded;border:1px solid #ef5350`,
  info: `${BOX}color:#014361;background:#e5f6fd;border:1px solid #03a9f4`,
  warning: `${BOX}color:#663c00;background:#fff4e5;border:1px solid #ff9800`,
};

// Errors and warnings interrupt a screen reader; success and info wait for a pause.
const ROLES: Readonly<Record<FlashLevel, string>> = { success: 'status', error: 'alert', info: 'status', warning: 'alert' };

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** escapeHtml replaces `& < > " '` with entities, so the text is safe in element content and quoted attributes. */
export function escapeHtml(text: string): string {
  return String(text).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/**
 * renderFlash turns a flash view into HTML: one `<div>` per message, in the order the messages
 * were set, with the classes `flash flash-<level>`, `role="alert"` for errors and warnings
 * (`"status"` otherwise) and, unless `inlineStyles: false`, the level's colour from
 * {@link FLASH_STYLES}. Message texts and every attribute are escaped, so a message may hold
 * user input. An empty, undefined or null view renders as ''.
 */
export function renderFlash(view: FlashView | undefined | null, options: RenderFlashOptions = {}): string {
  const messages = view?.messages ?? [];
  const prefix = options.classPrefix ?? 'flash';
  const inline = options.inlineStyles ?? true;
  return messages
    .map(({ level, text }) => {
      const classes = options.classNames?.[level] ?? `${prefix} ${prefix}-${level}`;
      const role = ROLES[level] ?? 'status';
      const style = inline ? (options.styles?.[level] ?? FLASH_STYLES[level]) : undefined;
      const styleAttr = style ? ` style="${escapeHtml(style)}"` : '';
      return `<div class="${escapeHtml(classes)}" role="${role}"${styleAttr}>${escapeHtml(text)}</div>`;
    })
    .join('\n');
}

/** FlashLocals is what {@link flashLocals} returns: template locals holding a bound `renderFlash`. */
// A type alias, not an interface, so it spreads into locals typed as Record<string, unknown>.
export type FlashLocals = {
  renderFlash: (view: FlashView | undefined | null) => string;
};

/**
 * flashLocals returns template locals with `renderFlash` bound to `options`, for engines that call
 * functions from their locals: EJS (`<%- renderFlash(flash) %>`), Pug (`!= renderFlash(flash)`),
 * Express `app.locals`, Koa `ctx.state` or @fastify/view's `defaultContext`. Use the unescaped
 * output tag of the engine: the HTML is already escaped.
 */
export function flashLocals(options: RenderFlashOptions = {}): FlashLocals {
  return { renderFlash: (view) => renderFlash(view, options) };
}
