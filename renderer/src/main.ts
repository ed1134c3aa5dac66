// Entry point: mounts the app, then opens the connection to the core (the stores have
// subscribed to its events by then, so nothing sent on connect is missed).

import { mount } from "svelte";
import App from "./App.svelte";
import { app } from "./lib/stores/app.svelte.js";

const target = document.getElementById("app");
if (!target) throw new Error("index.html has no #app element");

mount(App, { target });
app.start();
