// Checks the public API of every entry point of the package against its committed
// report in etc/ (api-extractor), and that every public declaration is documented.
// With --update, writes the reports instead: run `npm run api` after a change to the
// public API, and commit the report with it.
import { readdirSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const etc = fileURLToPath(new URL('../etc/', import.meta.url));
const update = process.argv.includes('--update');
let failed = false;
const shown = (path) => relative(process.cwd(), path);

for (const file of readdirSync(etc).filter((name) => /^api-extractor\.(?!base\.).+\.json$/.test(name))) {
  const config = ExtractorConfig.loadFileAndPrepare(`${etc}${file}`);
  const result = Extractor.invoke(config, {
    localBuild: update,
    // Its progress notes are not news; its warnings and errors are.
    messageCallback: (message) => {
      if (message.logLevel === 'info' || message.logLevel === 'verbose') {
        message.handled = true;
      }
    },
  });
  const report = readFileSync(config.reportFilePath, 'utf8');
  const undocumented = report.split('\n').filter((line, index, lines) => line.includes('// (undocumented)') && lines[index + 1]);
  if (!result.succeeded) {
    failed = true;
    console.error(
      result.apiReportChanged
        ? `The public API of ${shown(config.mainEntryPointFilePath)} differs from ${shown(config.reportFilePath)}: if the change is meant, run \`npm run api\` and commit the report.`
        : `api-extractor found ${result.errorCount} error(s) in ${shown(config.mainEntryPointFilePath)}`,
    );
  } else if (undocumented.length > 0) {
    failed = true;
    console.error(`${shown(config.reportFilePath)} has ${undocumented.length} undocumented public declaration(s): give each a doc comment.`);
  }
}
process.exitCode = failed ? 1 : 0;
