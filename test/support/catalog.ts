/**
 * A schema as PostgreSQL's catalogs describe it, one line per fact, sorted, with the schema's own name replaced
 * by `<schema>`: two schemas with the same lines have the same tables, columns (types, nullability, defaults),
 * constraints, indexes, triggers, sequences and functions (signature, return type, language, volatility, SET
 * clauses and body), whatever they are called. (Give schemas names that no function body contains as a word.)
 */
import { type Kysely, sql } from 'kysely';

export async function catalogOf(db: Kysely<unknown>, schema: string): Promise<string[]> {
  // With the schema alone on the search_path, the catalog functions name its objects without it, whatever the
  // connection's own search_path.
  const rows = await db.transaction().execute(async (trx) => {
    await sql`SELECT set_config('search_path', quote_ident(${schema}), true)`.execute(trx);
    return (await catalogQuery(schema).execute(trx)).rows;
  });
  return rows
    .map((row) => row.line.replaceAll(`"${schema}".`, '<schema>.').replaceAll(`${schema}.`, '<schema>.'))
    .sort();
}

function catalogQuery(schema: string) {
  return sql<{ line: string }>`
    WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = ${schema})
    SELECT format('relation %s kind %s', c.relname, c.relkind) AS line
    FROM pg_class AS c WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('r', 'p', 'v', 'm')
    UNION ALL
    -- the position among live columns: a dropped column leaves a gap in attnum that changes nothing
    SELECT format('column %s.%s #%s %s%s%s', c.relname, a.attname,
                  row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum), format_type(a.atttypid, a.atttypmod),
                  CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,
                  ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid))
    FROM pg_class AS c
    JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef AS d ON d.adrelid = c.oid AND d.adnum = a.attnum
    WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relkind IN ('r', 'p', 'v', 'm')
    UNION ALL
    SELECT format('constraint %s.%s %s', c.relname, k.conname, pg_get_constraintdef(k.oid))
    FROM pg_constraint AS k JOIN pg_class AS c ON c.oid = k.conrelid
    WHERE k.connamespace = (SELECT oid FROM ns)
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid)
    FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
    WHERE c.relnamespace = (SELECT oid FROM ns)
    UNION ALL
    SELECT format('function %s(%s) returns %s language %s volatility %s strict %s security definer %s config %s',
                  p.proname, pg_get_function_identity_arguments(p.oid), pg_get_function_result(p.oid), l.lanname,
                  p.provolatile, p.proisstrict, p.prosecdef, coalesce(p.proconfig::text, 'none'))
    FROM pg_proc AS p JOIN pg_language AS l ON l.oid = p.prolang
    WHERE p.pronamespace = (SELECT oid FROM ns)
    UNION ALL
    SELECT format('function %s body %s', p.proname, p.prosrc)
    FROM pg_proc AS p WHERE p.pronamespace = (SELECT oid FROM ns)
    UNION ALL
    -- internal triggers are the ones PostgreSQL makes for foreign keys, already described by their constraint
    SELECT format('trigger %s enabled %s', pg_get_triggerdef(t.oid), t.tgenabled)
    FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid
    WHERE c.relnamespace = (SELECT oid FROM ns) AND NOT t.tgisinternal
    UNION ALL
    SELECT format('sequence %s %s start %s step %s min %s max %s cache %s%s owned by %s', c.relname,
                  format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache,
                  CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END,
                  (SELECT t.relname || '.' || a.attname FROM pg_depend AS dep
                   JOIN pg_class AS t ON t.oid = dep.refobjid
                   JOIN pg_attribute AS a ON a.attrelid = dep.refobjid AND a.attnum = dep.refobjsubid
                   WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid
                     AND dep.refclassid = 'pg_class'::regclass AND dep.deptype IN ('a', 'i')))
    FROM pg_class AS c JOIN pg_sequence AS s ON s.seqrelid = c.oid
    WHERE c.relnamespace = (SELECT oid FROM ns)`;
}

/** The rows of `migrate`'s bookkeeping: which migrations are recorded, which functions from which text. */
export async function bookkeepingOf(db: Kysely<unknown>, schema: string): Promise<string[]> {
  const { rows } = await sql<{ line: string }>`
    SELECT 'migration ' || name AS line FROM ${sql.id(schema, 'schema_migrations')}
    UNION ALL
    SELECT format('function %s(%s) %s', name, signature, checksum) FROM ${sql.id(schema, 'schema_functions')}
    ORDER BY line`.execute(db);
  return rows.map((row) => row.line);
}
