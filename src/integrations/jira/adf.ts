/**
 * The Atlassian Document Format (ADF) as the worker handles it: Jira Cloud's REST v3 stores comment bodies and
 * issue descriptions as `{ type: 'doc', version: 1, content: [...] }` (developer.atlassian.com, "Atlassian
 * Document Format"). The worker writes Markdown; markdownToAdf.ts and adfToMarkdown.ts convert both ways.
 *
 * The schema here is lenient on purpose: it reads what Jira answers, and Jira's documents hold many node types
 * (panels, media, status lozenges, layouts…) that the worker only needs to read the text of. What the worker
 * writes is built by markdownToAdf.ts, which keeps to the nodes and nesting the real schema allows.
 */
import { z } from 'zod';

export interface AdfMark {
  type: string;
  attrs?: Record<string, unknown> | undefined;
}

export interface AdfNode {
  type: string;
  attrs?: Record<string, unknown> | undefined;
  content?: AdfNode[] | undefined;
  /** text nodes only; never empty in a valid document */
  text?: string | undefined;
  marks?: AdfMark[] | undefined;
}

export interface AdfDoc {
  type: 'doc';
  version: 1;
  content: AdfNode[];
}

const attrs = z.record(z.string(), z.unknown());
const markSchema = z.looseObject({ type: z.string(), attrs: attrs.optional() });

export const adfNodeSchema: z.ZodType<AdfNode> = z.lazy(() =>
  z.looseObject({
    type: z.string(),
    attrs: attrs.nullish().transform((v) => v ?? undefined),
    content: z
      .array(adfNodeSchema)
      .nullish()
      .transform((v) => v ?? undefined),
    text: z.string().optional(),
    marks: z.array(markSchema).optional(),
  }),
);

/** A whole document as Jira answers it (the version is not checked: there has only ever been 1). */
export const adfDocSchema: z.ZodType<AdfDoc> = z.looseObject({
  type: z.literal('doc'),
  version: z.number().transform((): 1 => 1),
  content: z.array(adfNodeSchema),
});

/** A paragraph with nothing in it: what ADF uses where a block is required but there is no text. */
export function emptyParagraph(): AdfNode {
  return { type: 'paragraph', content: [] };
}

export function doc(content: AdfNode[]): AdfDoc {
  return { type: 'doc', version: 1, content };
}
