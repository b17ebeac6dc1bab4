// A node:test reporter that prints, once the run ends, the test files that took longest (the sum of
// their top-level tests). The whole suite has a time budget in CI; this shows where the time goes.
const SHOWN = 15;

export default async function* slowestFiles(source) {
  const byFile = new Map();
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { file, nesting, details } = event.data;
    if (nesting !== 0 || !file) continue;
    byFile.set(file, (byFile.get(file) ?? 0) + (details?.duration_ms ?? 0));
  }
  const slowest = [...byFile].sort((a, b) => b[1] - a[1]).slice(0, SHOWN);
  const root = `${process.cwd()}/`;
  yield `\nslowest test files (seconds, top-level tests summed):\n`;
  for (const [file, ms] of slowest) yield `${(ms / 1000).toFixed(1).padStart(8)}  ${file.replace(root, '')}\n`;
}
