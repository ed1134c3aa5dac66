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
