/**
 * What a model is shown of the repository (ports.ts `RepositoryContext`): the file tree, the README, and the files
 * most relevant to the ticket with their text. Relevance is the overlap of a path's words with the ticket's words
 * (key, title, description; `darkMode` is two words), and a source directory adds a little; ties go to the
 * smaller file. The agent gathers generously — the adapter keeps what fits the tenant's `Llm.ContextTokens` — but
 * a file is read only while the total stays under {@link GATHER_LIMIT}, so a large repository is never read whole.
 */
import type { Ticket } from '../machines/domain.js';
import { clip, LIMITS } from './common.js';
import type { GitPort, RepositoryContext, Workspace } from './ports.js';

const README = /^readme(\.(md|markdown|txt|rst|adoc))?$/i;
/** Text a model can read; binaries, lock files and build output are not worth its context. */
const TEXT =
  /\.(ts|tsx|js|jsx|mjs|cjs|json|md|txt|py|rb|go|rs|java|kt|cs|php|c|h|cpp|hpp|css|scss|html|sql|ya?ml|toml|sh)$/i;
const NOISE =
  /(^|\/)(node_modules|dist|build|vendor|\.git)\/|(^|\/)(package-lock\.json|yarn\.lock|pnpm-lock\.yaml)$/;

/** Characters read from the repository in all, and from one file at most. */
export const GATHER_LIMIT = 400_000;
const FILE_LIMIT = 40_000;
const RELEVANT_FILES = 40;

function wordsOf(text: string): Set<string> {
  return new Set(
    text
      .replace(/([a-z])([A-Z])/g, '$1 $2')
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter((w) => w.length >= 3),
  );
}

/** The files worth showing for `ticket`, most relevant first. */
export function rankFiles(files: readonly { path: string; bytes: number }[], ticket: Ticket): string[] {
  const wanted = wordsOf(`${ticket.key} ${ticket.title} ${ticket.description}`);
  return files
    .filter((f) => TEXT.test(f.path) && !NOISE.test(f.path) && f.bytes > 0 && f.bytes <= FILE_LIMIT * 4)
    .map((f) => {
      let score = 0;
      for (const word of wordsOf(f.path)) if (wanted.has(word)) score += 3;
      if (/^(src|lib|app)\//.test(f.path)) score += 1;
      return { path: f.path, bytes: f.bytes, score };
    })
    .filter((f) => f.score > 0)
    .sort((a, b) => b.score - a.score || a.bytes - b.bytes || a.path.localeCompare(b.path))
    .slice(0, RELEVANT_FILES)
    .map((f) => f.path);
}

export async function repositoryContext(
  git: GitPort,
  workspace: Workspace,
  ticket: Ticket,
  signal: AbortSignal,
): Promise<RepositoryContext> {
  const files = await git.listFiles(workspace);
  const readmeFile = files.find((f) => README.test(f.path));
  const readme = readmeFile ? clip(await git.readFile(workspace, readmeFile.path), LIMITS.readme) : undefined;
  const relevant: RepositoryContext['relevant'] = [];
  let total = readme?.length ?? 0;
  for (const path of rankFiles(files, ticket)) {
    if (total >= GATHER_LIMIT) break;
    signal.throwIfAborted();
    const text = clip(await git.readFile(workspace, path), FILE_LIMIT);
    relevant.push({ path, text });
    total += text.length;
  }
  return { files: files.slice(0, LIMITS.listedFiles), ...(readme !== undefined && { readme }), relevant };
}
