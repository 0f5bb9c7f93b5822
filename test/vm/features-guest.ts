/* The guest half of the feature pass (test/vm/features.ts): runs inside the Debian 6.1 VM,
 * in the same boot as test/vm/reads-guest.ts, and prints one `@@VMFEATURES <json>` line
 * with every feature's outcome, its time and the doctor's report. Not a test file itself. */
import { runFeatures } from "./features.js";

const r = await runFeatures();
console.log(`@@VMFEATURES ${JSON.stringify(r)}`);
process.exit(0);
