// The short run of the malformed-RPC fault loop (`npm run soak` runs 10,000 messages).

import { expect, it } from "vitest";
import { runRpcFuzz } from "../soak/rpc-fuzz.js";

it("answers 400 malformed RPC messages with an error or a closed connection; the core stays up with bounded memory", async () => {
  const result = await runRpcFuzz({ iterations: 400 });
  console.log(result.name, result.figures);
  expect(result.figures["wrong or no answer"]).toBe(0);
  expect(result.figures["core exits"]).toBe(0);
  expect(result.ok).toBe(true);
});
