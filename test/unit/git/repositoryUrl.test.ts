import { describe, expect, it } from 'vitest';
import { normaliseRepositoryUrl, repositoryUrlProblem } from '../../../src/integrations/git/repositoryUrl.js';

const intake = { allowLocal: true };

describe('repository URLs', () => {
  it('takes remote URLs, scp-like addresses and absolute paths', () => {
    for (const url of [
      'https://github.com/org/repo.git',
      'http://127.0.0.1:8080/repo.git',
      'ssh://git@github.com/org/repo.git',
      'git://example.com/repo.git',
      'git@github.com:org/repo.git',
      'file:///srv/git/repo.git',
      '/srv/git/repo.git',
    ]) {
      expect(repositoryUrlProblem(url, intake), url).toBeUndefined();
    }
  });

  it('refuses what could run a command, carry a secret or mean another folder', () => {
    const cases: [string, RegExp][] = [
      ['ext::sh -c touch% /tmp/pwned', /remote helper/],
      ['fd::17', /remote helper/],
      ['--upload-pack=touch /tmp/pwned', /option/],
      ['-oProxyCommand=x', /option/],
      ['ssh://-oProxyCommand=x/repo', /option/],
      ['foo://x/y', /scheme "foo:"/],
      ['https://user:s3cret@github.com/org/repo.git', /credentials/],
      ['https://ghp_token@github.com/org/repo.git', /credentials/],
      ['ssh://git:pw@github.com/org/repo.git', /credentials/],
      ['repo', /relative path/],
      ['../../etc', /relative path/],
      ['https://github.com/org/\nrepo', /control characters/],
      ['file://remote-host/srv/repo', /file URL with a host/],
      ['', /empty/],
    ];
    for (const [url, reason] of cases) expect(repositoryUrlProblem(url, intake), url).toMatch(reason);
  });

  it('refuses local repositories when they are not allowed', () => {
    for (const url of ['/srv/git/repo', 'file:///srv/git/repo']) {
      expect(repositoryUrlProblem(url, { allowLocal: false })).toMatch(/AllowLocalRepositories is false/);
    }
    expect(repositoryUrlProblem('https://github.com/org/repo', { allowLocal: false })).toBeUndefined();
  });

  it('the adapter still resolves a relative path and passes credentials recorded before intake refused them', () => {
    expect(normaliseRepositoryUrl('repo')).toMatch(/^\/.*\/repo$/);
    expect(normaliseRepositoryUrl('https://u:p@h/r.git')).toBe('https://u:p@h/r.git');
    expect(() => normaliseRepositoryUrl('ext::sh')).toThrow(/remote helper/);
  });
});
