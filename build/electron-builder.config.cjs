// Packaging for the desktop app (`npm run dist`). CommonJS because the package is an ES
// module package and electron-builder loads this file with require().
// Ships only the compiled app, the built renderer and resources, plus node-llama-cpp with the
// native binaries for the platform being built (kept out of the asar archive, since native
// libraries cannot be loaded from inside it). Fuses lock down the packaged Electron binary.

// @ts-check

/** @type {import("electron-builder").Configuration} */
const config = {
  appId: "dev.quanta.app",
  productName: "Quanta",
  executableName: "quanta",
  // Relative to the project root, not to this file.
  directories: { output: "release", buildResources: "build" },
  asar: true,
  files: [
    "dist/electron/**",
    "!dist/electron/**/*.map",
    "!dist/electron/**/*.d.ts",
    "!dist/electron/**/*.d.cts",
    "dist/renderer/**",
    "!dist/renderer/**/*.map",
    "package.json",
    "resources/**",
    // Native binaries for this platform and arch only (the ones node-llama-cpp can load here):
    // the binary packages (@node-llama-cpp/linux-x64, linux-x64-cuda, mac-arm64-metal,
    // win-x64-vulkan...) and node-llama-cpp's own bins and local builds. ${os} is linux, mac
    // or win, as in their names. Exclusions only: for node_modules electron-builder applies
    // just the "!" patterns of this list, so "drop all, re-include one" would drop all.
    "!node_modules/@node-llama-cpp/!(${os}-${arch}|${os}-${arch}-*){,/**}",
    "!node_modules/node-llama-cpp/bins/!(${os}-${arch}|${os}-${arch}-*){,/**}",
    "!node_modules/node-llama-cpp/llama/localBuilds/!(${os}-${arch}|${os}-${arch}-*){,/**}",
  ],
  asarUnpack: ["node_modules/node-llama-cpp/**", "node_modules/@node-llama-cpp/**"],
  // node-llama-cpp ships prebuilt binaries; rebuilding them against Electron's headers is
  // neither needed (they are N-API) nor possible without a compiler toolchain.
  npmRebuild: false,
  electronFuses: {
    runAsNode: false,
    enableCookieEncryption: true,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    // The app is served from app://, never file://.
    grantFileProtocolExtraPrivileges: false,
  },
  linux: {
    target: ["AppImage", "deb"],
    category: "Utility",
    artifactName: "${productName}-${version}-${arch}.${ext}",
  },
  mac: {
    target: ["dmg"],
    category: "public.app-category.developer-tools",
    artifactName: "${productName}-${version}-${arch}.${ext}",
  },
  win: {
    target: ["nsis"],
    artifactName: "${productName}-Setup-${version}-${arch}.${ext}",
  },
  nsis: {
    oneClick: false,
    perMachine: false,
    allowToChangeInstallationDirectory: true,
  },
};

module.exports = config;
