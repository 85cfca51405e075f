// The output formats, apart from their renderers (results.ts): a command declares its --format
// choices without loading every renderer before its first trial.

export const FORMATS = ['table', 'mail', 'markdown', 'csv', 'json'] as const;
export type Format = (typeof FORMATS)[number];
