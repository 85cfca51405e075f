import { existsSync, readFileSync } from 'node:fs';

// The package root is the nearest directory above this module with a package.json: one level
// up from dist/version.js and src/version.ts, two from the bundled chunk in dist/bundle/.
function packageJson(): URL {
  for (const up of ['../package.json', '../../package.json']) {
    const url = new URL(up, import.meta.url);
    if (existsSync(url)) return url;
  }
  throw new Error(`migdown: no package.json above ${import.meta.url}`);
}

export const MIGDOWN_VERSION: string = (JSON.parse(readFileSync(packageJson(), 'utf8')) as { version: string }).version;
