// `npm run docs`: rewrites the generated blocks of the documentation (the README's
// config reference) from the code that defines them. A unit test fails when a
// committed block differs from what this would write.
import * as fs from "fs";
import * as path from "path";
import { withJobsTable } from "../components/config/backup-jobs";
import { replaceReference } from "../components/config/reference";

const generated: [string, (text: string) => string][] = [
  ["README.md", replaceReference], // the config reference
  ["docs/backup.md", withJobsTable], // the backup jobs
];
for (const [file, render] of generated) {
  const p = path.join(__dirname, "..", file);
  const before = fs.readFileSync(p, "utf8");
  const after = render(before);
  if (after !== before) fs.writeFileSync(p, after);
  console.log(`${file}: ${after === before ? "up to date" : "rewritten"}`);
}
