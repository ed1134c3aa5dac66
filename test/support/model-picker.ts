// Chooses a model in the header's "Model" picker as a person does: choosing a model loads it;
// the one already chosen (at start, or after an eject) is loaded with "Load model".

import type { Page } from "playwright-core";

export async function chooseModel(page: Page, fileStem: string): Promise<void> {
  const picker = page.getByRole("combobox", { name: "Model" });
  const option = picker.getByRole("option", { name: new RegExp(`^${fileStem} `) });
  const value = await option.getAttribute("value");
  if (value !== null && (await picker.inputValue()) === value) {
    await page.getByRole("button", { name: "Load model" }).click();
    return;
  }
  await picker.selectOption({ label: (await option.textContent())?.trim() ?? "" });
}

/** Chooses a model and waits until the engine status says it is ready (a first load calibrates threads: minutes at most). */
export async function loadModelAndWait(page: Page, fileStem: string): Promise<void> {
  await chooseModel(page, fileStem);
  const status = page.getByRole("status", { name: "Engine status" });
  const deadline = Date.now() + 180_000;
  const ready = new RegExp(`^ready .*${fileStem} `);
  while (!ready.test(`${await status.getAttribute("data-state")} ${await status.textContent()}`)) {
    if (Date.now() > deadline) throw new Error(`${fileStem} was not ready within 180 s`);
    await page.waitForTimeout(250);
  }
}
