import { expect } from 'chai';
import { createManager, SessionError, type ManagerOptions } from 'sessionkit';
import { OPTION_NAMES, resolveOptions } from '../../src/options.ts';

/** refusal returns the SessionError `resolveOptions` throws for `options` (written as untyped code would). */
function refusal(options: Record<string, unknown>): SessionError {
  try {
    resolveOptions(options as ManagerOptions);
  } catch (error) {
    expect(error).to.be.instanceOf(SessionError).with.property('code', 'ERR_SESSION_CONFIG');
    return error as SessionError;
  }
  expect.fail(`expected ${JSON.stringify(options)} to be refused`);
}

describe('ManagerOptions are checked as strictly as INI keys', function () {
  it('an unknown option is refused naming it and the option it most likely means', async function () {
    const error = await createManager({ provider: 'memory', cookeName: 'x' } as ManagerOptions).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(SessionError).with.property('code', 'ERR_SESSION_CONFIG');
    expect((error as SessionError).message).to.equal('session: unknown option cookeName (did you mean cookieName?)');
    expect(error).to.have.property('option', 'cookeName');
  });

  it('an unknown option with nothing close is refused without a suggestion', function () {
    expect(refusal({ frobnicate: true }).message).to.equal('session: unknown option frobnicate');
  });

  it('a macaron/beego options object is refused naming the camelCase option of each field', function () {
    const cases: [Record<string, unknown>, string][] = [
      [{ Provider: 'redis' }, 'session: unknown option Provider (did you mean provider? options are camelCase)'],
      [{ ProviderConfig: '127.0.0.1:6379' }, 'session: unknown option ProviderConfig (did you mean providerConfig? options are camelCase)'],
      [{ CookieName: 'x' }, 'session: unknown option CookieName (did you mean cookieName? options are camelCase)'],
      [{ Maxlifetime: 3600 }, 'session: unknown option Maxlifetime (did you mean maxLifetime? options are camelCase)'],
      [{ IdLength: 32 }, 'session: unknown option IdLength (did you mean idLength? options are camelCase)'],
      [{ cookie_name: 'x' }, 'session: unknown option cookie_name (did you mean cookieName? options are camelCase)'],
      [{ Gclifetime: 3600 }, 'session: unknown option Gclifetime (did you mean gcInterval?)'],
    ];
    for (const [options, message] of cases) expect(refusal(options).message, JSON.stringify(options)).to.equal(message);
  });

  it('Go settings without a counterpart (Section, hashfunc, hashkey, SessionIDLength, delim) say why and what to do instead', function () {
    expect(refusal({ Section: 'session' }).message).to.match(/^session: Section is not an option: it names the INI section .* pass \{ section \} to parseIni or loadIni/);
    for (const name of ['hashfunc', 'SessionIDHashFunc', 'hashkey', 'SessionHashKey']) {
      expect(refusal({ [name]: 'sha1' }).message, name).to.match(new RegExp(`^session: ${name} is not an option: beego hashed new ids with it; .* remove it \\(to sign the cookie, set secret\\)$`));
    }
    expect(refusal({ SessionIDLength: 16 }).message).to.contain("beego's 16 is idLength 32");
    expect(refusal({ Delim: '-' }).message).to.contain("end the redis provider's prefix with the separator");
  });

  it('every ManagerOptions field is accepted by its name', function () {
    const options = Object.fromEntries(Object.keys(OPTION_NAMES).map((name) => [name, undefined]));
    expect(() => resolveOptions(options as ManagerOptions)).not.to.throw();
  });

  it('durations take the INI forms in code: a number of seconds or a Go duration string', function () {
    const resolved = resolveOptions({ maxLifetime: '30m', gcInterval: '1h', cookieLifeTime: '90s', absoluteLifetime: '1.5h', touchInterval: '250ms' });
    expect(resolved.maxLifetimeMs).to.equal(30 * 60_000);
    expect(resolved.gcIntervalMs).to.equal(3_600_000);
    expect(resolved.cookieMaxAgeMs).to.equal(90_000);
    expect(resolved.absoluteLifetimeMs).to.equal(5_400_000);
    expect(resolved.touchIntervalMs).to.equal(250);
    expect(resolveOptions({ maxLifetime: 1800 }).maxLifetimeMs).to.equal(1_800_000);
    expect(resolveOptions({ maxLifetime: '1800' }).maxLifetimeMs).to.equal(1_800_000, 'a bare number string is seconds, as in the INI');
  });

  it('a bad duration in code is refused naming the option and the accepted forms', function () {
    for (const value of ['soon', '-5m', '1h30m', '', -1, Number.NaN, true]) {
      const error = refusal({ maxLifetime: value });
      expect(error.message, String(value)).to.match(/^session: maxLifetime must be a positive number of seconds or a duration such as 30s, 15m or 1h, got /);
      expect(error).to.have.property('option', 'maxLifetime');
    }
    expect(refusal({ maxLifetime: '0s' }).message).to.contain('must be a positive');
    expect(resolveOptions({ cookieLifeTime: '0s' }).cookieMaxAgeMs).to.equal(0, 'zero is allowed where the INI allows it');
  });

  it('each value error carries the option it is about', function () {
    expect(refusal({ cookieName: 'a b' })).to.have.property('option', 'cookieName');
    expect(refusal({ sameSite: 'none' })).to.have.property('option', 'sameSite');
    expect(refusal({ idLength: 16 })).to.have.property('option', 'idLength');
    expect(refusal({ secret: 'short' })).to.have.property('option', 'secret');
    expect(refusal({ maxRetries: 0 })).to.have.property('option', 'maxRetries');
  });

  it('idLength below 32 is refused saying 16 is 64 bits, below the 128-bit floor of OWASP, and what to use', function () {
    expect(refusal({ idLength: 16 }).message).to.equal(
      "session: idLength 16 gives 64-bit ids, below the 128-bit minimum of OWASP's session management cheat sheet; use 32 (the default) or more, up to 128, or leave it out",
    );
  });
});
