import { describe, expect, it } from 'vitest';
import {
  githubHostOf,
  isGitHubRepository,
  parseRepositoryUrl,
} from '../../../src/integrations/github/pullRequests.js';

describe('the git host of a GitHub API', () => {
  it.each([
    ['https://api.github.com', 'github.com'],
    ['https://api.github.com/', 'github.com'],
    ['https://ghe.example.com/api/v3', 'ghe.example.com'],
    ['https://api.acme.ghe.com', 'acme.ghe.com'],
    ['http://127.0.0.1:41234', '127.0.0.1:41234'],
    ['https://GHE.Example.com:8443/api/v3', 'ghe.example.com:8443'],
  ])('%s → %s', (api, host) => expect(githubHostOf(api)).toBe(host));
});

describe('repository URLs', () => {
  it.each([
    ['https://github.com/acme/app', { host: 'github.com', owner: 'acme', repo: 'app' }],
    ['https://github.com/acme/app.git', { host: 'github.com', owner: 'acme', repo: 'app' }],
    ['https://github.com/acme/app/', { host: 'github.com', owner: 'acme', repo: 'app' }],
    ['http://127.0.0.1:4000/acme/app.git', { host: '127.0.0.1:4000', owner: 'acme', repo: 'app' }],
    ['https://ghe.example.com/team/my.lib.git', { host: 'ghe.example.com', owner: 'team', repo: 'my.lib' }],
  ])('%s names %o', (url, ref) => expect(parseRepositoryUrl(url)).toEqual(ref));

  it.each([
    'git@github.com:acme/app.git',
    'ssh://git@github.com/acme/app.git',
    '/srv/git/app.git',
    'file:///srv/git/app.git',
    'https://token@github.com/acme/app.git',
    'https://x:y@github.com/acme/app.git',
    'https://github.com/acme',
    'https://github.com/acme/app/tree/main',
    'https://github.com/acme/..',
    'https://github.com/acme/app?x=1',
    'not a url',
  ])('%s is no GitHub repository URL', (url) => expect(parseRepositoryUrl(url)).toBeNull());

  it('belongs to a tenant’s GitHub when the hosts match, port included', () => {
    const cloud = { ApiUrl: 'https://api.github.com' };
    expect(isGitHubRepository(cloud, 'https://github.com/acme/app.git')).toBe(true);
    expect(isGitHubRepository(cloud, 'https://GitHub.com/acme/app')).toBe(true);
    expect(isGitHubRepository(cloud, 'https://gitlab.com/acme/app.git')).toBe(false);
    expect(isGitHubRepository(cloud, 'git@github.com:acme/app.git')).toBe(false);
    const fake = { ApiUrl: 'http://127.0.0.1:4000' };
    expect(isGitHubRepository(fake, 'http://127.0.0.1:4000/acme/app.git')).toBe(true);
    expect(isGitHubRepository(fake, 'http://127.0.0.1:4001/acme/app.git')).toBe(false);
  });
});
