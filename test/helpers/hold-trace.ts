/* A tracing process for the kill -9 test: attaches, says so, then waits to be killed. */
import { tracepoint } from "../../bpf-lib/src/index.js";

const trace = tracepoint("syscalls:sys_enter_getppid", { fields: [] }).start();
process.stdout.write(`attached ${trace.links.map((l) => l.fd).join(",")}\n`);
setInterval(() => {}, 1000);
