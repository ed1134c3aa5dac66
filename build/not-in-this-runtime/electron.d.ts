// Stands in for "electron" in tsconfig projects that may not use it: only the Electron shell (electron/main)
// imports it, so here any import of its names fails to type-check (see docs/ARCHITECTURE.md,
// "Boundaries"). Mapped through "paths" in the projects' tsconfig.json.
export {};
