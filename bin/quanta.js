#!/usr/bin/env node
// Entry of the `quanta` command; the code is in electron/cli (built to dist/).
import { main } from "../dist/electron/cli/quanta.js";

await main(process.argv.slice(2));
