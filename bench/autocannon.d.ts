// The part of autocannon's API the benchmark uses; the package ships no type declarations.
declare module 'autocannon' {
  interface Client {
    setHeaders(headers: Record<string, string>): void;
  }
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    amount?: number;
    setupClient?: (client: Client) => void;
  }
  interface Result {
    /** duration is how long the run lasted, in seconds: autocannon counts whole seconds, so a `duration` of 1.5 runs about 2. */
    duration: number;
    requests: { average: number; total: number };
    '2xx': number;
    non2xx: number;
    errors: number;
    timeouts: number;
  }
  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
