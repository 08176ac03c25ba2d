// The renderers' and the access model's unit tests as one jest test file for mutant runs: see ../bundle.ts.
import { bundleFiles } from "../bundle";

bundleFiles(["test/unit/server/render.test.ts", "test/unit/server/pg-hba.test.ts", "test/unit/pooler/render.test.ts", "test/unit/apps/access-model.test.ts"]);
