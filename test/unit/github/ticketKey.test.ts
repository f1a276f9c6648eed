import { describe, expect, it } from 'vitest';
import { parseTicketKey, ticketKeyOf } from '../../../src/integrations/github/ticketKey.js';

describe('GitHub ticket keys', () => {
  it.each([
    ['acme/app#12', { owner: 'acme', repo: 'app', number: 12 }],
    ['Acme-Org/my.repo_2#1', { owner: 'Acme-Org', repo: 'my.repo_2', number: 1 }],
    ['a/.github#2147483647', { owner: 'a', repo: '.github', number: 2147483647 }],
  ])('reads %s', (key, ref) => {
    expect(parseTicketKey(key)).toEqual(ref);
    expect(ticketKeyOf(ref)).toBe(key);
  });

  it.each([
    '',
    'acme/app',
    'acme/app#',
    'acme/app#0',
    'acme/app#012',
    'acme/app#2147483648',
    'acme/app#1 ',
    ' acme/app#1',
    'acme#1',
    'a/b/c#1',
    '-acme/app#1',
    'acme/..#1',
    'acme/.#1',
    'ac me/app#1',
    'acme/app#1#2',
    'acme/app%2F..#1',
    `${'a'.repeat(40)}/app#1`,
    `acme/${'r'.repeat(101)}#1`,
  ])('refuses %j as a permanent failure', (key) => {
    expect(() => parseTicketKey(key)).toThrow(expect.objectContaining({ kind: 'permanent' }));
  });
});
