/** `bin/bifrost.js` entry: run the command line (src/cli/program.ts) and exit with its code. */
import { main } from "./program.js";

const code = await main();
// Exit explicitly: a workflow may leave timers or sockets open; stdout/stderr writes to pipes and files are synchronous.
process.exitCode = code;
process.stdout.write("", () => process.exit(code));
