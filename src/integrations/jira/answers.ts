/**
 * The parts of Jira Cloud REST v3 answers the tracker relies on, as zod schemas: every other field is let
 * through unread (`looseObject`), since Jira adds fields over time and a site's answers carry custom ones.
 */
import { z } from 'zod';
import { adfDocSchema } from './adf.js';

/** `GET /rest/api/3/myself` */
export const myselfSchema = z.looseObject({
  accountId: z.string().min(1),
  displayName: z.string().optional(),
});

/** `GET /rest/api/3/issue/{key}?fields=summary,description,labels,status` */
export const issueSchema = z.looseObject({
  id: z.string(),
  key: z.string(),
  fields: z.looseObject({
    summary: z.string().nullish(),
    description: adfDocSchema.nullish(),
    labels: z.array(z.string()).nullish(),
    status: z.looseObject({ name: z.string() }).nullish(),
  }),
});

/** `GET /rest/api/3/issue/{key}?fields=description` */
export const descriptionSchema = z.looseObject({
  fields: z.looseObject({ description: adfDocSchema.nullish() }),
});

const propertySchema = z.looseObject({ key: z.string(), value: z.unknown() });

/**
 * A comment (`GET /rest/api/3/issue/{key}/comment/{id}`, an item of the lists). `created` is Jira's
 * `2024-03-01T10:15:30.123+0000`; `author` is absent for a comment whose account is gone.
 */
export const commentSchema = z.looseObject({
  id: z.string(),
  author: z.looseObject({ accountId: z.string(), displayName: z.string().optional() }).nullish(),
  body: adfDocSchema.nullish(),
  created: z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'must be a date'),
  properties: z.array(propertySchema).optional(),
});
export type JiraComment = z.output<typeof commentSchema>;

/** `GET /rest/api/3/issue/{key}/comment` (PageOfComments) */
export const commentPageSchema = z.looseObject({
  startAt: z.number().int().nonnegative(),
  maxResults: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  comments: z.array(commentSchema),
});

/** `POST /rest/api/3/comment/list?expand=properties` (PageBeanComment) */
export const commentListSchema = z.looseObject({
  values: z.array(commentSchema),
});

/** `POST /rest/api/3/issue/{key}/comment` → 201 */
export const createdCommentSchema = z.looseObject({ id: z.string() });
