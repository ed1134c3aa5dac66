// Owns what the one engine is generating now, as the core reports it to every tab: a
// conversation's reply (its id and title) or a request to the local API, and how many jobs
// wait. Talks to lib/api (getGenerationActivity, stopGenerationRequest) and to the core's
// "generation.activity" event; the chat store refreshes it on (re)connect.

import { api, onCoreEvent, type GenerationActivity } from "../api/index.js";
import { notices } from "./notices.svelte.js";

/** A job on the engine, as a busy notice or the busy line names it. */
export type BusyOwner = NonNullable<GenerationActivity["running"]>;

class ActivityStore {
  running = $state.raw<BusyOwner | null>(null);
  waiting = $state(0);

  constructor() {
    onCoreEvent((event) => {
      if (event.type === "generation.activity") this.#set(event.activity);
    });
  }

  async refresh(): Promise<void> {
    this.#set(await api.getGenerationActivity());
  }

  /** Stops that job (by its request id: a job that has ended meanwhile is left alone), from any tab. */
  async stop(requestId: string): Promise<void> {
    try {
      await api.stopGenerationRequest({ requestId });
    } catch (error) {
      notices.report(error);
    }
  }

  #set(activity: GenerationActivity): void {
    this.running = activity.running;
    this.waiting = activity.waiting;
  }
}

export const activity = new ActivityStore();
