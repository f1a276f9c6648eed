/** The configuration table of docs/operations.md, printed from the schema so that defaults are written once. */
import { CODING_AGENT_DEFAULTS, codingAgentSchema, LLM_DEFAULTS, llmSchema } from './agentSettings.js';
import { configSchema } from './config.js';
import { shapeOf } from './configSources.js';
import { GITHUB_DEFAULTS, githubSchema, JIRA_DEFAULTS, jiraSchema } from './trackerSettings.js';

/** The default as written (before transforms): `"00:15:00"`, not 900000. */
function defaultOf(schema: unknown): unknown {
  let current = schema as {
    def?: { type?: string; defaultValue?: unknown; innerType?: unknown; in?: unknown };
  };
  for (let i = 0; i < 6 && current?.def; i++) {
    const { def } = current;
    if ((def.type === 'default' || def.type === 'prefault') && 'defaultValue' in def) {
      const value = def.defaultValue;
      return typeof value === 'function' ? (value as () => unknown)() : value;
    }
    current = (def.innerType ?? def.in) as typeof current;
  }
  return undefined;
}

/** A key's description; `.partial()` wraps each key in an optional that does not carry it. */
function descriptionOf(schema: unknown): string {
  const key = schema as { description?: string; def?: { innerType?: { description?: string } } };
  return key.description ?? key.def?.innerType?.description ?? '';
}

/** Rows of the configuration table in docs/operations.md, printed from the schema: defaults written once. */
export function describeConfig(): { key: string; default: string; description: string }[] {
  const rows: { key: string; default: string; description: string }[] = [];
  for (const [section, sectionSchema] of Object.entries(configSchema.shape)) {
    const shape = shapeOf(sectionSchema);
    if (!shape) continue;
    for (const [key, schema] of Object.entries(shape)) {
      const description = (schema as { description?: string }).description ?? '';
      rows.push({
        key: `${section}.${key}`,
        default: JSON.stringify(defaultOf(schema) ?? null),
        description,
      });
    }
  }
  rows.push(
    {
      key: 'Tenants.<tenantId>.AutoImplementAfterPlanApproval',
      default: 'true',
      description:
        'false: the implementation graph ends in its final state `skipped`; Tenants.default applies to all',
    },
    {
      key: 'Tenants.<tenantId>.ApiToken',
      default: 'null',
      description:
        'Bearer token of this tenant: it sees and acts on this tenant’s executions only; never inherited from Tenants.default, and distinct from every other token',
    },
    {
      key: 'Tenants.<tenantId>.ApiTokenFile',
      default: 'null',
      description: 'path of a file holding Tenants.<tenantId>.ApiToken (its trailing newline ignored)',
    },
  );
  for (const [section, schema, defaults] of [
    ['Llm', llmSchema, LLM_DEFAULTS],
    ['CodingAgent', codingAgentSchema, CODING_AGENT_DEFAULTS],
    ['GitHub', githubSchema, GITHUB_DEFAULTS],
    ['Jira', jiraSchema, JIRA_DEFAULTS],
  ] as const) {
    for (const [key, keySchema] of Object.entries(schema.shape)) {
      rows.push({
        key: `Tenants.<tenantId>.${section}.${key}`,
        default: JSON.stringify(defaults[key as keyof typeof defaults]),
        description: descriptionOf(keySchema),
      });
    }
  }
  return rows;
}
