// Short versions of the fault suite's loops (`npm run soak` runs them at full length): each
// must pass at a few iterations, so a regression shows in `npm test` and not only in a soak.

import { describe, expect, it } from "vitest";
import { coreKills } from "../soak/core-kills.js";
import { engineKills } from "../soak/engine-kills.js";
import { fullDisk } from "../soak/full-disk.js";
import { twoClients } from "../soak/two-clients.js";
import type { SoakResult } from "../soak/soak-loop.js";

function report(result: SoakResult): SoakResult {
  console.log(`${result.name}: ${JSON.stringify(result.figures)}`);
  return result;
}

// Each loop starts a core and an engine (and restarts them): minutes on a loaded 2-core machine.
const LOOP_TIMEOUT_MS = 600_000;

describe("the fault suite, short", () => {
  // Fails until the fix of the race between a reply's final save and the next send (the
  // generation queue, chat-replies.ts) is merged: the conversation forks.
  it(
    "two clients sending to one conversation for 8 s: no fork, nothing lost",
    async () => {
      const result = report(await twoClients({ iterations: 8 }));
      expect(result.figures).toMatchObject({ forks: 0, lost: 0 });
      expect(result.ok).toBe(true);
    },
    LOOP_TIMEOUT_MS,
  );

  it(
    "the engine killed at random points of 3 replies: partial replies saved as failed, the next message works",
    async () => {
      const result = report(await engineKills({ iterations: 3 }));
      expect(result.figures).toMatchObject({ lost: 0, "core down": 0, "next message": "whole reply" });
      expect(result.ok).toBe(true);
    },
    LOOP_TIMEOUT_MS,
  );

  it(
    "the core killed 3 times during replies and sends: every message reported saved is there",
    async () => {
      const result = report(await coreKills({ iterations: 3 }));
      expect(result.figures).toMatchObject({ lost: 0 });
      expect(result.ok).toBe(true);
    },
    LOOP_TIMEOUT_MS,
  );

  // A reply whose final save failed must say failed, not complete as well: that fix comes
  // with the same change as the one above (chat-replies.ts); until it is merged this fails
  // whenever a reply's final save is the one the full disk refuses.
  it(
    "a data folder on a full disk: clear errors, nothing reported saved is lost, no phantom conversation",
    async (context) => {
      const result = report(await fullDisk({ iterations: 10 }));
      if (typeof result.figures.skipped === "string") return context.skip();
      expect(result.figures).toMatchObject({
        lost: 0,
        "phantom conversations": 0,
        "unclear errors": 0,
        "replies both complete and unsaved": 0,
      });
      expect(result.ok).toBe(true);
    },
    LOOP_TIMEOUT_MS,
  );
});
