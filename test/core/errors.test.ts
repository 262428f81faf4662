import { expect } from 'chai';
import { inspect } from 'node:util';
import { SessionError } from 'sessionkit';

describe('SessionError', function () {
  it('carries option only when the error is about one, and prints no empty field', function () {
    const plain = new SessionError('ERR_SESSION_CONFIG', 'session: something is wrong');
    expect(Object.hasOwn(plain, 'option')).to.equal(false);
    expect(inspect(plain)).to.not.include('option');
    const aboutOne = new SessionError('ERR_SESSION_CONFIG', 'session: cookieName is empty', { option: 'cookieName' });
    expect(aboutOne.option).to.equal('cookieName');
    expect(inspect(aboutOne)).to.include("option: 'cookieName'");
  });
});
