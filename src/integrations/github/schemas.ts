/**
 * The parts of GitHub's REST answers the adapters rely on, checked with zod (docs.github.com, API version
 * 2022-11-28). Unknown fields pass; a missing or mistyped field the adapters need is a permanent failure naming
 * the operation ({@link parseAnswer}) — a misconfigured `ApiUrl` answering something else, not a passing fault.
 */
import { z } from 'zod';
import { PermanentFailure } from '../../actors/failures.js';
import { githubAssociations } from '../../trackerSettings.js';

export const userSchema = z.object({
  login: z.string().min(1),
  /** `User`, `Bot` or `Organization` */
  type: z.string().default('User'),
});

export const appSchema = z.object({ slug: z.string().min(1) });

export const issueSchema = z.object({
  number: z.number().int().positive(),
  title: z.string(),
  body: z.string().nullish(),
  html_url: z.string(),
  labels: z
    .array(z.union([z.string(), z.object({ name: z.string().nullish() })]))
    .transform((labels) => labels.flatMap((l) => (typeof l === 'string' ? [l] : l.name ? [l.name] : []))),
  /** present when the issue is a pull request (every pull request is also an issue) */
  pull_request: z.unknown().optional(),
});

export const issueCommentSchema = z.object({
  id: z.number().int().positive(),
  body: z.string().nullish(),
  /** null for a deleted account */
  user: userSchema.nullable(),
  /**
   * An association GitHub adds later reads as `NONE`: it is heard only where `NONE` is allowed, never more than
   * the operator configured.
   */
  author_association: z.enum(githubAssociations).catch('NONE'),
  created_at: z.string(),
  /** `https://api.github.com/repos/<owner>/<repo>/issues/<number>` */
  issue_url: z.string(),
});
export type IssueComment = z.output<typeof issueCommentSchema>;

export const pullSchema = z.object({
  number: z.number().int().positive(),
  html_url: z.string(),
  state: z.string(),
  head: z.object({ ref: z.string() }),
});

/** `answer` checked against `schema`; a {@link PermanentFailure} naming `operation` and the first problem. */
export function parseAnswer<S extends z.ZodType>(schema: S, answer: unknown, operation: string): z.output<S> {
  const parsed = schema.safeParse(answer);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
  throw new PermanentFailure(
    `GitHub answered ${operation} in an unexpected shape${where}: ${issue?.message ?? 'invalid'}`,
  );
}
