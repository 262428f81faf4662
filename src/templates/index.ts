export type { FlashView, FlashMessage } from '../flash.ts';
export type { FlashLevel } from '../codec.ts';
export { renderFlash, flashLocals, escapeHtml, FLASH_STYLES, type RenderFlashOptions, type FlashLocals } from './render.ts';
export { registerNunjucks, type NunjucksEnvironment } from './nunjucks.ts';
export { registerHandlebarsHelpers, type HandlebarsRuntime } from './handlebars.ts';
