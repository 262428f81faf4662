/** User is an account of the ecosystem apps. */
export interface User {
  id: string;
  name: string;
}

const accounts: Record<string, User & { password: string }> = {
  alice: { id: '1', name: 'alice', password: 'wonderland' },
};

/**
 * verifyPassword is the passport-local verify callback of every ecosystem app: alice/wonderland
 * is the one account; anything else fails with passport-local's usual message shape.
 */
export function verifyPassword(username: string, password: string, done: (error: Error | null, user?: User | false, info?: { message: string }) => void): void {
  const account = accounts[username];
  if (account === undefined || account.password !== password) return done(null, false, { message: 'Incorrect username or password.' });
  done(null, { id: account.id, name: account.name });
}

/** findUser is what deserializeUser looks up: the user with `id`, or false when there is none. */
export function findUser(id: unknown): User | false {
  const account = Object.values(accounts).find((a) => a.id === id);
  return account === undefined ? false : { id: account.id, name: account.name };
}

/** GOOD_LOGIN and BAD_LOGIN are the login forms the flows post, without their CSRF field. */
export const GOOD_LOGIN = { username: 'alice', password: 'wonderland' };
export const BAD_LOGIN = { username: 'alice', password: 'guess' };
