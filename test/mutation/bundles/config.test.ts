// test/unit/config as one jest test file for mutant runs: see ../bundle.ts.
import { bundle } from "../bundle";

// classes-program runs the whole program under mocks: left out of the mutation set
bundle("test/unit/config", [/^classes-program\./]);
