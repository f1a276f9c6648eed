/**
 * Where configuration values come from, before the schema validates them: JSON files merged in order, and the
 * environment, whose `Section__Key` variable names are matched to the schema's keys case-insensitively.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './configError.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** The shapes of the configuration's root object and of a tenant's settings (below `Tenants.<id>`). */
export interface Schemas {
  root: Record<string, unknown>;
  tenant: Record<string, unknown>;
}

export function readJsonFile(file: string): JsonObject {
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(path.basename(file), `is not valid JSON (${(error as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(path.basename(file), 'must hold a JSON object');
  }
  return parsed as JsonObject;
}

export function isObject(value: unknown): value is JsonObject {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

export function merge(target: JsonObject, source: JsonObject): JsonObject {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    target[key] = isObject(existing) && isObject(value) ? merge({ ...existing }, value) : value;
  }
  return target;
}

/** Finds the schema's spelling of a key case-insensitively, as .NET configuration does. */
function canonicalKey(shape: Record<string, unknown> | undefined, key: string): string {
  if (!shape) return key;
  return Object.keys(shape).find((k) => k.toLowerCase() === key.toLowerCase()) ?? key;
}

export function shapeOf(schema: unknown): Record<string, unknown> | undefined {
  let current = schema as { def?: { type?: string; innerType?: unknown; shape?: Record<string, unknown> } };
  // unwrap .default() / .optional() wrappers down to the object
  for (let i = 0; i < 5 && current?.def && current.def.type !== 'object'; i++) {
    current = current.def.innerType as typeof current;
  }
  return current?.def?.type === 'object' ? current.def.shape : undefined;
}

/** True when `schema` (under its default/optional wrappers and preprocessing) is an array. */
function isArraySchema(schema: unknown): boolean {
  let current = schema as { def?: { type?: string; innerType?: unknown; out?: unknown } } | undefined;
  for (let i = 0; i < 6 && current?.def; i++) {
    if (current.def.type === 'array') return true;
    current = (current.def.type === 'pipe' ? current.def.out : current.def.innerType) as typeof current;
  }
  return false;
}

/**
 * The configuration the environment names: `Section__Key=value`, case-insensitive. A list key takes its items
 * as `Key__0`, `Key__1`… (ordered by index, gaps closed, as .NET configuration binds them) or, as one variable,
 * a JSON array (parsed by the key's schema: configValues.ts `stringList`).
 */
export function fromEnvironment(env: NodeJS.ProcessEnv, schemas: Schemas): JsonObject {
  const result: JsonObject = {};
  /** list items by index, turned into arrays once every variable is read */
  const lists: { parent: JsonObject; key: string; items: Map<number, string> }[] = [];
  const set = (keyPath: string[], value: string) => {
    let node = result;
    let shape: Record<string, unknown> | undefined = schemas.root;
    const inTenants = canonicalKey(schemas.root, keyPath[0] ?? '') === 'Tenants';
    for (let index = 0; index < keyPath.length; index++) {
      const key = canonicalKey(shape, keyPath[index] ?? '');
      const child: unknown = shape?.[key];
      if (index === keyPath.length - 1) {
        node[key] = value;
        return;
      }
      const item = keyPath[index + 1] ?? '';
      if (index === keyPath.length - 2 && isArraySchema(child) && /^\d{1,6}$/.test(item)) {
        let list = lists.find((l) => l.parent === node && l.key === key);
        if (!list) {
          list = { parent: node, key, items: new Map() };
          lists.push(list);
        }
        list.items.set(Number(item), value);
        return;
      }
      // Below Tenants the tenant id is kept as written; the keys under it are a tenant's settings.
      shape = inTenants && index === 1 ? schemas.tenant : shapeOf(child);
      if (!isObject(node[key])) node[key] = {};
      node = node[key] as JsonObject;
    }
  };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.includes('__')) continue;
    const keyPath = name.split('__');
    const top = canonicalKey(schemas.root, keyPath[0] ?? '');
    if (top in schemas.root) set(keyPath, value);
  }
  for (const { parent, key, items } of lists) {
    parent[key] = [...items.entries()].sort(([a], [b]) => a - b).map(([, value]) => value);
  }
  if (env.DATABASE_URL) set(['Database', 'Url'], env.DATABASE_URL);
  if (env.NATS_URL) set(['Nats', 'Url'], env.NATS_URL);
  if (env.LOG_LEVEL) set(['Logging', 'Level'], env.LOG_LEVEL);
  return result;
}

export function reportUnknownKeys(
  raw: JsonObject,
  shape: Record<string, unknown>,
  prefix: string,
  report: (k: string) => void,
  tenantShape: Record<string, unknown>,
) {
  for (const [key, value] of Object.entries(raw)) {
    if (prefix === '' && key === 'Tenants') {
      for (const [tenantId, settings] of Object.entries(isObject(value) ? value : {})) {
        if (isObject(settings))
          reportUnknownKeys(settings, tenantShape, `Tenants.${tenantId}.`, report, tenantShape);
      }
      continue;
    }
    const child = shape[key];
    if (child === undefined) report(prefix + key);
    else {
      const childShape = shapeOf(child);
      if (childShape && isObject(value)) {
        reportUnknownKeys(value, childShape, `${prefix + key}.`, report, tenantShape);
      }
    }
  }
}
