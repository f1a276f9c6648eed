import { describe, expect, it } from 'vitest';
import { ConflictError, InvalidInputError } from '../../../src/host/errors.js';
import { toHttpError } from '../../../src/transport/http/errors.js';
import { parseTraceParent } from '../../../src/transport/http/request-meta.js';

describe('parseTraceParent', () => {
  it('keeps a W3C traceparent, normalised to lower case', () => {
    expect(parseTraceParent('00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01')).toBe(
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    );
  });

  it.each([
    undefined,
    '',
    'garbage',
    '01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    '00-0af7651916cd43dd8448eb211c80319-b7ad6b7169203331-01',
    '00-00000000000000000000000000000000-b7ad6b7169203331-01',
    '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
  ])('drops %s', (header) => {
    expect(parseTraceParent(header)).toBeUndefined();
  });

  it('drops a repeated header', () => {
    expect(parseTraceParent(['a', 'b'])).toBeUndefined();
  });
});

describe('toHttpError', () => {
  it('maps host error codes to statuses and lower-case codes', () => {
    expect(toHttpError(new InvalidInputError('bad', 'UNKNOWN_GRAPH'))).toMatchObject({
      statusCode: 400,
      code: 'unknown_graph',
      message: 'bad',
    });
    expect(toHttpError(new ConflictError('ALREADY_FINISHED', 'ended'))).toMatchObject({
      statusCode: 409,
      code: 'already_finished',
    });
  });

  it('maps fastify body errors', () => {
    expect(
      toHttpError(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }), 10),
    ).toMatchObject({
      statusCode: 413,
      code: 'payload_too_large',
      message: 'the body is larger than 10 bytes',
    });
    expect(toHttpError(Object.assign(new Error('x'), { statusCode: 415 }))).toMatchObject({
      statusCode: 415,
      code: 'unsupported_media_type',
    });
    expect(
      toHttpError(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 })),
    ).toMatchObject({ statusCode: 415, code: 'unsupported_media_type' });
  });
});
