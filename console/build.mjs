// Bundles the console: src/app.js and what it imports (Chart.js among them) into dist/app.js and dist/app.css.
// Run by the function app's build (Lepton.Functions.csproj) and by `npm run build:console`.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
await build({
  entryPoints: [`${root}src/app.js`],
  outdir: `${root}dist`,
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'esm',
  target: 'es2022',
  logLevel: 'warning',
});
