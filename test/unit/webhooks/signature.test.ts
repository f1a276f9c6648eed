/** Webhook signatures and the ids derived from what a tracker names. */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { commentEventId, replyKey, startExecutionId, uuidV5 } from '../../../src/webhooks/inputIds.js';
import { signatureOf, verifySignature } from '../../../src/webhooks/signature.js';

describe('signatures', () => {
  const secret = "It's a Secret to Everybody";
  const body = Buffer.from('Hello, World!');

  it('is GitHub’s documented example', () => {
    // docs.github.com, "Validating webhook deliveries": this secret and payload give this signature
    expect(signatureOf(secret, body)).toBe(
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    );
    expect(verifySignature(secret, body, signatureOf(secret, body))).toBe(true);
  });

  it.each<[string, string | string[] | undefined]>([
    ['missing', undefined],
    ['empty', ''],
    ['without its scheme', createHmac('sha256', secret).update(body).digest('hex')],
    ['of another algorithm', `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`],
    ['too short', 'sha256=757107ea'],
    ['not hex', `sha256=${'z'.repeat(64)}`],
    ['repeated', [signatureOf(secret, body), signatureOf(secret, body)]],
    ['under another secret', signatureOf('another tenant’s secret', body)],
    ['of another body', signatureOf(secret, Buffer.from('Hello, World?'))],
  ])('refuses a signature %s', (_name, header) => {
    expect(verifySignature(secret, body, header)).toBe(false);
  });

  it('takes the hex in any case and surrounding spaces', () => {
    const header = signatureOf(secret, body);
    expect(verifySignature(secret, body, ` ${header.toUpperCase().replace('SHA256', 'sha256')} `)).toBe(true);
  });
});

describe('input ids', () => {
  it('is RFC 9562’s version 5 UUID', () => {
    const dns = Buffer.from('6ba7b8109dad11d180b400c04fd430c8', 'hex');
    expect(uuidV5('www.example.com', dns)).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('derives a start’s execution from tenant, system and delivery', () => {
    const id = startExecutionId('acme', 'github', '72d3162e-cc78-11e3-81ab-4c9367dc0958');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(startExecutionId('acme', 'github', '72d3162e-cc78-11e3-81ab-4c9367dc0958')).toBe(id);
    expect(startExecutionId('globex', 'github', '72d3162e-cc78-11e3-81ab-4c9367dc0958')).not.toBe(id);
    expect(startExecutionId('acme', 'jira', '72d3162e-cc78-11e3-81ab-4c9367dc0958')).not.toBe(id);
    // the separator keeps the parts apart: ('a', 'bc') is not ('ab', 'c')
    expect(startExecutionId('a', 'github', 'bc')).not.toBe(startExecutionId('a', 'github', 'b'));
  });

  it('names a comment’s resume and reply after the comment', () => {
    expect(commentEventId('github', '991')).toBe('github-comment-991');
    expect(commentEventId('jira', '10077')).toBe('jira-comment-10077');
    expect(replyKey('github', '991')).toBe('reply-to-github-comment-991');
  });
});
