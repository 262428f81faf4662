// The template engines ship no type declarations; these cover what the tests call.

declare module 'ejs' {
  const ejs: {
    render(template: string, data?: Record<string, unknown>, options?: Record<string, unknown>): string;
  };
  export default ejs;
}

declare module 'nunjucks' {
  class Environment {
    constructor(loader?: unknown, options?: { autoescape?: boolean });
    renderString(template: string, context: Record<string, unknown>): string;
    addGlobal(name: string, value: unknown): this;
    addFilter(name: string, filter: (...args: never[]) => unknown): this;
    getFilter(name: string): (value: string) => unknown;
  }
  const nunjucks: { Environment: typeof Environment };
  export default nunjucks;
}

declare module 'pug' {
  const pug: {
    render(template: string, locals?: Record<string, unknown>): string;
    compile(template: string, options?: Record<string, unknown>): (locals?: Record<string, unknown>) => string;
  };
  export default pug;
}
