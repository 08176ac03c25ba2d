// test/policies as one jest test file for mutant runs: see ../bundle.ts.
import { bundle } from "../bundle";

// pack.test.ts mocks @pulumi/policy (its own file); program-* run the whole program under mocks
bundle("test/policies", [/^pack\./, /^program-/]);
