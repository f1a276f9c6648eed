/**
 * The shape `migrate` relies on: one file per function under src/persistence/sql/, named after it, holding its
 * only definition in the source, a `CREATE OR REPLACE` of a `prfactory_` name.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type SqlFunction, sqlFunctions } from '../../../src/persistence/sql/index.js';

const src = fileURLToPath(new URL('../../../src/', import.meta.url));
const sqlDir = path.join(src, 'persistence', 'sql');

describe('the SQL functions', () => {
  it('are named once each, with the prefix every function of the schema that is the worker’s carries', () => {
    const names = sqlFunctions.map((fn) => fn.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^prfactory_[a-z0-9_]+$/);
  });

  it.each(sqlFunctions.map((fn) => [fn.name, fn] as const))(
    '%s is a CREATE OR REPLACE of itself',
    (name, fn) => {
      expect(fn.definition.trimStart().startsWith(`CREATE OR REPLACE FUNCTION ${name}(`)).toBe(true);
      for (const statement of fn.attach ?? [])
        expect(statement.trimStart()).toMatch(/^CREATE OR REPLACE TRIGGER /);
    },
  );

  it('live in a file each, named after the function', async () => {
    const files = readdirSync(sqlDir).filter((file) => file.endsWith('.ts') && file !== 'index.ts');
    expect(files.sort()).toEqual(sqlFunctions.map((fn) => `${fn.name}.ts`).sort());
    for (const file of files) {
      const exported = Object.values(await import(path.join(sqlDir, file))) as SqlFunction[];
      expect(exported.map((fn) => fn.name)).toEqual([file.replace(/\.ts$/, '')]);
    }
  });

  it('are defined nowhere else in the source', () => {
    const elsewhere = (readdirSync(src, { recursive: true }) as string[])
      .filter((file) => file.endsWith('.ts') && !file.startsWith(`persistence${path.sep}sql${path.sep}`))
      .filter((file) =>
        /CREATE\s+(OR\s+REPLACE\s+)?FUNCTION/i.test(readFileSync(path.join(src, file), 'utf8')),
      );
    expect(elsewhere).toEqual([]);
  });
});
