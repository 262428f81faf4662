/**
 * redact replaces every occurrence of each secret in `text`, written plainly or percent-encoded,
 * with `***`. Longer secrets go first, so one secret inside another leaves no tail; empty and
 * undefined secrets are skipped. Driver messages rarely echo a password, but an error built from
 * one must never carry it, whatever the driver.
 */
export function redact(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  for (const form of secretForms(secrets)) out = out.split(form).join('***');
  return out;
}

/** secretForms lists each non-empty secret and its percent-encoded form, longest first. */
function secretForms(secrets: Iterable<string | undefined>): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
  }
  return [...forms].sort((a, b) => b.length - a.length);
}
