// `npm run docs`: rewrites the generated blocks of the documentation (the README's
// config reference) from the code that defines them. A unit test fails when a
// committed block differs from what this would write.
import * as fs from "fs";
import * as path from "path";
import { replaceReference } from "../components/config/reference";

const readme = path.join(__dirname, "..", "README.md");
const before = fs.readFileSync(readme, "utf8");
const after = replaceReference(before);
if (after !== before) fs.writeFileSync(readme, after);
console.log(after === before ? "README.md: config reference up to date" : "README.md: config reference rewritten");
