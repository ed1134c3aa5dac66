// Vite bundles stylesheets imported from modules (uPlot's own CSS); they export nothing.
declare module "*.css" {}
