/**
 * Arbitraries of inputs shaped like the worker's schemas (start, resume, cancel, retry) whose leaves may be
 * hostile: NUL and lone surrogates, any unicode, JSON nested thousands of levels deep, numbers JSON can write but
 * JavaScript cannot hold, wrong types, missing fields. Most fields are valid most of the time, so the hostile
 * leaf reaches the rules and the database instead of failing the schema at the top level.
 *
 * Values are serialised by {@link jsonText}, which writes {@link RawNumber}s verbatim (`1e400`), since
 * `JSON.stringify` cannot.
 */
import fc from 'fast-check';

/** A number written into the JSON text as is: `1e400`, `-0`, thirty digits. */
export class RawNumber {
  constructor(readonly text: string) {}
}

/**
 * A value nested `depth` levels deep, kept as its description until {@link jsonText} writes it: as a real
 * nested value it would overflow the stack of the test framework's own walks (printing, shrinking).
 */
export class Deep {
  constructor(
    readonly depth: number,
    readonly asObject: boolean,
  ) {}
  text(): string {
    return this.asObject
      ? `${'{"d":'.repeat(this.depth)}"leaf"${'}'.repeat(this.depth)}`
      : `${'['.repeat(this.depth)}"leaf"${']'.repeat(this.depth)}`;
  }
}

/** A field left out of its object. */
export const ABSENT: unique symbol = Symbol('absent');

/** JSON text of `value`: like JSON.stringify, with {@link RawNumber}s verbatim, {@link Deep} values nested and {@link ABSENT} fields left out. */
export function jsonText(value: unknown): string {
  if (value instanceof RawNumber) return value.text;
  if (value instanceof Deep) return value.text();
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  if (value && typeof value === 'object') {
    const parts = Object.entries(value)
      .filter(([, v]) => v !== ABSENT)
      .map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`);
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));

/** Strings an attacker would try: control characters, lone surrogates, any code point, path and id tricks. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc
    .tuple(
      fc.string({ maxLength: 10 }),
      fc.oneof(loneSurrogate, fc.constant('\u0000')),
      fc.string({ maxLength: 10 }),
    )
    .map((parts) => parts.join('')),
  fc.constantFrom(
    '',
    '\u0000',
    '\ud800',
    '\udfff',
    '\u202e',
    '\ufeff',
    '../..',
    '~^:',
    'cancel:',
    '%00',
    '\\u0000',
    '--upload-pack=x',
    'ext::sh -c id',
    'https://user:pass@example.com/r.git',
    'relative/path',
    'jira',
    'github',
    'nope',
  ),
  fc.integer({ min: 190, max: 2100 }).map((n) => 'x'.repeat(n)),
);

const rawNumber = fc
  .constantFrom(
    '1e400',
    '-1e400',
    '123456789012345678901234567890',
    '-0',
    '1e-400',
    '0.1e1',
    '9007199254740993',
  )
  .map((text) => new RawNumber(text));

/** Nested arrays or objects 1 to 5,000 levels deep around a leaf. */
const deepValue = fc
  .tuple(fc.integer({ min: 1, max: 5000 }), fc.boolean())
  .map(([depth, asObject]) => new Deep(depth, asObject));

/** Any value a hostile leaf may be. */
export const hostileLeaf: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  rawNumber,
  deepValue,
  fc.jsonValue({ maxDepth: 3 }),
  fc.double(),
  fc.constantFrom(null, true, false, 0, -1, 101, 1.5),
);

/** A field: mostly valid (so that a whole input often passes the schema), sometimes hostile, sometimes absent. */
function field<T>(valid: fc.Arbitrary<T>): fc.Arbitrary<T | unknown> {
  return fc.oneof(
    { weight: 20, arbitrary: valid },
    { weight: 2, arbitrary: hostileLeaf },
    { weight: 1, arbitrary: fc.constant(ABSENT) },
  );
}

/** An object with hostile keys and values (the `input` of a start, the `answers` of a resume). */
const hostileRecord = fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), hostileString), hostileLeaf, {
  maxKeys: 4,
});

const uuid = fc.uuid().chain((id) => fc.constantFrom(id, id.toUpperCase()));

export interface Targets {
  /** graphs the worker knows */
  graphs: readonly string[];
  tenantId: string;
  /** execution ids a resume, cancel or retry may name in its body */
  executionIds: readonly string[];
}

export function startArbitrary(t: Targets): fc.Arbitrary<Record<string, unknown>> {
  return fc.record({
    executionId: field(uuid),
    graph: field(fc.constantFrom(...t.graphs)),
    tenantId: field(fc.constant(t.tenantId)),
    ticket: field(
      fc.record({
        key: field(fc.constantFrom('PROJ-1', 'proj_1', '../..')),
        system: field(fc.constant('local')),
        title: field(fc.string({ maxLength: 20 })),
        description: field(fc.string({ maxLength: 200 })),
        url: field(fc.webUrl()),
      }),
    ),
    repository: field(
      fc.record({
        url: field(
          fc.constantFrom(
            '/srv/git/repo',
            'https://example.com/org/repo.git',
            'git@example.com:org/repo.git',
          ),
        ),
        defaultBranch: field(fc.constantFrom('main', 'master')),
      }),
    ),
    priority: field(fc.integer({ min: 0, max: 100 })),
    input: field(hostileRecord),
  });
}

export function resumeArbitrary(t: Targets): fc.Arbitrary<Record<string, unknown>> {
  const envelope = {
    eventId: field(fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 20 }))),
    executionId: fc.oneof(
      { weight: 3, arbitrary: fc.constant(ABSENT) },
      { weight: 1, arbitrary: field(uuid) },
    ),
    tenantId: field(fc.constant(t.tenantId)),
  };
  return fc.oneof(
    fc.record({ ...envelope, type: field(fc.constant('answers_received')), answers: field(hostileRecord) }),
    fc.record({
      ...envelope,
      type: field(fc.constant('plan_approved')),
      approvedBy: field(fc.constant('ana')),
      comment: field(fc.string({ maxLength: 20 })),
    }),
    fc.record({
      ...envelope,
      type: field(fc.constant('plan_rejected')),
      rejectedBy: field(fc.constant('ana')),
      reason: field(fc.string({ maxLength: 20 })),
    }),
  );
}

export function cancelArbitrary(t: Targets): fc.Arbitrary<Record<string, unknown>> {
  return fc.record({
    executionId: fc.oneof(
      { weight: 3, arbitrary: fc.constant(ABSENT) },
      { weight: 1, arbitrary: field(uuid) },
    ),
    tenantId: field(fc.constant(t.tenantId)),
    reason: field(fc.string({ maxLength: 20 })),
  });
}

export const retryArbitrary = cancelArbitrary;

/** The execution a resume, cancel or retry is addressed to (its path or subject). */
export function targetArbitrary(t: Targets): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...t.executionIds) },
    { weight: 1, arbitrary: fc.constantFrom(...t.executionIds).map((id) => id.toUpperCase()) },
    { weight: 1, arbitrary: fc.uuid() },
  );
}

/** The seed of a property run: `FUZZ_SEED` to replay one, else a new one (printed by the test). */
export function fuzzSeed(): number {
  const given = Number(process.env.FUZZ_SEED);
  return Number.isInteger(given) ? given : Math.floor(Math.random() * 2 ** 31);
}
