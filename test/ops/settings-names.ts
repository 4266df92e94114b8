import { readFileSync } from 'node:fs';

/** Variables the AWS SDK reads for STORAGE=s3 (its default credential chain), not settings of i2v's own. */
const AWS_SDK_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];

/**
 * The names of every setting i2v reads: the keys of the zod schema in
 * src/shared/infra/config.ts (read from its source, since the schema is not
 * exported), and the AWS SDK's credentials.
 */
export function settingNames(): Set<string> {
  const source = readFileSync(new URL('../../src/shared/infra/config.ts', import.meta.url), 'utf8');
  const body = /const schema = z\.object\(\{\n([\s\S]*?)\n\}\);/.exec(source)?.[1];
  if (!body) throw new Error('the settings schema (const schema = z.object({ … });) was not found in config.ts');
  const names = [...body.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((match) => match[1] as string);
  return new Set([...names, ...AWS_SDK_VARIABLES]);
}
