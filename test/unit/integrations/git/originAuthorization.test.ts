import { describe, expect, it } from 'vitest';
import {
  authorizationSecrets,
  checkedAuthorization,
  withAuthorizationHeader,
  withoutSecrets,
} from '../../../../src/integrations/git/originAuthorization.js';

const HEADER = `Basic ${Buffer.from('x-access-token:ghs_token123').toString('base64')}`;

describe('the origin’s Authorization header for git', () => {
  it('is one http.extraheader entry of the environment, with git’s trace redaction left on', () => {
    const env = withAuthorizationHeader({ PATH: '/usr/bin', GIT_TRACE_REDACT: '0' }, HEADER);
    expect(env).toEqual({
      PATH: '/usr/bin',
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraheader',
      GIT_CONFIG_VALUE_0: `Authorization: ${HEADER}`,
    });
  });

  it('comes after the entries the operator set in the worker’s environment', () => {
    const inherited = {
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_0: 'http.proxy',
      GIT_CONFIG_VALUE_0: 'p',
      GIT_CONFIG_KEY_1: 'a.b',
      GIT_CONFIG_VALUE_1: 'c',
    };
    expect(withAuthorizationHeader(inherited, HEADER)).toEqual({
      ...inherited,
      GIT_CONFIG_COUNT: '3',
      GIT_CONFIG_KEY_2: 'http.extraheader',
      GIT_CONFIG_VALUE_2: `Authorization: ${HEADER}`,
    });
    // a count git itself would refuse is not built on
    expect(withAuthorizationHeader({ GIT_CONFIG_COUNT: 'x' }, HEADER).GIT_CONFIG_KEY_0).toBe(
      'http.extraheader',
    );
  });

  it('is scrubbed in every form: whole, its base64 part, the decoded pair and the token', () => {
    const secrets = authorizationSecrets(HEADER);
    const encoded = HEADER.slice('Basic '.length);
    expect(secrets).toEqual(
      expect.arrayContaining([HEADER, encoded, 'x-access-token:ghs_token123', 'ghs_token123']),
    );
    expect(withoutSecrets(`a ${HEADER} b ${encoded} c ghs_token123 d`, secrets)).toBe(
      'a [redacted] b [redacted] c [redacted] d',
    );
    expect(authorizationSecrets('Bearer abcdefgh')).toEqual(['Bearer abcdefgh', 'abcdefgh']);
  });

  it.each(['', '  ', `${HEADER}\r\nX-Other: 1`, `${HEADER}\n`, 'Basic a\u0000b'])(
    'refuses %j as a header value, naming none of it',
    (value) => {
      let thrown: unknown;
      try {
        checkedAuthorization(value);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toMatchObject({ name: 'GitError', code: 'INVALID_CREDENTIALS' });
      if (value.trim() !== '') expect((thrown as Error).message).not.toContain(HEADER.slice(6));
    },
  );
});
