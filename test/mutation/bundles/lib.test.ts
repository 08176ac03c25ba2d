// test/unit/lib as one jest test file for mutant runs: see ../bundle.ts.
import { bundle } from "../bundle";

bundle("test/unit/lib");
