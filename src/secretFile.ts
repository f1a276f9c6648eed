/** Secrets given as files (a mounted secret): `Http.ApiTokenFile`, `Tenants.<id>.Llm.ApiKeyFile`, … */
import { readFileSync } from 'node:fs';
import { ConfigError } from './configError.js';

/**
 * The secret in `file`: its content without the trailing newline (and any other trailing whitespace) that editors
 * and `echo` add. An error names the key and the path, never the content.
 */
export function readSecretFile(key: string, file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(key, `cannot read the file ${file} (${reason})`);
  }
  const secret = text.replace(/\s+$/, '');
  if (secret === '') throw new ConfigError(key, `the file ${file} is empty`);
  return secret;
}
